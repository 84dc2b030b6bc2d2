"""A whole reporting cycle against real servers: acknowledgements, reminders, overdue notices and
the digest, walked with `--now` over the 28 units of the example campaign; noise that must never
be answered; the SMTP server down for a while; a kill between delivery and bookkeeping.

Each pass is the real command line, `tonghop --config DIR --now TS run --once`, in a child
process; mail goes into a real Dovecot with the INTERNALDATE each case needs, and out to an
aiosmtpd sink whose received bytes are read back. Expectations come from the plan of who sends
what and when, and from `chase.steps` for the dates of the reminder and overdue steps.
"""
from __future__ import annotations

import email
import json
import os
import re
import signal
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy

import pytest

import corpus
from daemon.config import addressee_of
from daemon.config_toml import load_config
from daemon.outgoing import chase
from daemon.outgoing.compose import make_message_id
from daemon.texts import t
from tonghop_demo import samples
from servers import Dovecot, ImapAccount
from service import EXAMPLE, Daemon, make_config

ICT = timezone(timedelta(hours=7))
CONFIG = load_config(EXAMPLE)
TZ = CONFIG.office.timezone
CAMPAIGN = CONFIG.campaign("dan-van")
REQS = tuple(r.id for r in CAMPAIGN.requirements)  # ("ke-hoach", "bao-cao")
NAMES = {r.id: r.name for r in CAMPAIGN.requirements}
KIND_OF = {"KH": "ke-hoach", "BC": "bao-cao"}
DEADLINE = CAMPAIGN.deadline(CAMPAIGN.requirement("bao-cao"), "2024", TZ)  # 20/10/2024 00:00, a Sunday
STEPS = chase.steps(CAMPAIGN, DEADLINE, CAMPAIGN.reminders)
OPENING = chase.opening_step(CAMPAIGN, "2024", TZ)  # 30/09/2024 08:00: 20 days before the deadline
UNITS = [u for u in CAMPAIGN.unit_ids]
STAFF = list(CONFIG.office.staff)
DOMAIN = CONFIG.smtp.sender.split("@")[1]


def at(day: int, hour: int = 9, minute: int = 0, second: int = 0, month: int = 10) -> datetime:
    return datetime(2024, month, day, hour, minute, second, tzinfo=ICT)


def shown(moment: datetime) -> str:
    """A time as the mails print it (office time)."""
    return moment.astimezone(TZ).strftime("%H:%M ngày %d/%m/%Y")


# --- what the sink received -------------------------------------------------------------------


@dataclass
class Mail:
    kind: str
    to: tuple[str, ...]
    message_id: str
    in_reply_to: str | None
    references: str | None
    auto_submitted: str | None
    subject: str
    text: str


def read_mail(raw: bytes, rcpt: list[str]) -> Mail:
    msg = email.message_from_bytes(raw, policy=policy.default)
    return Mail(
        kind=str(msg["X-Tonghop-Kind"]), to=tuple(a.lower() for a in rcpt), message_id=str(msg["Message-ID"]),
        in_reply_to=str(msg["In-Reply-To"]) if msg["In-Reply-To"] else None,
        references=str(msg["References"]) if msg["References"] else None,
        auto_submitted=str(msg["Auto-Submitted"]) if msg["Auto-Submitted"] else None,
        subject=str(msg["Subject"]), text=msg.get_body(("plain",)).get_content().replace("\r\n", "\n"),
    )


def received(sink, start: int = 0) -> list[Mail]:
    return [read_mail(m.raw, m.rcpt_tos) for m in sink.messages[start:]]


def message_id_of(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=policy.default)["Message-ID"])


# --- the office: config, passes, ledger ---------------------------------------------------------


class Office:
    """The service pointed at a Dovecot account and the SMTP sink, driven pass by pass."""

    def __init__(self, tmp_path, account, sink, **settings: str):
        self.account, self.sink = account, sink
        self.config = make_config(tmp_path, account.url(), f"smtp://127.0.0.1:{sink.port}",
                                  timeout_seconds="5", **settings)
        self.daemon = Daemon(self.config, account.password)

    def run(self, now: datetime, *, check: bool = True, **env: str):
        self.daemon.now, self.daemon.extra_env = now.isoformat(), env
        try:
            return self.daemon.run("run", "--once", check=check)
        finally:
            self.daemon.now, self.daemon.extra_env = None, {}

    def status(self, now: datetime) -> dict:
        self.daemon.now = now.isoformat()
        try:
            return json.loads(self.daemon.run("status", "--json").stdout)
        finally:
            self.daemon.now = None

    def messages(self) -> list[dict]:
        return self.daemon.messages()

    def query(self, sql: str, args=()) -> list[dict]:
        conn = sqlite3.connect(self.config.parent / "var" / "tonghop.db")
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, args).fetchall()]
        finally:
            conn.close()

    def outbox(self) -> list[dict]:
        return self.query("select id, key, kind, unit_id, recipients, message_id, status, attempts, last_error, "
                          "next_attempt_at from outbox order by id")


@pytest.fixture(scope="module")
def office_dovecot():
    """A Dovecot that runs on Vietnam time, as the office's server does: it reports INTERNALDATE
    with +07:00, while the service's clock works in UTC, so every comparison of the two is
    exercised across offsets (the shared test Dovecot runs on the machine's UTC)."""
    server = Dovecot()
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Ho_Chi_Minh"  # inherited by the master and its imap processes
    try:
        server.start()
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
    yield server
    server.close()


@pytest.fixture
def office(tmp_path, office_dovecot, smtp_sink):
    return Office(tmp_path, ImapAccount(office_dovecot, *office_dovecot.new_user()), smtp_sink)


# --- submissions ------------------------------------------------------------------------------


@dataclass
class Submission:
    unit: str
    arrived: datetime
    kinds: tuple[str, ...]  # "KH", "BC": one document each, in one message
    number: int | None = None  # pin the document number (a corrected version)
    raw: bytes = b""
    message_id: str = ""
    docs: list[dict] = field(default_factory=list)  # {"req", "number", "date", "file"}

    def build(self) -> "Submission":
        unit = CONFIG.unit(self.unit)
        files = []
        for kind in self.kinds:
            extra = {"number": self.number} if self.number is not None else {}
            report = samples.build_report(samples.sample_unit(unit), 2024, kind=kind, **extra)
            name = f"{'Bao cao' if kind == 'BC' else 'Ke hoach'} dan van 2024 - {self.unit}.docx"
            files.append((name, samples.render_docx(report)))
            self.docs.append({"req": KIND_OF[kind], "number": report.expected["number"],
                              "date": report.expected["date"], "file": name})
        words = " và ".join("kế hoạch" if k == "KH" else "báo cáo" for k in self.kinds)
        self.raw = corpus.submission(unit.emails[0], f"{unit.name} gửi {words} công tác dân vận năm 2024", files,
                                     sent=self.arrived - timedelta(minutes=2))
        self.message_id = message_id_of(self.raw)
        return self

    @property
    def reqs(self) -> set[str]:
        return {KIND_OF[k] for k in self.kinds}


PASSES = [at(1), at(11, 8, 5), at(14), at(17, 8, 5), at(18, 8, 5), at(20, 10), at(21, 8, 5), at(24, 8, 5), at(26)]
DIGEST_DAYS = {11, 14, 17, 18, 21, 24}  # working days from the first reminder to the last overdue step
BOTH = ("KH", "BC")

PLAN = [
    Submission("tt-my-an", at(30, 16, month=9), BOTH),
    Submission("xa-thanh-loi", at(1, 7, 45), BOTH),
    Submission("xa-hung-thanh", at(2, 10), ("KH",)),
    Submission("xa-hung-thanh", at(9, 14), ("BC",)),
    Submission("xa-truong-xuan", at(10, 16, 20), BOTH),
    Submission("xa-tan-kieu", at(8, 10), BOTH),
    Submission("xa-tan-kieu", at(15, 9, 30), ("BC",), number=7),  # a corrected report
    Submission("xa-my-hoa", at(7, 15), ("KH",)),
    Submission("xa-my-hoa", at(11, 8, 30), ("BC",)),
    Submission("xa-my-quy", at(14, 7), BOTH),  # early on a digest day: in that day's arrivals
    Submission("xa-my-dong", at(16, 10), BOTH),
    Submission("xa-doc-binh-kieu", at(12, 9), ("KH",)),  # the report never comes
    Submission("xa-my-an", at(17, 9), BOTH),
    Submission("xa-phu-dien", at(18, 15), BOTH),
    Submission("xa-lang-bien", at(19, 23, 59, 30), BOTH),  # half a minute before the deadline
    Submission("xa-thanh-my", at(20, 0, 0, 30), BOTH),  # half a minute after it
    Submission("van-phong", at(22, 10), BOTH),
    Submission("phong-tu-phap", at(16, 11), ("BC",)),
    Submission("phong-tu-phap", at(23, 14), ("KH",)),  # the plan, late
    Submission("phong-tai-chinh-ke-hoach", at(25, 9), BOTH),
    Submission("phong-van-hoa", at(3, 8), ("KH",)),
    Submission("phong-giao-duc", at(5, 9), BOTH),
    Submission("phong-y-te", at(13, 10), BOTH),  # a Sunday
    Submission("phong-kinh-te-ha-tang", at(18, 7, 50), BOTH),  # minutes before the 08:00 step
    Submission("phong-nong-nghiep", at(21, 9), ("BC",)),
    Submission("tt-van-hoa-the-thao", at(11, 7, 59), BOTH),  # processed in the pass that reminds
    Submission("ban-qlda", at(24, 8), BOTH),  # just before the second overdue step
    Submission("tt-dich-vu-nong-nghiep", at(15, 10), ("KH",)),
    Submission("tt-dich-vu-nong-nghiep", at(19, 10), ("BC",)),
]
NEVER = {"phong-tai-nguyen-moi-truong", "phong-lao-dong", "thanh-tra", "tt-gdnn-gdtx"}


def missing_at(plan: list[Submission], unit: str, moment: datetime) -> tuple[str, ...]:
    have = set().union(*[s.reqs for s in plan if s.unit == unit and s.arrived <= moment])
    return tuple(r for r in REQS if r not in have)


def expected_chases(plan: list[Submission], passes: list[datetime]) -> dict[str, tuple]:
    """key -> (pass, unit, kind, requirements): at each pass, for each unit still missing
    something, the latest step of the right kind that has passed, once per step."""
    out: dict[str, tuple] = {}
    for moment in passes:
        if OPENING.at <= moment < STEPS[0].at:  # the opening notice, once per unit, until reminders begin
            for unit in UNITS:
                missing = missing_at(plan, unit, moment)
                if missing:
                    out.setdefault(f"opening:dan-van:2024:{unit}", (moment, unit, "opening", missing))
            continue
        kind = "reminder" if moment < DEADLINE else "overdue"
        due = [s for s in STEPS if s.kind == kind and s.at <= moment]
        for unit in UNITS:
            missing = missing_at(plan, unit, moment)
            if missing and due:
                key = f"{kind}:dan-van:2024:{unit}:{due[-1].at.date().isoformat()}"
                out.setdefault(key, (moment, unit, kind, missing))
    return out


DIGEST_COUNTS = re.compile(r"^\((\d)\) (.+), hạn nộp (trước [^:]*?): đúng hạn (\d+), trễ hạn (\d+), chưa nộp (\d+) "
                           r"trên (\d+) đơn vị\.$", re.M)
DIGEST_ARRIVAL = re.compile(r"^(\d\d:\d\d ngày [\d/]+) \| (.+?) +\| (.+?) +\|(?: (.+))?$", re.M)
WORDS = {"on_time": "đúng hạn", "late": "trễ hạn", "missing": "chưa nộp"}


def check_digest(mail: Mail, status: dict, plan: list[Submission], now: datetime) -> None:
    """The digest's numbers, table and newest arrivals agree with `status --json` at that time:
    the counts per requirement (by name, with its deadline in words), one line per unit that still
    owes something and none for a unit that sent everything, the arrivals by unit and document name."""
    campaign = status["campaigns"][0]
    found = {m.group(2): (m.group(1), m.group(3), tuple(int(x) for x in m.group(4, 5, 6, 7)))
             for m in DIGEST_COUNTS.finditer(mail.text)}
    assert set(found) == set(NAMES.values()), mail.text
    for k, req in enumerate(campaign["requirements"], 1):
        cells = [u["submissions"][req["id"]]["status"] for u in campaign["units"]]
        want = (cells.count("on_time"), cells.count("late"), cells.count("missing"), len(campaign["units"]))
        assert found[req["name"]] == (str(k), "trước ngày 20/10/2024", want), (now, req["id"], found[req["name"]], want)
    for unit in campaign["units"]:
        statuses = [unit["submissions"][r]["status"] for r in REQS]
        row = re.compile(rf"^\d+ +\| {re.escape(unit['name'])} +\| " + r" +\| ".join(WORDS[s] for s in statuses) + "$", re.M)
        listed = re.search(rf"^\d+ +\| {re.escape(unit['name'])} +\|", mail.text, re.M)
        if "missing" in statuses:
            assert row.search(mail.text), (unit["name"], statuses, mail.text)
        else:
            assert listed is None, (unit["name"], "sent everything but is listed as owing")
    arrivals = {(m.group(2), m.group(3), m.group(4), m.group(1)) for m in DIGEST_ARRIVAL.finditer(mail.text)}
    want = {(CONFIG.unit(s.unit).name, NAMES[d["req"]], d["number"], shown(s.arrived))
            for s in plan if now - timedelta(days=1) <= s.arrived <= now for d in s.docs}
    assert arrivals == want, (now, arrivals ^ want)
    for jargon in ("«", "»", "kỳ 2024", "giờ máy chủ", "00:00", "ke-hoach", "bao-cao", "dan-van"):
        assert jargon not in mail.text, (jargon, mail.text)


def check_ack(mail: Mail, sub: Submission, plan: list[Submission]) -> None:
    unit = CONFIG.unit(sub.unit)
    assert mail.to == (unit.emails[0],)
    assert mail.in_reply_to == sub.message_id and mail.references == sub.message_id
    assert mail.auto_submitted == "auto-replied"
    assert f"lúc {shown(sub.arrived)}" in mail.text
    on_time = sub.arrived < DEADLINE
    for doc in sub.docs:
        day = datetime.fromisoformat(doc["date"]).strftime("%d/%m/%Y")
        line = next(x for x in mail.text.splitlines() if f"(tệp {doc['file']})" in x)
        assert f"số {doc['number']} ngày {day}" in line, line
        assert f"ghi nhận là {NAMES[doc['req']]}" in line
        assert ("đúng hạn" in line) == on_time and ("trễ hạn (hạn nộp trước ngày 20/10/2024)" in line) == (not on_time)
    owed = missing_at(plan, sub.unit, sub.arrived)
    for req in REQS:
        assert (f"- {NAMES[req]}, hạn nộp" in mail.text) == (req in owed), (sub.unit, req, mail.text)
    assert ("đã gửi đủ" in mail.text) == (not owed)


def test_a_cycle_over_28_units_sends_exactly_the_mail_due(office):
    plan = [s.build() for s in PLAN]
    assert len(UNITS) == 28 and {s.unit for s in plan} | NEVER == set(UNITS)
    expected = expected_chases(plan, PASSES)
    by_pass: dict[datetime, list[Mail]] = {}
    appended, previous = 0, None
    for now in PASSES:
        for sub in plan:  # what the server received since the last pass, with its arrival time
            if (previous is None or sub.arrived > previous) and sub.arrived <= now:
                office.account.append(sub.raw, sub.arrived)
                appended += 1
        previous = now
        start = len(office.sink.messages)
        office.run(now)
        mails = by_pass[now] = received(office.sink, start)
        digests = [m for m in mails if m.kind == "digest"]
        if now.day in DIGEST_DAYS and now.month == 10:
            assert len(digests) == 1 and digests[0].to == tuple(STAFF)
            check_digest(digests[0], office.status(now), plan, now)
        else:
            assert digests == []
        # the chases of this pass are exactly those the plan and the steps call for now
        chases = {m.message_id: m for m in mails if m.kind in ("opening", "reminder", "overdue")}
        want = {make_message_id(k, DOMAIN): v for k, v in expected.items() if v[0] == now}
        assert set(chases) == set(want), (now, sorted(v[1] for v in want.values()),
                                         sorted(m.to[0] for m in chases.values()))
        for mid, (_, unit, kind, missing) in want.items():
            mail = chases[mid]
            assert mail.kind == kind and mail.to == (CONFIG.unit(unit).emails[0],)
            assert mail.auto_submitted == "auto-generated" and mail.in_reply_to is None
            assert f"Kính gửi: {addressee_of(CONFIG.unit(unit))}." in mail.text and "trước ngày 20/10/2024" in mail.text
            assert "Thực hiện Công văn số 1234/UBND-NV ngày 15/09/2024 của UBND huyện" in mail.text
            assert "Người liên hệ: Nguyễn Thị Lan" in mail.text and "Điện thoại: 0277 3826 123" in mail.text
            assert ("đã quá hạn" in mail.text) == (kind == "overdue")
            for req in REQS:
                assert (f"- {NAMES[req]}: hạn nộp" in mail.text) == (req in missing), (unit, req, mail.text)
    assert appended == len(plan)

    everything = received(office.sink)
    # every mail exactly once, every outbox row delivered
    assert Counter(m.message_id for m in everything).most_common(1)[0][1] == 1
    outbox = office.outbox()
    assert {r["status"] for r in outbox} == {"sent"} and len(outbox) == len(everything)
    assert {r["message_id"] for r in outbox} == {m.message_id for m in everything}

    # one acknowledgement per message, threaded, with the facts of each document
    acks = {m.in_reply_to: m for m in everything if m.kind == "ack"}
    assert len(acks) == len(plan) == sum(1 for m in everything if m.kind == "ack")
    for sub in plan:
        check_ack(acks[sub.message_id], sub, plan)

    # per unit: the chases, in order, are those the steps say for the days the unit still owed
    steps_by_day = {s.at.date(): s for s in STEPS}
    for unit in UNITS:
        address = CONFIG.unit(unit).emails[0]
        got = [(m.kind, d) for d, ms in by_pass.items() for m in ms if m.kind in ("opening", "reminder", "overdue")
               and m.to == (address,)]
        want = [(v[2], v[0]) for v in sorted(expected.values(), key=lambda v: v[0]) if v[1] == unit]
        assert got == want, unit
        last = max((s.arrived for s in plan if s.unit == unit), default=None)
        if last is not None and not missing_at(plan, unit, last):
            assert all(d < last for _, d in got), unit  # none once it has sent everything
    # spot checks that do not depend on the model: the opening notice on the first pass after
    # 30/09, 11, 17, 18 reminders, 21 and 24 overdue
    assert OPENING.at == at(30, 8, month=9)
    five = [("reminder", 11), ("reminder", 17), ("reminder", 18), ("overdue", 21), ("overdue", 24)]
    assert sorted(steps_by_day) == [at(d).date() for _, d in five]
    five = [("opening", 1), *five]
    for unit in NEVER | {"xa-doc-binh-kieu", "phong-van-hoa"}:
        address = CONFIG.unit(unit).emails[0]
        assert [(m.kind, d.day) for d, ms in by_pass.items() for m in ms if m.to == (address,)
                and m.kind != "ack"] == five, unit
    for unit in ("xa-hung-thanh", "xa-tan-kieu", "tt-van-hoa-the-thao", "phong-giao-duc"):  # sent after 01/10
        assert [m.kind for m in everything if m.kind != "ack" and m.to == (CONFIG.unit(unit).emails[0],)] == ["opening"], unit
    for unit in ("tt-my-an", "xa-thanh-loi"):  # sent everything before the first pass
        assert not [m for m in everything if m.kind != "ack" and m.to == (CONFIG.unit(unit).emails[0],)], unit
    overdue_units = {m.to[0] for m in everything if m.kind == "overdue"}
    late_or_never = {CONFIG.unit(u).emails[0] for u in UNITS if missing_at(plan, u, at(21, 8, 5))}
    assert overdue_units == late_or_never

    # the final state
    final = {u["id"]: u["submissions"] for u in office.status(at(26))["campaigns"][0]["units"]}
    for unit in UNITS:
        for req in REQS:
            versions = [s for s in plan if s.unit == unit and req in s.reqs]
            cell = final[unit][req]
            if not versions:
                assert cell["status"] == "missing" and cell["received_at"] is None
                continue
            first, newest = versions[0], versions[-1]
            assert cell["status"] == ("on_time" if first.arrived < DEADLINE else "late"), (unit, req)
            assert datetime.fromisoformat(cell["received_at"]) == newest.arrived
            assert cell["doc_number"] == next(d["number"] for d in newest.docs if d["req"] == req)
    assert final["xa-tan-kieu"]["bao-cao"]["doc_number"].startswith("7/BC-")
    assert final["xa-lang-bien"]["bao-cao"]["status"] == "on_time" and final["xa-thanh-my"]["bao-cao"]["status"] == "late"
    assert {m["status"] for m in office.messages()} == {"recorded"}

    kinds = Counter(m.kind for m in everything)
    print(f"\ncycle: {len(plan)} messages from {len(UNITS) - len(NEVER)} units, {len(PASSES)} passes; "
          f"mail sent: {dict(sorted(kinds.items()))}, total {len(everything)}")


def unit_address(unit: str, n: int = 0) -> str:
    return CONFIG.unit(unit).emails[n]


def report_files(unit: str, kinds=BOTH) -> list[tuple[str, bytes]]:
    return [(f"{kind}-{unit}.docx", samples.report_docx(samples.sample_unit(CONFIG.unit(unit)), 2024, kind=kind))
            for kind in kinds]


def test_noise_is_never_answered_and_a_bounce_moves_mail_to_the_other_address(office):
    # Pass 1, the morning of the first reminder: auto-replies, reports, list mail and our own mail
    # wait in the inbox with one unknown sender.
    noise = {
        "outlook": corpus.outlook_out_of_office(unit_address("phong-y-te")),
        "gmail": corpus.gmail_vacation("a@gmail.example"),
        "unmarked": corpus.unmarked_autoreply(unit_address("xa-thanh-loi")),
        "postfix": corpus.postfix_dsn("x@thapmuoi.example"),
        "exim": corpus.exim_bounce(),
        "list": corpus.list_mail(),
        "ourselves": corpus.from_ourselves(),
        "our alias": corpus.from_ourselves("noivu.thapmuoi@thapmuoi.example"),
        "our header": corpus.marked_as_ours(unit_address("xa-tan-kieu")),
    }
    stranger = corpus.submission("nguoi.la@gmail.example", "Báo cáo dân vận", report_files("xa-my-quy", ("BC",)))
    for i, raw in enumerate([*noise.values(), stranger]):
        office.account.append(raw, at(10, 16, i))
    office.run(at(11, 8, 5))
    rows = office.messages()
    assert [r["status"] for r in rows] == ["ignored"] * len(noise) + ["review"], [(r["from"], r["reason"]) for r in rows]
    first = received(office.sink)
    assert Counter(m.kind for m in first) == {"reminder": 28, "digest": 1, "review": 1}
    review = next(m for m in first if m.kind == "review")
    assert review.to == tuple(STAFF) and "nguoi.la@gmail.example" in review.subject
    reminders = {m.to[0]: m for m in first if m.kind == "reminder"}
    assert set(reminders) == {unit_address(u) for u in UNITS}

    # Pass 2, three days later: what came back about those reminders.
    myhoa, thanhloi, docbinhkieu = (reminders[unit_address(u)] for u in ("xa-my-hoa", "xa-thanh-loi", "xa-doc-binh-kieu"))
    answer = corpus.reply_to_ours(unit_address("phong-giao-duc"), reminders[unit_address("phong-giao-duc")].message_id,
                                  reminders[unit_address("phong-giao-duc")].subject, "Kính gửi...",
                                  files=report_files("phong-giao-duc"), text="Đơn vị gửi kế hoạch và báo cáo.")
    later = {
        "exchange": corpus.exchange_ndr(unit_address("xa-my-hoa"), myhoa.message_id, myhoa.subject),
        "gmail dsn": corpus.gmail_dsn(unit_address("xa-my-hoa"), myhoa.message_id, myhoa.subject),
        "qmail": corpus.qmail_bounce(unit_address("xa-thanh-loi"), thanhloi.message_id),
        "foreign dsn": corpus.gmail_dsn(unit_address("xa-my-quy"), "<CAF=abc123@mail.gmail.example>"),
        "out of office": corpus.outlook_out_of_office(unit_address("xa-my-dong")),
        "reply": corpus.reply_to_ours(unit_address("xa-doc-binh-kieu"), docbinhkieu.message_id, docbinhkieu.subject,
                                      docbinhkieu.text, text="Đơn vị sẽ gửi báo cáo trước ngày 18/10."),
        "answer with files": answer,
    }
    for i, raw in enumerate(later.values()):
        office.account.append(raw, at(14, 8, 10 + i))
    start = len(office.sink.messages)
    office.run(at(14, 9))
    rows = office.messages()[len(noise) + 1:]
    assert [r["status"] for r in rows] == ["ignored"] * 5 + ["review", "recorded"], [(r["from"], r["reason"]) for r in rows]
    second = received(office.sink, start)
    assert Counter(m.kind for m in second if m.kind != "address_failing") == {"review": 1, "ack": 1, "digest": 1}, \
        [(m.kind, m.to, m.subject) for m in second]
    # Exchange and Gmail both report Mỹ Hòa's address: marked once, the office told once.
    failing = [m for m in second if m.kind == "address_failing" and unit_address("xa-my-hoa") in m.subject]
    assert len(failing) == 1 and failing[0].to == tuple(STAFF)
    assert unit_address("xa-my-hoa", 1) in failing[0].text  # where mail goes from now on
    marked = {r["address"] for r in office.query("select address from failing_addresses")}
    assert unit_address("xa-my-hoa") in marked
    assert unit_address("xa-my-quy") not in marked  # that report was about someone else's mail
    assert not [m for m in second if m.kind == "address_failing" and unit_address("xa-my-quy") in m.subject]
    review = next(m for m in second if m.kind == "review")
    assert unit_address("xa-doc-binh-kieu") in review.subject  # a person reads the unit's answer
    ack = next(m for m in second if m.kind == "ack")
    assert ack.to == (unit_address("phong-giao-duc"),) and ack.in_reply_to == message_id_of(answer)

    # Pass 3, the next reminder: Mỹ Hòa's goes to its other address; Giáo dục has sent.
    start = len(office.sink.messages)
    office.run(at(17, 8, 5))
    third = {m.to[0]: m for m in received(office.sink, start) if m.kind == "reminder"}
    assert unit_address("xa-my-hoa", 1) in third and unit_address("xa-my-hoa") not in third
    assert unit_address("phong-giao-duc") not in third and unit_address("xa-doc-binh-kieu") in third
    assert len(third) == 27

    everything = received(office.sink)
    assert Counter(m.message_id for m in everything).most_common(1)[0][1] == 1
    noise_ids = {message_id_of(raw) for raw in [*noise.values(), *later.values()] if raw is not answer}
    assert not [m for m in everything if m.in_reply_to in noise_ids or m.kind == "ack" and m.in_reply_to != message_id_of(answer)]
    outsiders = {"a@gmail.example", "x@thapmuoi.example", "nobody@thapmuoi.example", "tin-tuc@baodongthap.example",
                 "nguoi.la@gmail.example", "mailer-daemon@googlemail.com", "mailer-daemon@mail.thapmuoi.example",
                 *CONFIG.office.own_addresses}
    assert not [m for m in everything if set(m.to) & outsiders]
    # the units that sent noise got only their scheduled reminders
    for unit in ("phong-y-te", "xa-thanh-loi", "xa-tan-kieu", "xa-my-quy", "xa-my-dong", "xa-doc-binh-kieu"):
        assert {m.kind for m in everything if unit_address(unit) in m.to} == {"reminder"}, unit


def test_a_thank_you_for_our_acknowledgement_is_ignored_and_answered_by_nothing(office):
    # Giáo dục sends its plan and report and gets tonghop's acknowledgement (with the day's
    # reminders to the others and the digest).
    sub = Submission("phong-giao-duc", at(10, 9), BOTH).build()
    office.account.append(sub.raw, sub.arrived)
    office.run(at(11, 8, 5))
    ack = next(m for m in received(office.sink) if m.kind == "ack")
    assert ack.to == (unit_address("phong-giao-duc"),)
    # Its clerk answers "Đã nhận" in the acknowledgement's thread, the acknowledgement quoted
    # below, nothing attached: a courtesy, not a submission a person must look at.
    thanks = corpus.reply_to_ours(unit_address("phong-giao-duc"), ack.message_id, ack.subject, ack.text,
                                  text="Đã nhận, cảm ơn Phòng Nội vụ.")
    office.account.append(thanks, at(11, 10))
    start, queued = len(office.sink.messages), len(office.outbox())
    office.run(at(11, 10, 5))
    row = next(r for r in office.messages() if r["message_id"] == message_id_of(thanks))
    assert (row["status"], row["reason"]) == ("ignored", t("ignored.courtesy")), row
    # Nothing goes out for it: no acknowledgement back (no mail loop), no review notice to staff.
    assert received(office.sink, start) == [] and len(office.outbox()) == queued


def test_mail_queued_while_the_smtp_server_is_down_arrives_once_it_is_back(office):
    sink = office.sink
    sink.stop()
    early = [Submission("xa-my-hoa", at(17, 16), BOTH).build(), Submission("phong-y-te", at(18, 7, 30), ("BC",)).build()]
    for sub in early:
        office.account.append(sub.raw, sub.arrived)
    # The first pass after a week of downtime, with the server down too: two acknowledgements,
    # one reminder per unit that owes (only the latest step, 18/10, not 11/10 or 17/10), the digest.
    office.run(at(18, 8, 5))
    rows = office.outbox()
    assert Counter(r["kind"] for r in rows) == {"ack": 2, "reminder": 27, "digest": 1}
    assert {r["key"].rsplit(":", 1)[1] for r in rows if r["kind"] == "reminder"} == {"2024-10-18"}
    assert all(r["status"] == "queued" and r["attempts"] == 1 for r in rows)
    assert all("Không kết nối được máy chủ thư" in r["last_error"] or "Chưa thử gửi" in r["last_error"] for r in rows)
    # Another pass while it is still down: one more arrival is queued too, nothing is lost.
    late = Submission("ban-qlda", at(18, 8, 7), BOTH).build()
    office.account.append(late.raw, late.arrived)
    office.run(at(18, 8, 10))
    rows = office.outbox()
    # Ban QLDA sent everything while its reminder waited: that reminder is withdrawn, not sent.
    stale = [r for r in rows if r["kind"] == "reminder" and r["unit_id"] == "ban-qlda"]
    assert len(stale) == 1 and stale[0]["status"] == "withdrawn" and "đã gửi đủ" in stale[0]["last_error"]
    waiting = [r for r in rows if r is not stale[0]]
    assert len(waiting) == 30 and {r["status"] for r in waiting} == {"queued"}
    assert Counter(r["attempts"] for r in waiting) == {2: 29, 1: 1}  # the new acknowledgement: 1
    assert sink.messages == []

    sink.start()  # back, on the same port
    office.run(at(18, 8, 15))  # past the backoff of every row (1 minute after the second failure)
    rows = office.outbox()
    assert Counter(r["status"] for r in rows) == {"sent": 30, "withdrawn": 1}
    got = Counter(m.message_id for m in received(sink))
    assert got == Counter({r["message_id"]: 1 for r in rows if r["status"] == "sent"})
    acks = {m.in_reply_to for m in received(sink) if m.kind == "ack"}
    assert acks == {s.message_id for s in [*early, late]}
    assert unit_address("ban-qlda") not in {m.to[0] for m in received(sink) if m.kind == "reminder"}
    office.run(at(18, 9))  # later passes send nothing again
    assert len(sink.messages) == len(rows) - 1 == 30


def test_a_kill_between_delivery_and_bookkeeping_sends_that_one_mail_at_most_twice(office):
    subs = [Submission(u, at(10, 9, i), BOTH).build() for i, u in enumerate(("xa-my-hoa", "xa-tan-kieu", "phong-y-te"))]
    for sub in subs:
        office.account.append(sub.raw, sub.arrived)
    # Killed right after the SMTP server accepted the first mail, before its row is marked sent.
    result = office.run(at(11, 8, 5), check=False, TONGHOP_CRASH_AT="after-deliver:1")
    assert result.returncode == -signal.SIGKILL
    assert len(office.sink.messages) == 1
    first = read_mail(office.sink.messages[0].raw, office.sink.messages[0].rcpt_tos)
    rows = office.outbox()
    leased = [r for r in rows if r["message_id"] == first.message_id]
    assert len(leased) == 1 and leased[0]["status"] == "queued"  # the database never heard of it
    assert Counter(r["kind"] for r in rows) == {"ack": 3, "reminder": 25, "digest": 1}
    # Restarted within the 15-minute lease: every other mail goes out, that one waits.
    office.run(at(11, 8, 10))
    assert {r["status"] for r in office.outbox() if r["message_id"] != first.message_id} == {"sent"}
    assert Counter(m.message_id for m in received(office.sink))[first.message_id] == 1
    # After the lease it goes out again, with the same Message-ID: the one duplicate.
    office.run(at(11, 8, 21))
    office.run(at(11, 9))
    rows = office.outbox()
    assert {r["status"] for r in rows} == {"sent"}
    got = Counter(m.message_id for m in received(office.sink))
    assert got[first.message_id] == 2
    assert {mid: n for mid, n in got.items() if mid != first.message_id} == {
        r["message_id"]: 1 for r in rows if r["message_id"] != first.message_id}
    print(f"\ncrash: {len(rows)} mails queued, {sum(got.values())} deliveries, duplicated: {first.kind}")
