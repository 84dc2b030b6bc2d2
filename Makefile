# tonghop: `make demo` shows the whole thing on a local Maildir; `make test` runs every test
# against real servers (Dovecot, aiosmtpd) and real office files (LibreOffice).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet --disable-pip-version-check
# Every dependency, the test tools included, at the exact version and hash the suite was run with:
# a new release upstream cannot change what the tests see. pyproject.toml keeps the ranges for
# people who install tonghop as a package; `make lock` re-resolves them into this file.
LOCK := requirements-lock.txt

.PHONY: test demo install servers bench clean lock

# Reinstall when the lock or pyproject.toml changes; the stamp keeps repeated runs fast.
$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r $(LOCK)
	$(PIP) install --no-deps -e .
	touch $@

install: $(VENV)/.installed

# uv resolves in a second and writes one lock for every platform and Python >= 3.11 (--universal);
# pip-tools would resolve by installing into this machine's Python. Only the lock's author needs uv:
# installing from the lock is plain pip.
lock: install
	$(PIP) install uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet -o $(LOCK)

# The system programs the tests use: installed with apt-get when root, else a clear message.
servers:
	@bash scripts/ensure-system-packages

test: install servers
	$(VENV)/bin/pytest -q

demo: install
	$(VENV)/bin/tonghop demo

clean:
	rm -rf $(VENV) demo-run .pytest_cache
