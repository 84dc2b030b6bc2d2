"""Where the service's log lines go and how they look.

Under systemd (JOURNAL_STREAM names our stderr) each line starts with its syslog priority
("<3>" for an error) and carries no timestamp: journald stamps it, and `journalctl -p err` then
finds tonghop's errors. On a terminal each line starts with the time and the level. Every line is
in Vietnamese, like everything else the admins of a Vietnamese office read (the library's own
words stay inside the details of an error).
"""
from __future__ import annotations

import logging
import os
import sys

LEVEL_NAMES = {logging.DEBUG: "GỠ LỖI", logging.INFO: "THÔNG TIN", logging.WARNING: "CẢNH BÁO",
               logging.ERROR: "LỖI", logging.CRITICAL: "NGHIÊM TRỌNG"}
# sd-daemon(3) priorities: <2> crit, <3> err, <4> warning, <6> info, <7> debug.
PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def under_journald(stream, environ=os.environ) -> bool:
    """True when `stream` is the journal stream systemd connected (JOURNAL_STREAM is "dev:ino")."""
    value = environ.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


class JournalFormatter(logging.Formatter):
    """"<N>text", and the same prefix on every line of a multi-line record (a traceback), since
    journald makes each line a record of its own."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{PRIORITIES.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


class TerminalFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelvn)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        record.levelvn = LEVEL_NAMES.get(record.levelno, record.levelname)
        return super().format(record)


def setup(level: int = logging.INFO, *, stream=None, environ=os.environ) -> logging.Handler:
    """Send the log to stderr in the form that suits where stderr goes; replaces earlier handlers."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JournalFormatter("%(message)s") if under_journald(stream, environ) else TerminalFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
