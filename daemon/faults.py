"""Failpoints for the crash tests: the process kills itself (SIGKILL, no cleanup) at a named
point, so tests can show that a crash at that exact step neither loses nor doubles anything.

TONGHOP_CRASH_AT="after-claim:2" kills the process the 2nd time it passes "after-claim".
Inert when the variable is unset, which is always the case in production.
"""
from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    wanted = os.environ.get("TONGHOP_CRASH_AT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point == name:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
