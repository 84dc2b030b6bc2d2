"""The web desk's accounts: scrypt password hashes, writing them into accounts.toml, the login
rate limit and the session key. Standard library only (hashlib.scrypt, hmac, secrets)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import re
import secrets
import threading
from collections import deque
from pathlib import Path

# scrypt cost: n=2**14, r=8 (16 MiB, ~50 ms a check): what OWASP lists as the minimum for scrypt.
N, R, P = 2 ** 14, 8, 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """"scrypt$n$r$p$salt$hash" (salt and hash in base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=256 * 1024 * 1024, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


_BLOCK_START = re.compile(r"^\s*\[\[account\]\]\s*(#.*)?$")
_TABLE = re.compile(r"^\s*\[")


def set_password(path: Path, name: str, password_hash: str, role: str | None = None) -> bool:
    """Write NAME's hash (and role, when given) into accounts.toml, keeping every comment and other
    account as it is; a new name gets a new [[account]] at the end. True when the account is new."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    blocks, start = [], None  # (first line, end) of each [[account]] table
    for i, line in enumerate(lines):
        if _TABLE.match(line):
            if start is not None:
                blocks.append((start, i))
                start = None
            if _BLOCK_START.match(line):
                start = i
    if start is not None:
        blocks.append((start, len(lines)))
    name_re = re.compile(rf'^\s*name\s*=\s*["\']{re.escape(name)}["\']\s*(#.*)?$')
    for first, end in blocks:
        if any(name_re.match(lines[j]) for j in range(first, end)):
            content = lines[first + 1:end]
            k = max((j for j, ln in enumerate(content) if ln.strip()), default=-1)
            keys, trailing = content[:k + 1], content[k + 1:]
            keys = [ln for ln in keys
                    if not re.match(r"^\s*password\s*=", ln) and not (role and re.match(r"^\s*role\s*=", ln))]
            keys += ([f'role = "{role}"'] if role else []) + [f'password = "{password_hash}"']
            lines[first + 1:end] = keys + trailing
            _write(path, "\n".join(lines) + "\n")
            return False
    block = ["", "[[account]]", f'name = "{name}"', f'role = "{role or "clerk"}"', f'password = "{password_hash}"']
    _write(path, "\n".join(lines + block).lstrip("\n") + "\n")
    return True


def _write(path: Path, text: str) -> None:
    """Replace the file whole (a crash leaves the old or the new file), readable by its owner only
    beyond what it already allowed: hashes are not passwords, but they need not be shared."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def session_key(path: Path) -> bytes:
    """The key that signs session cookies: read from `path`, or created there (0600) when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = secrets.token_hex(32).encode("ascii")
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return key


class LoginLimiter:
    """At most `limit` failed logins per (name, address) within `window` seconds; then wait.
    Time is passed in (`now`, seconds), so tests need not sleep."""

    def __init__(self, limit: int = 5, window: float = 300.0):
        self.limit, self.window = limit, window
        self._failures: dict[tuple[str, str], deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key, now: float) -> deque:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def wait_seconds(self, name: str, address: str, now: float) -> int:
        """0 when a try is allowed, else how many seconds until the oldest failure expires."""
        with self._lock:
            q = self._recent((name.lower(), address), now)
            return 0 if len(q) < self.limit else max(1, math.ceil(q[0] + self.window - now))

    def failed(self, name: str, address: str, now: float) -> None:
        with self._lock:
            self._recent((name.lower(), address), now).append(now)
            if len(self._failures) > 10000:  # a flood of names must not grow memory without bound
                for key in [k for k, q in self._failures.items() if not q][:5000]:
                    del self._failures[key]

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop((name.lower(), address), None)
