# tonghop: `make demo` shows the whole thing on a local Maildir; `make test` runs every test
# against real servers (Dovecot, aiosmtpd) and real office files (LibreOffice).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: test demo install servers bench clean

# Reinstall when pyproject.toml changes; the stamp keeps repeated runs fast.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The system programs the tests use: installed with apt-get when root, else a clear message.
servers:
	@bash scripts/ensure-system-packages

test: install servers
	$(VENV)/bin/pytest -q

demo: install
	$(VENV)/bin/tonghop demo

clean:
	rm -rf $(VENV) demo-run .pytest_cache
