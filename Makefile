# tonghop: `make demo` shows the whole thing on a local Maildir; `make test` runs every test
# against real servers (Dovecot, aiosmtpd) and real office files (LibreOffice).
#
# Two installs: `make dev` (what demo and test use) is this checkout in ./.venv, editable, with the
# test tools; `make install` is the service for production: a wheel (not editable, no test tools)
# in $(PREFIX)/.venv, from the production lock.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet --disable-pip-version-check
PREFIX ?= /opt/tonghop
# Every dependency at the exact version and hash the suite was run with: a new release upstream
# cannot change what the tests see. pyproject.toml keeps the ranges for people who install tonghop
# as a package; `make lock` re-resolves them into both files. LOCK has the test tools, PROD_LOCK not.
LOCK := requirements-lock.txt
PROD_LOCK := requirements.txt

.PHONY: test demo dev install servers bench clean lock wheel

# Reinstall when the lock or pyproject.toml changes; the stamp keeps repeated runs fast.
$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r $(LOCK)
	$(PIP) install --no-deps -e .
	touch $@

dev: $(VENV)/.installed

# The wheel carries config/ and templates/ as package data (`tonghop init DIR` copies them).
wheel: dev
	rm -rf dist && $(PIP) wheel --no-deps -w dist .

install: wheel
	test -x $(PREFIX)/.venv/bin/python || $(PYTHON) -m venv $(PREFIX)/.venv
	$(PREFIX)/.venv/bin/python -m pip install --quiet --require-hashes -r $(PROD_LOCK)
	$(PREFIX)/.venv/bin/python -m pip install --quiet --no-deps --force-reinstall dist/tonghop-*.whl
	@echo "Đã cài tonghop vào $(PREFIX)/.venv; tạo cấu hình: $(PREFIX)/.venv/bin/tonghop init /etc/tonghop-moi"

# uv resolves in a second and writes one lock for every platform and Python >= 3.11 (--universal);
# pip-tools would resolve by installing into this machine's Python. Only the lock's author needs uv:
# installing from the lock is plain pip.
lock: dev
	$(PIP) install uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet -o $(LOCK)
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet -c $(LOCK) -o $(PROD_LOCK)  # the same versions, fewer packages

# The system programs the tests use: installed with apt-get when root, else a clear message.
servers:
	@bash scripts/ensure-system-packages

test: dev servers
	$(VENV)/bin/pytest -q

demo: dev
	$(VENV)/bin/tonghop demo

clean:
	rm -rf $(VENV) demo-run .pytest_cache dist build
