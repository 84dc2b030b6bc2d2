"""The service's clock. `--now` moves it, so a whole reporting cycle can be walked in seconds.

Rules never call this: they take `now` as an argument. Only the runner and the commands ask the
clock, and the arrival time of mail always comes from the mail server, never from here.
"""
from __future__ import annotations

import time as _time
from datetime import datetime, timezone, tzinfo
from typing import Callable

# How long a wait sleeps before looking at should_stop() again: SIGTERM is obeyed within this.
STOP_SLICE_SECONDS = 0.5


class Clock:
    def __init__(self, start: datetime | None = None):
        # Keep the offset, not a frozen instant: a daemon started with --now keeps ticking.
        self._offset = (start - datetime.now(timezone.utc)).total_seconds() if start else 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(_time.time() + self._offset, timezone.utc)

    def set(self, moment: datetime) -> None:
        self._offset = (moment - datetime.now(timezone.utc)).total_seconds()


def sleep_until(end: float, should_stop: Callable[[], bool]) -> None:
    """Sleep until time.monotonic() reaches `end`, in slices, returning early once should_stop()
    is true: the runner's backoff and the mailbox's polling both wait this way."""
    while not should_stop():
        left = end - _time.monotonic()
        if left <= 0:
            return
        _time.sleep(min(STOP_SLICE_SECONDS, left))


def local_text(ts: str | datetime | None, tz: tzinfo) -> str:
    """A recorded timestamp as the office reads it: "15/10/2024 08:30" in its time zone."""
    if not ts:
        return ""
    moment = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def moment_words(moment: datetime) -> str:
    """A moment as a sentence says it: "09:30 ngày 15/10/2024" (in the moment's own offset; give
    it in the office's time zone)."""
    return moment.strftime("%H:%M ngày %d/%m/%Y")


def deadline_words(deadline: datetime) -> str:
    """A deadline as every mail and the draft say it: "trước ngày 20/10/2024" for one at 00:00
    (the day itself is already late), else "trước 17:00 ngày 19/10/2024"."""
    if deadline.hour == 0 and deadline.minute == 0:
        return f"trước ngày {deadline:%d/%m/%Y}"
    return f"trước {deadline:%H:%M} ngày {deadline:%d/%m/%Y}"


def parse_now(text: str, tz: tzinfo) -> datetime:
    """ISO 8601; without an offset it is the office's local time. Raises ValueError."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment
