"""`python -m daemon` runs the tonghop command line (the same as the `tonghop` script)."""
import sys

from daemon.cli import main

sys.exit(main())
