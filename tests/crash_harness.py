"""The crash harness: a backlog in a real Dovecot, the real daemon killed with SIGKILL at random
moments and at random failpoints while it processes the backlog and sends its mail to an aiosmtpd
sink, restarted each time; at the end the ledger, the folders and what the SMTP server received
are compared with the truth.

Used by tests/test_crash.py (a short run in CI) and scripts/crash_soak.py (long runs). The truth:
- every message appended is in the ledger exactly once (one row per SHA-256 and per Message-ID),
  decided (never left "claimed"), with the status a crash-free reading gives (the oracle: the same
  parsers and rules called in this process), or set aside as failed after repeated crashes
  (documented: a message that keeps killing the service stops being retried);
- INBOX is empty and the processed and review folders hold each message exactly once, in the
  folder its status calls for;
- every outbox row is sent, every mail the SMTP server received is an outbox row, and a mail
  received twice is one that a crash caught inside the documented window (accepted by the server,
  not yet marked sent), detected at that crash: at most one such mail per crash.
"""
from __future__ import annotations

import hashlib
import json
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import corpus
from daemon import runner
from daemon.config_toml import load_config
from daemon.intake import decide as intake
from tonghop_demo import samples
from service import EXAMPLE, Daemon, make_config

ICT = timezone(timedelta(hours=7))
# The service's clock during the rounds: the first reminder day of the example campaign, a working
# day after the digest hour, so the outbox holds acknowledgements, review notices, 20-odd
# reminders and a digest. The final drain runs past the 15-minute delivery lease (daemon.outgoing.outbox.LEASE).
NOW = datetime(2024, 10, 11, 8, 5, tzinfo=ICT)
DRAIN_AT = NOW + timedelta(minutes=20)
ARRIVED = datetime(2024, 10, 10, 9, 0, tzinfo=ICT)
POINTS = ("after-archive", "after-claim", "after-record", "before-batch-move", "after-move", "after-deliver")
PROCESSED, REVIEW = "Đã xử lý", "Cần xem xét"
CONFIG = load_config(EXAMPLE)
CAMPAIGN = CONFIG.campaign("dan-van")

_docs: dict[tuple[str, str], bytes] = {}


def _report(unit_id: str, kind: str) -> bytes:
    """A realistic report of the unit (cached: python-docx takes a while per document)."""
    if (unit_id, kind) not in _docs:
        _docs[(unit_id, kind)] = samples.report_docx(samples.sample_unit(CONFIG.unit(unit_id)), 2024, kind=kind)
    return _docs[(unit_id, kind)]


@dataclass
class Incoming:
    label: str
    raw: bytes
    arrived: datetime
    sha256: str = ""  # of the bytes as the server gives them back (filled in after APPEND)
    message_id: str | None = None


def message_id(raw: bytes) -> str | None:
    end = raw.find(b"\r\n\r\n")
    head = raw[: end if 0 <= end < 2_000_000 else 2_000_000]
    value = BytesHeaderParser(policy=compat32).parsebytes(head).get("Message-ID")
    return str(value).strip() if value else None


def build_backlog(count: int, rng: random.Random) -> list[Incoming]:
    """count messages: reports and plans from units (most), noise that must be ignored, mail from
    strangers (review) and malformed mail, shuffled, one minute apart."""
    noise = [corpus.outlook_out_of_office("yte@thapmuoi.example"), corpus.gmail_vacation("a@gmail.example"),
             corpus.unmarked_autoreply("ubnd.myhoa@thapmuoi.example"), corpus.postfix_dsn("x@thapmuoi.example"),
             corpus.exim_bounce(), corpus.list_mail()]
    bad = corpus.malformed()
    n_noise, n_bad = min(len(noise), count // 7), min(len(bad), count // 10)
    n_strangers = count // 10
    n_units = max(0, count - n_noise - n_bad - n_strangers)
    items: list[tuple[str, bytes]] = [(f"noise-{i}", raw) for i, raw in enumerate(noise[:n_noise])]
    items += [(f"malformed-{i}", raw) for i, raw in enumerate(bad[:n_bad])]
    for i in range(n_strangers):
        unit_id = rng.choice(CAMPAIGN.unit_ids)
        items.append((f"stranger-{i}", corpus.submission(f"nguoi.la{i}@gmail.example", "Báo cáo dân vận",
                                                          [(f"bao-cao-{i}.docx", _report(unit_id, "BC"))])))
    units = list(CAMPAIGN.unit_ids)
    rng.shuffle(units)
    for i in range(n_units):
        unit = CONFIG.unit(units[i % len(units)])
        kinds = rng.choice([("BC",), ("KH",), ("KH", "BC")])
        files = [(f"{'Bao cao' if k == 'BC' else 'Ke hoach'} dan van 2024 {i}.docx", _report(unit.id, k)) for k in kinds]
        items.append((f"unit-{i}-{unit.id}", corpus.submission(unit.emails[0], f"{unit.name} gửi văn bản dân vận", files)))
    rng.shuffle(items)
    return [Incoming(label, raw, ARRIVED + timedelta(minutes=n), message_id=message_id(raw))
            for n, (label, raw) in enumerate(items)]


@dataclass(frozen=True)
class Expected:
    status: str
    unit: str | None
    submissions: int


def oracle(backlog: list[Incoming]) -> dict[str, Expected]:
    """What a crash-free service decides for each message: the same parsers and rules, in process."""
    out = {}
    for item in backlog:
        outcome = intake.decide(intake.read(item.raw, CONFIG), CONFIG, item.arrived)
        out[item.label] = Expected(outcome.status, outcome.unit_id, len(outcome.submissions))
    return out


@dataclass
class Crash:
    how: str  # "after 1.8 s" or "failpoint after-claim:3"
    exit_code: int | None
    window: tuple[str, ...] = ()  # Message-IDs accepted by the server but still queued at this crash
    progress: str = ""


@dataclass
class SoakReport:
    messages: int = 0
    crashes: list[Crash] = field(default_factory=list)
    outgoing: int = 0  # outbox rows
    deliveries: int = 0  # mails the SMTP server received
    duplicates: dict[str, int] = field(default_factory=dict)  # Message-ID -> copies, where > 1
    statuses: Counter = field(default_factory=Counter)
    set_aside: list[str] = field(default_factory=list)  # failed after repeated crashes
    problems: list[str] = field(default_factory=list)  # every way the end state differs from the truth
    seconds: float = 0.0

    @property
    def window_crashes(self) -> int:
        return sum(1 for c in self.crashes if c.window)

    def summary(self) -> str:
        kinds = Counter(c.how.split()[0] if c.how.startswith("after ") else c.how.split()[1].split(":")[0]
                        for c in self.crashes)
        return (f"{self.messages} messages, {len(self.crashes)} kills ({', '.join(f'{k}: {v}' for k, v in sorted(kinds.items()))}), "
                f"{self.outgoing} outgoing mails, {self.deliveries} deliveries, {sum(n - 1 for n in self.duplicates.values())} "
                f"duplicate copies ({self.window_crashes} kills inside the window), statuses {dict(self.statuses)}, "
                f"{len(self.set_aside)} set aside, {self.seconds:.0f} s")


def query(db_path: Path, sql: str, args=()) -> list[dict]:
    """Rows of the ledger as dicts; [] while it or its schema does not exist yet (a daemon killed
    during its first start)."""
    if not Path(db_path).exists():
        return []
    conn = sqlite3.connect(db_path, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args).fetchall()]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class Soak:
    """One backlog in one fresh mailbox, one ledger, killed and restarted until all is done."""

    def __init__(self, account, sink, workdir: Path, *, messages: int = 40, seed: int = 0,
                 extra_settings: dict | None = None):
        self.account, self.sink, self.rng = account, sink, random.Random(seed)
        settings = {"poll_seconds": "2", "timeout_seconds": "5", "max_per_address_per_day": "1000"}
        settings.update(extra_settings or {})
        self.config = make_config(workdir, account.url(), f"smtp://127.0.0.1:{sink.port}", **settings)
        self.db_path = workdir / "var" / "tonghop.db"
        self.daemon = Daemon(self.config, account.password, now=NOW.isoformat())
        self.backlog = build_backlog(messages, self.rng)
        self.sink_start = len(sink.messages)
        self.report = SoakReport(messages=len(self.backlog))
        self.window_seen: set[str] = set()

    # -- setup ------------------------------------------------------------------------------------

    def load(self) -> None:
        for item in self.backlog:
            self.account.append(item.raw, item.arrived)
        stored = self.account.messages("INBOX")
        assert len(stored) == len(self.backlog), "Dovecot did not take every message"
        by_mid = {item.message_id: item for item in self.backlog}
        for m in stored.values():
            by_mid[message_id(m.raw)].sha256 = _sha(m.raw)

    # -- observing ----------------------------------------------------------------------------------

    def query(self, sql: str, args=()) -> list[dict]:
        return query(self.db_path, sql, args)

    def received(self) -> list[str]:
        return [message_id(m.raw) for m in self.sink.messages[self.sink_start:]]

    def in_window(self) -> set[str]:
        """Mail the server has accepted whose row the ledger still has as queued."""
        queued = {r["message_id"] for r in self.query("select message_id from outbox where status = 'queued'")}
        return queued & set(self.received())

    def progress(self) -> str:
        msgs = self.query("select status, count(*) n from messages group by status")
        out = self.query("select status, count(*) n from outbox group by status")
        return (f"inbox {len(self.account.list_uids())}, messages {({r['status']: r['n'] for r in msgs})}, "
                f"outbox {({r['status']: r['n'] for r in out})}, received {len(self.received())}")

    def settled(self) -> bool:
        """Nothing left for the rounds: INBOX empty, no claim open, and every outbox row sent or
        leased (a lease is a mail caught in the window: the drain after the lease sends it)."""
        if self.account.list_uids():
            return False
        if self.query("select 1 from messages where status = 'claimed'"):
            return False
        rows = self.query("select status, next_attempt_at from outbox")
        if not rows:
            return False  # the jobs have not run yet (the reminders are due at NOW)
        lease_from = NOW + timedelta(minutes=10)
        return all(r["status"] != "queued" or datetime.fromisoformat(r["next_attempt_at"]) > lease_from for r in rows)

    # -- the rounds -----------------------------------------------------------------------------------

    def kill_once(self, how: str, env: dict, delay: float, from_connect: bool = True) -> Crash:
        """Start the daemon; with a failpoint wait for it to kill itself (or kill it after delay
        when it does not get there); else kill it delay seconds after it connected to the mailbox
        (or after it started, for from_connect=False: start-up and recovery of claims)."""
        offset = self.daemon.log_path.stat().st_size if self.daemon.log_path.exists() else 0
        self.daemon.start(**env)
        proc = self.daemon.proc
        if not env and from_connect:
            end = time.monotonic() + 20
            while proc.poll() is None and time.monotonic() < end:
                with open(self.daemon.log_path, "rb") as fh:
                    fh.seek(offset)
                    if "Đang theo dõi hộp thư".encode() in fh.read():
                        break
                time.sleep(0.02)
        end, code = time.monotonic() + delay, None
        while code is None and time.monotonic() < end:
            try:
                code = proc.wait(min(0.5, max(0.0, end - time.monotonic())))
            except subprocess.TimeoutExpired:
                # A failpoint the daemon will not reach any more (less work left than its count).
                if env and self.settled():
                    break
        if code is None:
            proc.send_signal(signal.SIGKILL)
            code = proc.wait(10)
            if env:
                how += " (not reached; killed)"
        self.daemon.log.close()
        time.sleep(0.3)  # let the SMTP sink finish storing a mail whose data it had in full
        window = self.in_window() - self.window_seen
        self.window_seen |= window
        return Crash(how, code, tuple(sorted(window)), self.progress())

    def run(self, plan: list[tuple[str, float]] | None = None, *, max_kills: int = 12,
            delay: tuple[float, float] = (0.05, 3.0), failpoint_share: float = 0.4) -> SoakReport:
        """Kill and restart until settled or max_kills; plan: explicit (failpoint or "", delay)
        rounds to run first. Then a clean pass and the drain after the lease, then verify."""
        started = time.monotonic()
        self.load()
        self.expected = oracle(self.backlog)
        rounds = list(plan or [])
        while len(self.report.crashes) < max_kills and not self.settled():
            if rounds:
                point, wait = rounds.pop(0)
            elif self.rng.random() < failpoint_share:
                point, wait = f"{self.rng.choice(POINTS)}:{self.rng.randint(1, 6)}", 15.0
            else:
                point, wait = "", self.rng.uniform(*delay)
            env = {"TONGHOP_CRASH_AT": point} if point else {}
            # One random kill in four is timed from the start (imports, recovery of open claims),
            # the others from the moment the daemon is connected (fetching, reading, sending).
            from_connect = self.rng.random() >= 0.25
            if point:
                how = f"failpoint {point}"
            else:
                wait = wait if from_connect else wait / 2
                how = f"after {wait:.1f} s" + ("" if from_connect else " from start")
            self.report.crashes.append(self.kill_once(how, env, wait, from_connect))
        # A clean pass at the same clock, then the drain past the lease (mail caught in the window).
        self.daemon.run("run", "--once")
        self.daemon.now = DRAIN_AT.isoformat()
        self.daemon.run("run", "--once")
        self.daemon.now = NOW.isoformat()
        self.verify()
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- the truth -------------------------------------------------------------------------------------

    def verify(self) -> None:
        r, problems = self.report, self.report.problems
        rows = self.query("select * from messages order by id")
        by_sha = Counter(m["sha256"] for m in rows)
        by_mid = Counter(m["message_id"] for m in rows)
        truth = {item.sha256: item for item in self.backlog}
        if set(by_sha) != set(truth):
            problems.append(f"ledger vs mailbox: missing {len(set(truth) - set(by_sha))}, "
                            f"unknown {len(set(by_sha) - set(truth))}")
        problems += [f"recorded {n} times (SHA-256 {sha[:12]})" for sha, n in by_sha.items() if n > 1]
        problems += [f"recorded {n} times (Message-ID {mid})" for mid, n in by_mid.items() if n > 1]
        subs = Counter(s["message"] for s in self.query("select message from submissions"))
        for m in rows:
            r.statuses[m["status"]] += 1
            item = truth.get(m["sha256"])
            if item is None:
                continue
            want = self.expected[item.label]
            if m["status"] == "failed" and (m["attempts"] or 0) > runner.MAX_ATTEMPTS:
                r.set_aside.append(item.label)  # documented: repeated crashes set a message aside
                continue
            got = (m["status"], m["unit_id"], subs.get(m["id"], 0))
            if got != (want.status, want.unit, want.submissions):
                problems.append(f"{item.label}: ledger says {got}, a crash-free reading says "
                                f"{(want.status, want.unit, want.submissions)} ({m['reason']})")
            if not m["reason"]:
                problems.append(f"{item.label}: no reason recorded")
        # folders: INBOX empty; processed + review hold each message once, in the right folder
        if self.account.list_uids():
            problems.append(f"INBOX still holds {len(self.account.list_uids())} messages")
        status_of = {m["sha256"]: m["status"] for m in rows}
        seen: Counter = Counter()
        for folder in (PROCESSED, REVIEW):
            for stored in self.account.messages(folder).values():
                sha = _sha(stored.raw)
                seen[sha] += 1
                right = PROCESSED if status_of.get(sha) in ("recorded", "ignored") else REVIEW
                if folder != right:
                    problems.append(f"{truth[sha].label if sha in truth else sha[:12]} is in «{folder}», "
                                    f"its status {status_of.get(sha)} calls for «{right}»")
        if set(seen) != set(truth):
            problems.append(f"folders vs truth: missing {len(set(truth) - set(seen))}, unknown {len(set(seen) - set(truth))}")
        problems += [f"{truth[sha].label} is {n} times in the folders" for sha, n in seen.items() if n > 1 and sha in truth]
        unmoved = [m["id"] for m in rows if not m["moved_to"]]
        if unmoved:
            problems.append(f"ledger rows without moved_to: {unmoved}")
        # outgoing: every row sent; every delivery is a row; copies only from the window
        outbox = self.query("select kind, message_id, status, last_error from outbox")
        r.outgoing = len(outbox)
        unsent = [(o["kind"], o["status"], o["last_error"]) for o in outbox if o["status"] != "sent"]
        if unsent:
            problems.append(f"outbox rows not sent: {unsent[:5]}")
        got = Counter(self.received())
        r.deliveries = sum(got.values())
        sent_ids = {o["message_id"] for o in outbox}
        missing = sent_ids - set(got)
        if missing:
            problems.append(f"{len(missing)} outbox mails never reached the server")
        strangers = set(got) - sent_ids
        if strangers:
            problems.append(f"the server received mail that is not in the outbox: {sorted(strangers)[:3]}")
        r.duplicates = {mid: n for mid, n in got.items() if n > 1}
        outside = {mid: n for mid, n in r.duplicates.items() if mid not in self.window_seen or n > 2}
        if outside:
            problems.append(f"mail received twice outside the documented window: {outside}")
        if len(r.duplicates) > r.window_crashes:
            problems.append(f"{len(r.duplicates)} duplicated mails for {r.window_crashes} kills inside the window")
        many = [c for c in r.crashes if len(c.window) > 1]
        if many:
            problems.append(f"a single kill left more than one mail in the window: {many}")
        # every acknowledgement and review notice a crash-free run would queue is there, once
        acks = Counter(o["kind"] for o in outbox)
        want_acks = sum(1 for e in self.expected.values() if e.unit and e.status in ("recorded", "review"))
        set_aside_acks = sum(1 for label in r.set_aside if self.expected[label].unit
                             and self.expected[label].status in ("recorded", "review"))
        if not want_acks - set_aside_acks <= acks["ack"] <= want_acks:
            problems.append(f"{acks['ack']} acknowledgements queued, {want_acks} expected")


def describe(report: SoakReport) -> str:
    lines = [report.summary()]
    for c in report.crashes:
        lines.append(f"  kill {c.how}: exit {c.exit_code}; {c.progress}" + (f"; in window: {c.window}" if c.window else ""))
    lines += [f"  PROBLEM: {p}" for p in report.problems]
    return "\n".join(lines)


def to_json(report: SoakReport) -> str:
    return json.dumps({"messages": report.messages, "kills": len(report.crashes), "outgoing": report.outgoing,
                       "deliveries": report.deliveries, "duplicates": report.duplicates,
                       "window_kills": report.window_crashes, "set_aside": report.set_aside,
                       "statuses": dict(report.statuses), "problems": report.problems,
                       "seconds": round(report.seconds, 1)}, ensure_ascii=False)
