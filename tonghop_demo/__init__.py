"""`tonghop demo` and the sample documents (the demo's story, the tests' fixtures).

Outside the service's import path: daemon/ never imports this package, except the CLI's
`demo` command, which loads it only when it is run."""
