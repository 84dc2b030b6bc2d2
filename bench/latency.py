#!/usr/bin/env python3
"""From a unit's message appended to the mailbox while the daemon idles, to its acknowledgement
accepted by the SMTP server: p50 and p95 over N messages sent one at a time.

Usage: python bench/latency.py [--n 200] [--warm 5] [--dovecot 'SETTING = VALUE' ...]
Not a test: it prints figures and never fails on speed. Target: p95 under 1 s.

Set-up: a private Dovecot 2.3 and an aiosmtpd sink on loopback (tests/servers.py); the example
configuration pointed at them; `python -m daemon.cli --config DIR --now 2024-10-15T08:00 run` as a
child process (through bench/_probe.py, which timestamps the runner's steps with the same monotonic
clock as this process). The daemon's first pass (the reminders and the digest due at --now) and
--warm messages (imports, caches) are not counted.

Each message (the backlog's mix, bench/_servers.py: mostly a .docx report or plan, some with the
.xlsx form, some PDF, a zip now and then) is APPENDed over an open IMAP connection once the daemon
is back in IDLE (plus a random 0.1-0.3 s). Timed, per message:
- total:   from just before APPEND to the moment the sink has accepted the acknowledgement (the
           mail whose In-Reply-To is the message's Message-ID);
- append:  the APPEND command itself (Dovecot storing the message);
- dovecot: from APPEND's completion to IDLE returning in the daemon (Dovecot noticing the new
           mail and sending EXISTS; the daemon wakes on the first byte);
- ours:    from the wake-up to the start of the acknowledgement's SMTP delivery: NOOP + SEARCH,
           FETCH, archive (fsync), claim, read, decide, record (fsync), MOVE, then the due jobs;
- smtp:    the acknowledgement's SMTP session to the sink (connect, EHLO, MAIL, RCPT, DATA).
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _servers as S  # noqa: E402

NOW = "2024-10-15T08:00:00"
START = dt.datetime(2024, 10, 15, 8, 0, tzinfo=S.ICT)
TARGET = 1.0
PARTS = ("total", "append", "dovecot", "ours", "smtp")


class AckWatch:
    """Times at which the sink accepted each mail, by the Message-ID it answers."""

    def __init__(self, sink) -> None:
        self.cond = threading.Condition()
        self.by_reply: dict[str, float] = {}
        handler = sink._handler
        original = handler.handle_DATA

        async def timed(server, session, envelope):
            result = await original(server, session, envelope)
            at = time.monotonic()
            head = BytesHeaderParser().parsebytes(bytes(envelope.content))
            with self.cond:
                self.by_reply[str(head.get("In-Reply-To") or "").strip()] = at
                self.cond.notify_all()
            return result

        handler.handle_DATA = timed  # aiosmtpd looks the hook up on the handler object

    def wait(self, message_id: str, timeout: float) -> float | None:
        end = time.monotonic() + timeout
        with self.cond:
            while message_id not in self.by_reply:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.by_reply[message_id]


def idle_since(events_path: Path, timeout: float = 120) -> float:
    """Wait until the daemon's last step is a wait() begun (it is idling); returns when it began."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        events = S.read_events(events_path)
        if events and events[-1].name == "wait-begin":
            return events[-1].at
        time.sleep(0.01)
    raise RuntimeError("the daemon did not go back to waiting for mail")


def breakdown(events: list, t0: float, t1: float, acked: float) -> dict[str, float]:
    wake = next(e.at for e in events if e.name == "wait-end" and e.at >= t0)
    sends = [e.at for e in events if e.name == "deliver-begin" and wake <= e.at <= acked]
    send = sends[-1] if sends else acked
    return {"total": acked - t0, "append": t1 - t0, "dovecot": wake - t1, "ours": send - wake, "smtp": acked - send}


def run(n: int, warm: int = 5, dovecot_settings: tuple[str, ...] = (), seed: int = 7, out=sys.stdout) -> dict:
    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    rng = random.Random(seed)
    say(f"bench/latency.py, {n} messages one at a time ({warm} warm-up messages not counted)")
    say(S.machine() + f"; dovecot {S.dovecot_version()}"
        + (f" with {'; '.join(dovecot_settings)}" if dovecot_settings else " (test configuration)"))
    pool = S.document_pool()
    mails = S.backlog(warm + n, pool, START)
    work = Path(tempfile.mkdtemp(prefix="tonghop-bench-latency-"))
    samples: list[dict[str, float]] = []
    missed = 0
    try:
        with S.mail_servers(dovecot_settings=dovecot_settings) as (account, sink):
            watch = AckWatch(sink)
            config = S.service_config(work, account, sink)
            events_path = work / "events.txt"
            proc = S.start_daemon(config, account, "run", now=NOW, events=events_path)
            started = time.monotonic()
            client = account.client()
            try:
                for i, (raw, when) in enumerate(mails):
                    idle_since(events_path)
                    time.sleep(0.1 + rng.random() * 0.2)
                    message_id = str(BytesHeaderParser().parsebytes(raw)["Message-ID"]).strip()
                    t0 = time.monotonic()
                    client.append("INBOX", raw, msg_time=when)
                    t1 = time.monotonic()
                    acked = watch.wait(message_id, timeout=30)
                    if acked is None:
                        missed += 1
                        say(f"  message {i}: no acknowledgement within 30 s")
                        continue
                    if i >= warm:
                        samples.append(breakdown(S.read_events(events_path), t0, t1, acked))
            finally:
                client.logout()
                proc.send_signal(signal.SIGTERM)
                child = S.reap(proc, started, timeout=30)
            say(f"daemon: exit {child.code}, peak RSS {S.peak_rss_mb(S.read_events(events_path)):.0f} MB, "
                f"CPU {child.cpu_seconds:.1f} s over {child.seconds:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {part: [s[part] for s in samples] for part in PARTS}
    say(f"{'seconds':10}{'p50':>8}{'p95':>8}{'max':>8}{'mean':>8}")
    for part in PARTS:
        values = result[part]
        say(f"{part:10}{S.percentile(values, 50):8.3f}{S.percentile(values, 95):8.3f}"
            f"{max(values):8.3f}{sum(values) / len(values):8.3f}")
    p95 = S.percentile(result["total"], 95)
    say(f"p95 {p95:.3f} s against the target {TARGET:g} s: {'met' if p95 < TARGET else 'missed'}"
        f"{f'; {missed} messages without acknowledgement' if missed else ''}")
    return {"samples": samples, "missed": missed, "p50": S.percentile(result["total"], 50), "p95": p95}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="messages measured (default 200)")
    parser.add_argument("--warm", type=int, default=5, help="warm-up messages, not measured (default 5)")
    parser.add_argument("--dovecot", action="append", default=[], metavar="'SETTING = VALUE'",
                        help="a line added to the test Dovecot's configuration (repeatable)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.warm < 0:
        parser.error("--n must be at least 1 and --warm at least 0")
    run(args.n, args.warm, tuple(args.dovecot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
