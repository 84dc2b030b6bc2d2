"""Telling systemd how the service is doing: the sd_notify protocol (READY=1, STATUS=, WATCHDOG=1,
RELOADING=1, STOPPING=1) written directly, one datagram on $NOTIFY_SOCKET per message.

Written by hand rather than with a library: the protocol is one sendto() on a unix socket
(sd_notify(3)), the PyPI bindings (systemd-python) need libsystemd headers to build, and the pure
ones add nothing for four messages. Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
"""
from __future__ import annotations

import os
import socket
import time


def _address(value: str) -> str | bytes:
    # An address starting with "@" is in the abstract namespace (a leading NUL byte).
    return b"\0" + value[1:].encode() if value.startswith("@") else value


class Notifier:
    """What the runner tells systemd. `environ` and `monotonic` are arguments for the tests."""

    def __init__(self, environ: dict | None = None, monotonic=time.monotonic):
        env = os.environ if environ is None else environ
        self.socket_path = env.get("NOTIFY_SOCKET") or None
        self.monotonic = monotonic
        self.watchdog_every = None
        usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
        if usec and usec.isdigit() and (not pid or pid == str(os.getpid())):
            # Ping at a third of the interval: systemd kills the service after a whole one.
            self.watchdog_every = int(usec) / 1_000_000 / 3
        self._last_ping = None

    @property
    def active(self) -> bool:
        return self.socket_path is not None

    def send(self, *fields: str) -> bool:
        if not self.socket_path:
            return False
        text = "\n".join(f.replace("\n", " ") for f in fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(text, _address(self.socket_path))
            return True
        except OSError:
            return False  # systemd gone or the socket not ours: the service carries on

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def ready(self, text: str) -> None:
        """READY=1 with what the service is doing, after each pass: the first one tells systemd that
        the service has started (the mailbox is open, the backlog read); the later ones end a
        reload and refresh STATUS (systemd ignores a repeated READY=1)."""
        self.send("READY=1", f"STATUS={text}")

    def reloading(self) -> None:
        # systemd >= 253 also wants MONOTONIC_USEC with RELOADING=1; older ones ignore it.
        self.send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> None:
        self.send("STOPPING=1", "STATUS=Đang dừng")

    def watchdog(self) -> None:
        """WATCHDOG=1, at most once per third of WatchdogSec; cheap enough to call every second."""
        if self.watchdog_every is None or not self.socket_path:
            return
        now = self.monotonic()
        if self._last_ping is None or now - self._last_ping >= self.watchdog_every:
            self._last_ping = now
            self.send("WATCHDOG=1")
