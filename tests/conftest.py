"""Shared fixtures. Real servers live in tests/servers.py; fixtures here only start and stop them."""
from __future__ import annotations

import pytest

from servers import Dovecot, ImapAccount, SmtpSink


@pytest.fixture(scope="session")
def dovecot_server():
    """One private Dovecot for the whole run (starting one takes a fraction of a second, but
    tests stay isolated through a fresh user each, see imap_account)."""
    server = Dovecot()
    server.start()
    yield server
    server.close()


@pytest.fixture
def imap_account(dovecot_server) -> ImapAccount:
    """A fresh user with an empty mailbox on the running Dovecot (restarted if a test left it
    stopped)."""
    if not dovecot_server.running:
        dovecot_server.start()
    user, password = dovecot_server.new_user()
    return ImapAccount(dovecot_server, user, password)


@pytest.fixture
def smtp_sink():
    """An SMTP server on loopback; received mail is in smtp_sink.messages."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()
