"""OAuth2 access tokens for IMAP and SMTP (SASL XOAUTH2), for mail services that no longer take
passwords: Microsoft 365 turned basic authentication off for IMAP/SMTP in 2022, Gmail asks for
OAuth2 (or app passwords with 2-step verification).

tonghop does not run the OAuth2 dance itself (that needs a browser once, and each provider has its
own tools): the admin names a command that prints a fresh access token (`oauth2_token_command`,
e.g. a small script around the provider's library with a refresh token) or a file that another
program keeps fresh (`oauth2_token_file`). Either may print the bare token or the provider's JSON
(`{"access_token": "...", "expires_in": 3599}`). A token is reused until shortly before it
expires, fetched again after the server refused it, and never written to the log.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import time
from pathlib import Path

from daemon.config import OAuth2Settings

COMMAND_TIMEOUT = 60.0
EARLY = 60.0  # fetch a new token this many seconds before the old one expires
UNKNOWN_LIFETIME = 300.0  # a bare token without expires_in: assume it is good for five minutes


class OAuth2Error(Exception):
    """No token could be had; the message says why, in Vietnamese."""


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft define it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def parse_token(text: str) -> tuple[str, float | None]:
    """(token, seconds it lives or None) from a bare token or the provider's JSON answer."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise OAuth2Error(f"kết quả không phải JSON hợp lệ ({exc})") from None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise OAuth2Error("JSON không có khóa access_token")
        lifetime = data.get("expires_in")
        return token.strip(), float(lifetime) if isinstance(lifetime, (int, float)) else None
    if not text or any(c.isspace() for c in text):
        raise OAuth2Error("kết quả rỗng hoặc không phải một mã truy cập (token) duy nhất")
    return text, None


class TokenSource:
    """Fresh access tokens from the configured command or file. `clock` is an argument for tests."""

    def __init__(self, settings: OAuth2Settings, clock=time.monotonic):
        self.settings = settings
        self.clock = clock
        self._token: str | None = None
        self._good_until = 0.0

    def token(self) -> str:
        if self._token is None or self.clock() >= self._good_until:
            text = self._fetch()
            token, lifetime = parse_token_from(text, self.where())
            self._token = token
            self._good_until = self.clock() + max(0.0, (lifetime or UNKNOWN_LIFETIME) - EARLY)
        return self._token

    def invalidate(self) -> None:
        """The server refused the token: the next token() fetches a new one."""
        self._token = None

    def where(self) -> str:
        s = self.settings
        return f"oauth2_token_command «{s.token_command}»" if s.token_command else f"oauth2_token_file {s.token_file}"

    def _fetch(self) -> str:
        s = self.settings
        if s.token_command:
            try:
                done = subprocess.run(shlex.split(s.token_command), capture_output=True, text=True,
                                      timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
            except (OSError, ValueError) as exc:
                raise OAuth2Error(f"không chạy được {self.where()}: {exc}") from None
            except subprocess.TimeoutExpired:
                raise OAuth2Error(f"{self.where()} chạy quá {COMMAND_TIMEOUT:.0f} giây") from None
            if done.returncode != 0:
                detail = (done.stderr or "").strip().splitlines()[-1:] or [""]
                raise OAuth2Error(f"{self.where()} kết thúc với mã {done.returncode} {detail[0]}".strip())
            return done.stdout
        try:
            return Path(s.token_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise OAuth2Error(f"không đọc được {self.where()}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise OAuth2Error(f"{self.where()} không phải văn bản UTF-8") from None


def parse_token_from(text: str, where: str) -> tuple[str, float | None]:
    try:
        return parse_token(text)
    except OAuth2Error as exc:
        raise OAuth2Error(f"{where}: {exc}") from None
