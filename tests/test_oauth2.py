"""OAuth2 (SASL XOAUTH2) for the mailbox and for sending: tokens from a command or a file, reused
until they expire, fetched again when the server refuses one. Against a real Dovecot whose oauth2
passdb checks each token at a local RFC 7662 introspection endpoint, and an SMTP server that
speaks XOAUTH2 as Gmail and Microsoft 365 do (error JSON in a 334, then 535)."""
from __future__ import annotations

import json
import sys
import threading
from dataclasses import replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from daemon.config import ConfigError, OAuth2Settings
from daemon.config_toml import load_config
from daemon.intake.mailbox import ImapSource, MailboxError
from daemon.oauth2 import OAuth2Error, TokenSource, parse_token, xoauth2
from daemon.outgoing.smtp import DeliveryError, Sender
from servers import LOOPBACK, Dovecot, SmtpSink
from service import Daemon, make_config


def counter_command(tmp_path: Path, tokens: list[str]) -> str:
    """A token command that prints the next of `tokens` each time it runs (the last one forever)."""
    state = tmp_path / "calls"
    script = tmp_path / "token.py"
    script.write_text(
        "import json, pathlib, sys\n"
        f"state = pathlib.Path({str(state)!r})\n"
        "n = int(state.read_text()) if state.exists() else 0\n"
        "state.write_text(str(n + 1))\n"
        f"tokens = {tokens!r}\n"
        "print(json.dumps({'access_token': tokens[min(n, len(tokens) - 1)], 'expires_in': 3599}))\n",
        encoding="utf-8",
    )
    return f"{sys.executable} {script}"


def calls(tmp_path: Path) -> int:
    return int((tmp_path / "calls").read_text())


# --- pure ------------------------------------------------------------------------------------------


def test_parse_token_bare_and_json():
    assert parse_token("ya29.abc\n") == ("ya29.abc", None)
    assert parse_token('{"access_token": "t1", "expires_in": 3599, "token_type": "Bearer"}') == ("t1", 3599.0)
    for bad in ("", "two words", '{"token": "x"}', "{not json"):
        with pytest.raises(OAuth2Error):
            parse_token(bad)


def test_xoauth2_initial_response():
    assert xoauth2("a@b.vn", "tok") == "user=a@b.vn\x01auth=Bearer tok\x01\x01"


def test_token_reused_until_it_expires_and_after_a_refusal(tmp_path):
    now = [0.0]
    source = TokenSource(OAuth2Settings(token_command=counter_command(tmp_path, ["a", "b", "c"])), clock=lambda: now[0])
    assert source.token() == "a" and source.token() == "a" and calls(tmp_path) == 1
    now[0] = 3599 - 59  # within the last minute of its life: fetch a new one
    assert source.token() == "b"
    source.invalidate()
    assert source.token() == "c" and calls(tmp_path) == 3


def test_token_file_and_clear_errors(tmp_path):
    f = tmp_path / "token.txt"
    f.write_text("abc\n")
    assert TokenSource(OAuth2Settings(token_file=f)).token() == "abc"
    with pytest.raises(OAuth2Error, match="không đọc được"):
        TokenSource(OAuth2Settings(token_file=tmp_path / "none")).token()
    with pytest.raises(OAuth2Error, match="kết thúc với mã 3"):
        TokenSource(OAuth2Settings(token_command=f"{sys.executable} -c 'import sys; sys.exit(3)'")).token()


def _settings_with(tmp_path, section: str, lines: str) -> Path:
    cfg = make_config(tmp_path, "imap://phongnoivu@127.0.0.1:1/INBOX")
    text = (cfg / "settings.toml").read_text(encoding="utf-8")
    text = text.replace('password_env = "TONGHOP_TEST_IMAP_PASSWORD"', lines, 1)
    (cfg / "settings.toml").write_text(text, encoding="utf-8")
    return cfg


def test_config_oauth2_needs_exactly_one_token_source(tmp_path):
    cfg = _settings_with(tmp_path, "mailbox", 'auth = "oauth2"')
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert any("oauth2_token_command hoặc oauth2_token_file" in p for p in err.value.problems)
    cfg = _settings_with(tmp_path / "b", "mailbox", 'auth = "oauth2"\noauth2_token_command = "echo x"\npassword_env = "X"')
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert any("không dùng mật khẩu" in p for p in err.value.problems)
    cfg = _settings_with(tmp_path / "c", "mailbox", 'auth = "oauth2"\noauth2_token_file = "token.txt"')
    config = load_config(cfg)
    assert config.mailbox.oauth2 == OAuth2Settings(token_file=(cfg / "token.txt").resolve())
    assert config.mailbox_password is None


# --- against real servers ----------------------------------------------------------------------------


class Introspection:
    """RFC 7662 token introspection on loopback: `valid` maps token -> user."""

    def __init__(self):
        self.valid: dict[str, str] = {}
        self.asked: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                token = (parse_qs(body).get("token") or [""])[0]
                outer.asked.append(token)
                user = outer.valid.get(token)
                answer = json.dumps({"active": "true", "username": user} if user else {"active": "false"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{LOOPBACK}:{self.server.server_port}/introspect"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def oauth_dovecot():
    endpoint = Introspection()
    server = Dovecot(oauth2_introspection_url=endpoint.url)
    server.start()
    yield server, endpoint
    server.close()
    endpoint.close()


def test_imap_xoauth2_login_refetches_a_refused_token_then_the_service_reads_mail(oauth_dovecot, tmp_path):
    server, endpoint = oauth_dovecot
    user, _password = server.new_user()
    endpoint.valid["good-token"] = user
    command = counter_command(tmp_path, ["revoked-token", "good-token"])
    cfg = make_config(tmp_path, f"imap://{user}@{LOOPBACK}:{server.port}/INBOX")
    text = (cfg / "settings.toml").read_text(encoding="utf-8")
    text = text.replace('password_env = "TONGHOP_TEST_IMAP_PASSWORD"',
                        f'auth = "oauth2"\noauth2_token_command = "{command}"', 1)
    (cfg / "settings.toml").write_text(text, encoding="utf-8")
    config = load_config(cfg)

    source = ImapSource(config.mailbox, None)
    source.open()  # the first token is refused; the second, fetched at once, is let in
    source.close()
    assert endpoint.asked[-2:] == ["revoked-token", "good-token"] and calls(tmp_path) == 2

    raw = (b"From: someone@example.vn\r\nTo: phongnoivu@thapmuoi.gov.vn\r\nSubject: Bao cao\r\n"
           b"Message-ID: <oauth2-1@example.vn>\r\nDate: Thu, 10 Oct 2024 08:00:00 +0700\r\n\r\nXin gui.\r\n")
    server.append(user, raw, datetime(2024, 10, 10, 8, tzinfo=timezone.utc))
    Daemon(cfg, now="2024-10-10T09:00").run("run", "--once")
    messages = Daemon(cfg).messages()
    assert len(messages) == 1 and messages[0]["status"] in ("recorded", "review"), messages


def test_imap_no_token_is_a_clear_mailbox_error(oauth_dovecot, tmp_path):
    server, _ = oauth_dovecot
    user, _ = server.new_user()
    cfg = make_config(tmp_path, f"imap://{user}@{LOOPBACK}:{server.port}/INBOX")
    settings = load_config(_with_token_file(cfg, tmp_path / "missing")).mailbox
    with pytest.raises(MailboxError, match="OAuth2"):
        ImapSource(settings, None).open()


def _with_token_file(cfg: Path, path: Path) -> Path:
    text = (cfg / "settings.toml").read_text(encoding="utf-8")
    text = text.replace('password_env = "TONGHOP_TEST_IMAP_PASSWORD"', f'auth = "oauth2"\noauth2_token_file = "{path}"', 1)
    (cfg / "settings.toml").write_text(text, encoding="utf-8")
    return cfg


def test_smtp_xoauth2_sends_and_refetches_a_refused_token(tmp_path):
    sink = SmtpSink(oauth2_tokens={"phongnoivu@thapmuoi.gov.vn": {"fresh"}})
    sink.start()
    try:
        cfg = make_config(tmp_path, "maildir:../var/maildir", f"smtp://phongnoivu%40thapmuoi.gov.vn@{LOOPBACK}:{sink.port}")
        text = (cfg / "settings.toml").read_text(encoding="utf-8")
        command = counter_command(tmp_path, ["stale", "fresh"])
        marker = f'url = "smtp://phongnoivu%40thapmuoi.gov.vn@{LOOPBACK}:{sink.port}"'
        assert marker in text
        text = text.replace(marker, marker + f'\nauth = "oauth2"\noauth2_token_command = "{command}"', 1)
        (cfg / "settings.toml").write_text(text, encoding="utf-8")
        config = load_config(cfg)
        sender = Sender(config.smtp, config.smtp_password)
        raw = b"From: phongnoivu@thapmuoi.gov.vn\r\nTo: a@b.vn\r\nSubject: x\r\nMessage-ID: <1@t>\r\n\r\nhi\r\n"
        assert sender.deliver(raw, config.smtp.sender, ["a@b.vn"]) == {}
        assert [t for _, t in sink._handler.seen] == ["stale", "fresh"]
        assert len(sink.messages) == 1 and sink.messages[0].login == "phongnoivu@thapmuoi.gov.vn"

        sink._handler.tokens.clear()  # every token revoked: refused twice, a temporary failure said plainly
        with pytest.raises(DeliveryError) as err:
            sender.deliver(raw, config.smtp.sender, ["a@b.vn"])
        assert err.value.temporary and "từ chối đăng nhập" in str(err.value)
    finally:
        sink.stop()
