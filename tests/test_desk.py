"""The clerk's desk: the hint in intake.decide (pure), then Desk's actions against real servers.

The integration part is the pattern of tests/test_cycle.py: mail goes into a real Dovecot with the
INTERNALDATE each case needs, the service is the real command line (`tonghop --now TS run
--once`) in a child process, its mail goes out to an aiosmtpd sink read back; the desk's actions
are taken in this process on the same ledger, as the web desk does in its own process.
"""
from __future__ import annotations

import contextlib
import email
import io
import json
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest

import corpus
from daemon.cli import main
from daemon.clock import Clock
from daemon.config_toml import load_config
from daemon.desk import Desk
from daemon.intake.decide import Reading, decide, hint_from_actions
from daemon.records import Hint
from daemon.store import Store
from parsers.model import FACT_NAMES, Attachment, Document, DocumentFacts, Fact, ParsedMessage
from servers import ImapAccount
from service import PASSWORD_ENV, Daemon, make_config
from tonghop_demo import samples

CONFIG = load_config(Path(__file__).resolve().parent.parent / "config")
TZ = CONFIG.office.timezone
ON_TIME = datetime(2024, 10, 15, 9, 0, tzinfo=TZ)
STRANGER = "vanthu.myhoa.2024@gmail.example"


# --- the hint in decide (pure) ------------------------------------------------------------------


def message(sender=STRANGER, files=("bc.docx",), headers=()):
    return ParsedMessage(
        message_id="<1@x>", subject="Báo cáo dân vận", from_addr=sender, from_name="", to=(CONFIG.office.address,),
        date=None, headers=tuple(headers), return_path=None, content_type="multipart/mixed", report_type=None,
        body_text="", attachments=tuple(Attachment(f, "application/octet-stream", b"PK..") for f in files),
    )


def doc(filename="bc.docx", text="BÁO CÁO ...", **values):
    facts = DocumentFacts(**{n: Fact(values.get(n), 0.9 if values.get(n) else 0.0) for n in FACT_NAMES}) if values else None
    return Document(filename=filename, kind="docx", text=text, facts=facts)


REPORT = dict(issuer="ỦY BAN NHÂN DÂN XÃ MỸ HÒA", type="BC", number="45/BC-UBND", date="2024-10-15",
              title="Kết quả thực hiện công tác dân vận năm 2024")
PLAN = dict(REPORT, type="KH", number="12/KH-UBND", title="Thực hiện công tác dân vận năm 2024")
UNRELATED = dict(REPORT, type="BC", number="9/BC-UBND", title="Tình hình phòng chống lụt bão")


def test_sender_hint_decides_as_if_from_the_unit_and_still_checks_the_rest():
    reading = Reading(message(), (doc(**REPORT),))
    assert decide(reading, CONFIG, ON_TIME).status == "review"
    out = decide(reading, CONFIG, ON_TIME, hint=Hint(unit_id="xa-my-hoa", who="hoa"))
    known = decide(Reading(message("ubnd.myhoa@thapmuoi.example"), (doc(**REPORT),)), CONFIG, ON_TIME)
    assert out.status == "recorded" and out.unit_id == "xa-my-hoa" and out.submissions == known.submissions
    assert "Cán bộ hoa xác nhận người gửi là UBND xã Mỹ Hòa" in out.reason
    # everything else is still checked: an unrelated document, no readable file, another issuer
    unmatched = decide(Reading(message(), (doc(**UNRELATED),)), CONFIG, ON_TIME, hint=Hint(unit_id="xa-my-hoa"))
    assert unmatched.status == "review" and unmatched.unit_id == "xa-my-hoa" and not unmatched.submissions
    blank = decide(Reading(message(), (doc(text=""),)), CONFIG, ON_TIME, hint=Hint(unit_id="xa-my-hoa"))
    assert blank.status == "review" and "không có tệp nào đọc được" in blank.reason
    other = decide(reading, CONFIG, ON_TIME, hint=Hint(unit_id="xa-my-an"))
    assert other.status == "review" and "ỦY BAN NHÂN DÂN XÃ MỸ HÒA" in other.reason


def test_the_clerk_vouches_for_the_sender_where_authentication_is_required():
    strict = replace(CONFIG, intake=replace(CONFIG.intake, require_authentication="dmarc",
                                            authserv_ids=("mx.thapmuoi.example",)))
    reading = Reading(message("ubnd.myhoa@thapmuoi.example"), (doc(**REPORT),))
    assert decide(reading, strict, ON_TIME).status == "review"
    assert decide(reading, strict, ON_TIME, hint=Hint(unit_id="xa-my-hoa")).status == "recorded"
    # an address approved at the desk is an address like those of units.toml: it is checked
    approved = {STRANGER: "xa-my-hoa"}
    assert decide(Reading(message(), (doc(**REPORT),)), strict, ON_TIME, approved=approved).status == "review"


def test_file_hint_records_the_requirement_even_when_matching_failed():
    reading = Reading(message(files=("scan.docx", "kh.docx")), (doc("scan.docx", **UNRELATED), doc("kh.docx", **PLAN)))
    hint = Hint(unit_id="xa-my-hoa", files={0: ("dan-van", "bao-cao")}, who="hoa")
    out = decide(reading, CONFIG, ON_TIME, hint=hint)
    assert out.status == "recorded" and out.unit_id == "xa-my-hoa"
    got = {(s.attachment_seq, s.requirement, s.cycle, s.doc_number) for s in out.submissions}
    assert got == {(0, "bao-cao", "2024", "9/BC-UBND"), (1, "ke-hoach", "2024", "12/KH-UBND")}
    assert "scan.docx là «" in out.reason and "Cán bộ hoa" in out.reason
    assert out.attachments[0].facts["number"] == "9/BC-UBND"  # the facts read are kept
    # an unreadable file the clerk identified is recorded too, and a seq or requirement that does not exist is not
    unreadable = decide(Reading(message(), (doc(text=""),)), CONFIG, ON_TIME,
                        hint=Hint(unit_id="xa-my-hoa", files={0: ("dan-van", "bao-cao")}))
    assert unreadable.status == "recorded" and [s.requirement for s in unreadable.submissions] == ["bao-cao"]
    bogus = decide(Reading(message(), (doc(**UNRELATED),)), CONFIG, ON_TIME,
                   hint=Hint(unit_id="xa-my-hoa", files={3: ("dan-van", "bao-cao"), 0: ("dan-van", "khong-co")}))
    assert bogus.status == "review" and not bogus.submissions


def test_approved_addresses_count_like_units_toml_which_wins():
    reading = Reading(message(), (doc(**REPORT),))
    out = decide(reading, CONFIG, ON_TIME, approved={STRANGER: "xa-my-hoa"})
    assert out.status == "recorded" and out.unit_id == "xa-my-hoa" and STRANGER in out.reason
    known = Reading(message("ubnd.myan@thapmuoi.example"), (doc(**REPORT, ),))
    assert decide(known, CONFIG, ON_TIME, approved={"ubnd.myan@thapmuoi.example": "xa-my-hoa"}).unit_id == "xa-my-an"
    assert decide(reading, CONFIG, ON_TIME, approved={STRANGER: "khong-con"}).status == "review"


def test_ignore_hint_wins_and_the_last_action_decides():
    reading = Reading(message("ubnd.myhoa@thapmuoi.example"), (doc(**REPORT),))
    out = decide(reading, CONFIG, ON_TIME, hint=Hint(ignore="Cán bộ hoa xác định ..."))
    assert out.status == "ignored" and out.reason == "Cán bộ hoa xác định ..." and not out.submissions

    def act(action, who="hoa", **detail):
        return {"action": action, "who": who, "detail": detail}

    assert hint_from_actions([]) is None and hint_from_actions([act("write_draft", campaign="dan-van")]) is None
    h = hint_from_actions([act("file_is", seq=0, unit="xa-my-an", campaign="dan-van", requirement="bao-cao"),
                           act("sender_is", "lan", unit="xa-my-hoa"),
                           act("file_is", seq=1, unit="xa-my-hoa", campaign="dan-van", requirement="ke-hoach")])
    assert h == Hint(unit_id="xa-my-hoa", files={1: ("dan-van", "ke-hoach")}, who="hoa")
    h = hint_from_actions([act("sender_is", unit="xa-my-hoa"), act("ask_resend", "lan", note="gửi bản PDF", reason="R")])
    assert (h.ignore, h.resend_note, h.unit_id, h.who) == ("R", "gửi bản PDF", "xa-my-hoa", "lan")
    h = hint_from_actions([act("not_a_submission", reason="R"), act("sender_is", unit="xa-my-an")])
    assert h.ignore is None and h.resend_note is None and h.unit_id == "xa-my-an"


# --- the desk against real servers ----------------------------------------------------------------

ICT = timezone(timedelta(hours=7))


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2024, 10, day, hour, minute, tzinfo=ICT)


def report_mail(sender: str, unit_id: str, kind: str = "BC", sent: datetime = at(15)) -> bytes:
    unit = CONFIG.unit(unit_id)
    report = samples.build_report(samples.sample_unit(unit), 2024, kind=kind)
    name = f"Van ban {kind} - {unit_id}.docx"
    return corpus.submission(sender, f"{unit.name} gửi văn bản năm 2024 ({kind})", [(name, samples.render_docx(report))],
                             sent=sent - timedelta(minutes=2))


class Office:
    """The service (a child process, pass by pass) and the desk (this process) on one ledger."""

    def __init__(self, tmp_path, account, sink):
        self.account, self.sink = account, sink
        self.cfg_dir = make_config(tmp_path, account.url(), f"smtp://127.0.0.1:{sink.port}", timeout_seconds="5")
        self.daemon = Daemon(self.cfg_dir, account.password)
        self.config = load_config(self.cfg_dir)
        self.store = Store.open(self.config)  # created now: the service and the desk share it

    def run(self, now: datetime, *args: str, check: bool = True):
        self.daemon.now = now.isoformat()
        try:
            return self.daemon.run(*(args or ("run", "--once")), check=check)
        finally:
            self.daemon.now = None

    def cli(self, now: datetime, *args: str) -> tuple[int, str, str]:
        """A command in this process (the real main(); cheaper than a child for what is not the service)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--config", str(self.cfg_dir), "--now", now.isoformat(), *args])
        return code, out.getvalue(), err.getvalue()

    def desk(self, now: datetime) -> Desk:
        return Desk(self.config, self.store, Clock(now))

    def deliver(self, raw: bytes, now: datetime) -> int:
        """Mail arriving at `now` and the pass that takes it; returns its message id."""
        self.account.append(raw, now)
        self.run(now + timedelta(minutes=1))
        return self.store.last_id("messages")

    def mails(self, start: int = 0) -> list:
        """What the sink received since `start`: the answers to messages (not the digest or reminders)."""
        out = []
        for m in self.sink.messages[start:]:
            msg = email.message_from_bytes(m.raw, policy=policy.default)
            out.append({"kind": str(msg["X-Tonghop-Kind"]), "to": tuple(a.lower() for a in m.rcpt_tos),
                        "subject": str(msg["Subject"]), "in_reply_to": str(msg["In-Reply-To"] or ""),
                        "text": msg.get_body(("plain",)).get_content()})
        return [m for m in out if m["kind"] not in ("digest", "reminder", "overdue")]

    def count(self, sql: str, args=()) -> int:
        conn = sqlite3.connect(self.config.storage.db_path)
        try:
            return conn.execute(sql, args).fetchone()[0]
        finally:
            conn.close()

    def status_of(self, unit_id: str, now: datetime) -> dict:
        doc = json.loads(self.cli(now, "status", "--json")[1])
        unit = next(u for u in doc["campaigns"][0]["units"] if u["id"] == unit_id)
        return {r: s["status"] for r, s in unit["submissions"].items()}


@pytest.fixture
def office(tmp_path, imap_account, smtp_sink, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, imap_account.password)  # load_config asks for it, as the service's does
    return Office(tmp_path, imap_account, smtp_sink)


def subject_shape(subject: str) -> str:
    return subject.split(":")[0]


def test_sender_is_with_remember_answers_once_as_for_a_known_address(office):
    # a known unit's mail, for the acknowledgement a normal submission gets
    office.deliver(report_mail("ubnd.myan@thapmuoi.example", "xa-my-an"), at(15, 8))
    normal = [m for m in office.mails() if m["kind"] == "ack"]
    assert len(normal) == 1 and normal[0]["to"] == ("ubnd.myan@thapmuoi.example",)

    start = len(office.sink.messages)
    msg_id = office.deliver(report_mail(STRANGER, "xa-my-hoa"), at(15, 9))
    row = office.store.message(msg_id)
    assert row["status"] == "review" and STRANGER in row["reason"]
    assert [m["kind"] for m in office.mails(start)] == ["review"]  # to the staff; the stranger gets nothing yet
    assert "tonghop resolve" in office.mails(start)[0]["text"] and "bàn làm việc web" in office.mails(start)[0]["text"]

    result = office.desk(at(15, 10)).sender_is(msg_id, "xa-my-hoa", who="hoa", remember=True)
    assert result.ok and result.status == "recorded" and "Cán bộ hoa" in result.reason, result
    assert office.store.approved_addresses() == {STRANGER: "xa-my-hoa"}
    assert [(a["who"], a["action"], a["message"]) for a in office.desk(at(15, 10)).actions(msg_id)] == [
        ("hoa", "sender_is", msg_id)]
    assert office.status_of("xa-my-hoa", at(15, 10)) == {"ke-hoach": "missing", "bao-cao": "on_time"}

    start = len(office.sink.messages)
    office.run(at(15, 10, 5))
    acks = office.mails(start)
    assert [m["kind"] for m in acks] == ["ack"] and acks[0]["to"] == (STRANGER,)
    assert subject_shape(acks[0]["subject"]) == subject_shape(normal[0]["subject"]) == "Đã nhận"
    assert "Kính gửi UBND xã Mỹ Hòa" in acks[0]["text"] and "ghi nhận cho «" in acks[0]["text"]

    # deciding it again (the desk, or `tonghop reprocess`) doubles nothing and keeps the clerk's word
    outbox, subs = office.count("select count(*) from outbox"), office.count("select count(*) from submissions")
    office.desk(at(15, 11)).sender_is(msg_id, "xa-my-hoa", who="hoa")
    assert office.cli(at(15, 11), "reprocess", str(msg_id))[0] == 0
    assert office.cli(at(15, 11), "reprocess", str(msg_id))[0] == 0
    assert office.store.message(msg_id)["status"] == "recorded"
    assert (office.count("select count(*) from outbox"), office.count("select count(*) from submissions")) == (outbox, subs)

    # the next mail from that address is recorded at once, with its own acknowledgement
    start = len(office.sink.messages)
    second = office.deliver(report_mail(STRANGER, "xa-my-hoa", kind="KH", sent=at(16)), at(16))
    assert office.store.message(second)["status"] == "recorded" and office.store.message(second)["unit_id"] == "xa-my-hoa"
    assert [(m["kind"], m["to"]) for m in office.mails(start)] == [("ack", (STRANGER,))]
    assert office.status_of("xa-my-hoa", at(16, 10)) == {"ke-hoach": "on_time", "bao-cao": "on_time"}

    # check-config lists the address to copy into units.toml, as the exact line to paste
    code, out, _ = office.cli(at(16, 10), "check-config")
    assert code == 0
    assert STRANGER in out and 'emails = ["ubnd.myhoa@thapmuoi.example", "vanthu.myhoa@thapmuoi.example", ' \
        f'"{STRANGER}"]' in out, out


def test_file_is_records_the_file_and_sends_the_recorded_answer_once(office):
    msg_id = office.deliver(report_mail("ubnd.myhoa@thapmuoi.example", "xa-my-hoa", kind="CV"), at(15))
    assert office.store.message(msg_id)["status"] == "review"
    first = office.mails()
    assert sorted(m["kind"] for m in first) == ["ack", "review"]
    assert next(m for m in first if m["kind"] == "ack")["subject"].startswith("Đã nhận, cần bổ sung")

    desk = office.desk(at(15, 10))
    refused = [desk.file_is(msg_id, 0, "xa-my-hoa", "dan-van", "khong-co", who="hoa"),
               desk.file_is(msg_id, 5, "xa-my-hoa", "dan-van", "bao-cao", who="hoa"),
               desk.file_is(msg_id, 0, "khong-co", "dan-van", "bao-cao", who="hoa"),
               desk.file_is(msg_id, 0, "phong-noi-vu", "dan-van", "bao-cao", who="hoa"),
               desk.file_is(999, 0, "xa-my-hoa", "dan-van", "bao-cao", who="hoa"),
               desk.sender_is(msg_id, "xa-my-an", who="", remember=True),
               desk.sender_is(msg_id, "xa-my-an", who="hoa", remember=True)]  # the address is xa-my-hoa's
    assert [r.ok for r in refused] == [False] * len(refused)
    assert "khong-co" in refused[0].reason and "tệp đính kèm số 6" in refused[1].reason
    assert "Không có thư mã 999" in refused[4].reason and "units.toml" in refused[6].reason
    assert desk.actions() == [] and office.store.message(msg_id)["status"] == "review"  # nothing changed

    # through `tonghop resolve --file 1` (the number the review notice shows; the only campaign with it)
    code, out, err = office.cli(at(15, 10), "resolve", str(msg_id), "--file", "1", "--unit", "xa-my-hoa",
                                "--requirement", "bao-cao", "--who", "hoa")
    assert code == 0 and "đã ghi nhận" in out, (out, err)
    assert [(a["action"], a["detail"]["seq"]) for a in desk.actions(msg_id)] == [("file_is", 0)]
    subs = office.store.submissions_of(msg_id)
    assert [(s["requirement"], s["unit_id"]) for s in subs] == [("bao-cao", "xa-my-hoa")] and subs[0]["doc_number"]
    start = len(office.sink.messages)
    office.run(at(15, 10, 5))
    assert office.cli(at(15, 11), "reprocess", str(msg_id))[0] == 0
    assert office.count("select count(*) from outbox where status = 'queued'") == 0  # nothing more to send
    assert office.store.message(msg_id)["status"] == "recorded"
    answers = office.mails(start)
    assert [(m["kind"], m["to"]) for m in answers] == [("ack", ("ubnd.myhoa@thapmuoi.example",))]
    assert answers[0]["subject"].startswith("Đã nhận: ")


def test_not_a_submission_and_ask_resend(office):
    office.account.append(report_mail(STRANGER, "xa-my-hoa", kind="CV"), at(15))
    office.account.append(report_mail("ubnd.myan@thapmuoi.example", "xa-my-an", kind="CV", sent=at(15, 10)), at(15, 10))
    office.account.append(corpus.outlook_out_of_office("ubnd.myan@thapmuoi.example"), at(15, 10, 30))
    office.run(at(15, 10, 45))
    first, second, auto = (r["id"] for r in office.store.messages())
    assert [office.store.message(i)["status"] for i in (first, second, auto)] == ["review", "review", "ignored"]
    desk = office.desk(at(15, 11))

    # through `tonghop resolve`, which calls Desk.not_a_submission; a refusal exits 2 and changes nothing
    code, _, err = office.cli(at(15, 11), "resolve", str(first), "--unit", "khong-co", "--who", "lan")
    assert code == 2 and "khong-co" in err and office.store.desk_actions(first) == []
    assert office.cli(at(15, 11), "resolve", str(first), "--ignore", "--resend", "--who", "lan")[0] == 2
    code, out, _ = office.cli(at(15, 11), "resolve", str(first), "--ignore", "--note", "thư quảng cáo", "--who", "lan")
    reason = office.store.message(first)["reason"]
    assert code == 0 and "bỏ qua" in out and "Cán bộ lan" in reason and "thư quảng cáo" in reason and reason in out
    assert office.store.message(first)["status"] == "ignored"
    assert [(a["who"], a["action"]) for a in desk.actions(first)] == [("lan", "not_a_submission")]

    start = len(office.sink.messages)
    asked = desk.ask_resend(second, who="lan", note="Đề nghị gửi bản PDF có chữ ký.")
    assert asked.ok and asked.status == "ignored" and "gửi lại" in asked.reason, asked
    again = desk.ask_resend(second, who="lan", note="Đề nghị gửi bản PDF có chữ ký.")
    assert again.ok
    office.run(at(15, 11, 5))
    assert office.cli(at(15, 12), "reprocess", str(second))[0] == 0
    assert office.count("select count(*) from outbox where kind = 'resend' and status = 'sent'") == 1
    assert office.count("select count(*) from outbox where status = 'queued'") == 0  # nothing more to send
    replies = [m for m in office.mails(start)]
    assert [(m["kind"], m["to"]) for m in replies] == [("resend", ("ubnd.myan@thapmuoi.example",))]
    text = replies[0]["text"]
    assert "UBND xã Mỹ An gửi văn bản năm 2024 (CV)" in text and "Đề nghị gửi bản PDF có chữ ký." in text
    assert "10:00 ngày 15/10/2024" in text and replies[0]["in_reply_to"]

    # a sender_is afterwards takes the message back from "ignored"; an automatic mail is never asked again
    back = desk.sender_is(first, "xa-my-hoa", who="lan")
    assert back.ok and back.status == "review"  # a công văn: still nothing that matches
    refused = desk.ask_resend(auto, who="lan")
    assert not refused.ok and "tự động" in refused.reason and office.store.message(auto)["status"] == "ignored"


# --- refusals, the draft and check-config's lines, on a ledger without servers ----------------------


def test_refusals_change_nothing_and_the_draft_is_recorded_with_who(tmp_path, monkeypatch):
    from daemon.checks import pending_addresses

    config = replace(CONFIG, storage=replace(CONFIG.storage, root=tmp_path / "var"))
    store = Store.open(config)
    raw = corpus.submission(STRANGER, "Báo cáo", [])
    msg_id, _ = store.claim(("maildir:x", "INBOX", 1, "1"), sha256=store.archive.put(raw), size=len(raw),
                            message_id=None, received_at=ON_TIME.isoformat())
    desk = Desk(config, store, Clock(ON_TIME))
    claimed = desk.sender_is(msg_id, "xa-my-hoa", who="hoa")
    assert not claimed.ok and "đang được xử lý" in claimed.reason and claimed.status == "claimed"
    assert not desk.not_a_submission(msg_id, who="  ").ok and not desk.write_draft("khong-co", "2024", who="hoa").ok
    assert desk.actions() == [] and store.message(msg_id)["status"] == "claimed"

    drafted = desk.write_draft("dan-van", "2024", who="hoa")
    assert drafted.ok and len(drafted.paths) == 3 and all(Path(p).is_file() for p in drafted.paths)
    [action] = desk.actions()
    assert set(action) == {"id", "at", "who", "action", "message", "detail"}
    assert (action["who"], action["action"], action["message"], action["detail"]["cycle"]) == ("hoa", "write_draft", None, "2024")
    assert action["at"].startswith("2024-10-15T")

    # check-config's lines: the exact line to paste; an address units.toml gives another unit is said
    store.approve_address(STRANGER, "xa-my-hoa", who="hoa", now=ON_TIME, message=msg_id)
    store.approve_address("ubnd.myan@thapmuoi.example", "xa-my-hoa", who="lan", now=ON_TIME, message=msg_id)
    store.approve_address("ubnd.myhoa@thapmuoi.example", "xa-my-hoa", who="lan", now=ON_TIME, message=msg_id)
    lines = pending_addresses(config, store.approved_address_rows())
    assert f'      emails = ["ubnd.myhoa@thapmuoi.example", "vanthu.myhoa@thapmuoi.example", "{STRANGER}"]' in lines
    assert any("ubnd.myan@thapmuoi.example" in line and "UBND xã Mỹ An" in line for line in lines)
    assert not any(line.startswith("  - ubnd.myhoa@") for line in lines)  # already in units.toml
