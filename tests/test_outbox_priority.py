"""The outbox under the daily limit, against a real aiosmtpd server (tests/servers.py) and the
example config: a burst of review notices never delays the draft or the digest, and the review
notices the limit has no room for go out as one summary mail, each withdrawn row keeping its
reason. The service's own send_outbox is used, so the summary is the one the daemon writes."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest

from daemon.clock import Clock
from daemon.config_toml import load_config
from daemon.outgoing import notices
from daemon.records import KIND_HEADER, Outcome
from daemon.runner import Runner
from daemon.store import Store
from service import make_config

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2024, 10, 21, 8, 0, tzinfo=TZ)  # Monday after the deadline: reviews pile up
CAP = 10


@pytest.fixture
def service(tmp_path, smtp_sink):
    cfg = make_config(tmp_path, "maildir:../var/maildir", f"smtp://127.0.0.1:{smtp_sink.port}",
                      timeout_seconds="5", max_per_address_per_day=str(CAP))
    config = load_config(cfg)
    store = Store.open(config)
    runner = Runner(config, store, Clock(MORNING))
    yield config, store, runner
    store.close()


def add_review(config, store, runner, n: int, at: datetime) -> int:
    """An incoming message set aside for review, recorded with its review notice as the service does."""
    unit = config.units[n % len(config.units)]
    raw = f"From: {unit.emails[0]}\r\nSubject: Re: Nhắc gửi báo cáo {n}\r\n\r\nxem tệp\r\n".encode()
    sha = store.archive.put(raw)
    msg_id, _ = store.claim(("test", "INBOX", 1, str(n)), sha256=sha, size=len(raw), message_id=f"<m{n}@x>",
                            received_at=at.isoformat())
    outcome = Outcome(status="review", reason=f"Tệp đính kèm số {n} không đọc được.", unit_id=unit.id,
                      from_addr=unit.emails[0], subject=f"Re: Nhắc gửi báo cáo {n}")
    row = store.message(msg_id)
    mail = notices.review_notice(config, runner.renderer, msg_row=row, outcome=outcome, raw=raw,
                                 archive_path=store.archive.path(sha), now=at)
    store.record(msg_id, replace(outcome, outgoing=(mail,)), now=at)
    return msg_id


def add_draft(config, store, runner, tmp_path, at: datetime) -> None:
    campaign = config.campaigns[0]
    docx, xlsx = tmp_path / "du-thao.docx", tmp_path / "du-thao.xlsx"
    docx.write_bytes(b"docx")
    xlsx.write_bytes(b"xlsx")
    mail = notices.draft_mail(config, runner.renderer, campaign, "2024", 1, docx, xlsx, [], at)
    assert store.queue(mail, now=at)


def kinds(sink, start: int = 0) -> list[str]:
    return [BytesParser(policy=policy.default).parsebytes(m.raw)[KIND_HEADER] for m in sink.messages[start:]]


def text_of(raw: bytes) -> str:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    return msg.get_body(("plain",)).get_content()


def outbox(store) -> list[dict]:
    return list(store.db.query("select id, kind, message, status, last_error, next_attempt_at from outbox order by id"))


def test_forty_review_notices_and_a_draft_on_a_cap_of_ten(service, smtp_sink, tmp_path):
    config, store, runner = service
    staff = config.office.staff[0]
    reviews = [add_review(config, store, runner, n, MORNING - timedelta(hours=12) + timedelta(minutes=n))
               for n in range(40)]
    add_draft(config, store, runner, tmp_path, MORNING - timedelta(minutes=5))  # queued after all of them

    runner.send_outbox(MORNING)
    got = kinds(smtp_sink)
    # the draft first, the same morning; 8 notices one by one, then one summary: 10 mails in all
    assert got[0] == "draft" and got.count("review_summary") == 1 and got.count("review") == 8, got
    assert len(got) == CAP and all(m.rcpt_tos == [staff] for m in smtp_sink.messages)
    rows = outbox(store)
    by_message = {r["message"]: r for r in rows if r["kind"] == "review"}
    withdrawn = [r for r in rows if r["status"] == "withdrawn"]
    assert {r["status"] for r in by_message.values()} == {"sent", "withdrawn"} and len(withdrawn) == 32
    assert all(f"tối đa {CAP} thư" in r["last_error"] and "gộp vào thư tổng hợp" in r["last_error"] for r in withdrawn)
    assert not [r for r in rows if r["status"] == "queued"]  # nothing left waiting, nothing lost
    # the summary names exactly the withdrawn ones, each once, by message number and sender
    summary = text_of(next(m.raw for m in smtp_sink.messages if b"review_summary" in m.raw))
    listed = [int(x) for x in re.findall(r"^- Thư (\d+), nhận lúc", summary, re.M)]
    assert sorted(listed) == sorted(r["message"] for r in withdrawn)
    assert "Tệp đính kèm số" in summary and "32 thư dưới đây được gộp" in summary
    sent_ids = {r["message"] for r in by_message.values() if r["status"] == "sent"}
    assert sent_ids.isdisjoint(listed) and sent_ids | set(listed) == set(reviews)

    # Another pass the same day sends nothing again and makes no second summary.
    runner.send_outbox(MORNING + timedelta(minutes=5))
    assert len(smtp_sink.messages) == CAP

    # Three more notices soon after: they wait for the next summary (one per hour at most), and
    # the digest, due meanwhile, goes at once although the limit is reached.
    late = [add_review(config, store, runner, 100 + n, MORNING + timedelta(minutes=20)) for n in range(3)]
    digest = notices.digest(config, runner.renderer, MORNING.date(), [], [], [], MORNING + timedelta(minutes=30))
    assert store.queue(digest, now=MORNING + timedelta(minutes=30))
    runner.send_outbox(MORNING + timedelta(minutes=30))
    assert kinds(smtp_sink, CAP) == ["digest"]
    waiting = [r for r in outbox(store) if r["message"] in late]
    assert all(r["status"] == "queued" and "sẽ được gộp" in r["last_error"] for r in waiting)
    assert {datetime.fromisoformat(r["next_attempt_at"]) for r in waiting} == {MORNING + timedelta(hours=1)}

    runner.send_outbox(MORNING + timedelta(hours=1))
    assert kinds(smtp_sink, CAP + 1) == ["review_summary"]
    second = text_of(smtp_sink.messages[-1].raw)
    assert sorted(int(x) for x in re.findall(r"^- Thư (\d+),", second, re.M)) == late
    assert {r["status"] for r in outbox(store) if r["message"] in late} == {"withdrawn"}


def test_under_the_cap_every_notice_goes_on_its_own(service, smtp_sink):
    config, store, runner = service
    for n in range(CAP):
        add_review(config, store, runner, n, MORNING - timedelta(hours=1))
    runner.send_outbox(MORNING)
    assert kinds(smtp_sink) == ["review"] * CAP
    assert {r["status"] for r in outbox(store)} == {"sent"}
    assert json.loads(store.db.execute("select recipients from outbox limit 1").fetchone()[0]) == list(config.office.staff)


def test_a_summary_that_cannot_be_written_leaves_the_notices_waiting(service, smtp_sink):
    from daemon.outgoing.outbox import send_due

    config, store, runner = service
    for n in range(CAP + 3):
        add_review(config, store, runner, n, MORNING - timedelta(hours=1))

    def broken(rows):
        raise RuntimeError("mẫu thư hỏng")

    report = send_due(store, runner.sender, MORNING, tz=TZ, max_per_address_per_day=CAP, summarize=broken)
    assert len(report.sent) == CAP and len(report.limited) == 3 and not report.summarized
    held = [r for r in outbox(store) if r["status"] == "queued"]
    assert len(held) == 3 and all(f"{CAP} thư" in r["last_error"] for r in held)  # waiting, with the reason
