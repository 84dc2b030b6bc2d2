"""The office's morning digest and the words of the status table, read as the clerk reads them:
column headings, unit and document names (never ids or codes), one line per pending item, items
settled since gone, deadlines as "trước ngày 20/10/2024". Also the reply subjects: one prefix,
never "Đã nhận: Re: ...". Pure functions on the example config; no servers needed."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest

from daemon.cli import print_status_table
from daemon.config_toml import load_config
from daemon.outgoing import notices
from daemon.outgoing.compose import compose, strip_reply_prefixes, tidy_subject
from daemon.status import status_document
from service import make_config

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 10, 18, 8, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return load_config(make_config(tmp_path_factory.mktemp("digest"), "maildir:../var/maildir"))


def sub(unit: str, req: str, at: datetime, message: int, number: str) -> dict:
    return {"campaign": "dan-van", "cycle": "2024", "unit_id": unit, "requirement": req, "message": message,
            "received_at": at.isoformat(), "doc_number": number, "doc_date": "2024-10-10", "doc_title": "x",
            "filename": "a.docx"}


def review(msg_id: int, unit: str | None, address: str, at: datetime, reason: str) -> dict:
    return {"id": msg_id, "unit_id": unit, "from_addr": address, "received_at": at.isoformat(), "status": "review",
            "subject": "Re: Nhắc gửi kế hoạch", "reason": reason}


def scene(config):
    """Two units sent everything, one sent the plan only; three messages set aside for review."""
    units = config.campaigns[0].unit_ids
    done, partly = units[:2], units[2]
    rows = [sub(u, r, NOW - timedelta(days=3), 10 + i, f"{i}/KH-UBND") for i, u in enumerate(done)
            for r in ("ke-hoach", "bao-cao")]
    rows.append(sub(partly, "ke-hoach", NOW - timedelta(hours=3), 30, "159/KH-UBND"))
    reviews = [
        review(41, partly, config.unit(partly).emails[0], NOW - timedelta(days=1), "Tệp không đọc được."),  # settled
        review(42, done[0], config.unit(done[0]).emails[0], NOW - timedelta(hours=1), "Thư trả lời không có tệp."),
        review(43, None, "la@example.org", NOW - timedelta(hours=2), "Người gửi không thuộc đơn vị nào."),
    ]
    return rows, reviews, partly, done


def test_pending_reviews_drop_what_a_later_recorded_document_settled(config):
    rows, reviews, partly, done = scene(config)
    assert [m["id"] for m in notices.pending_reviews(reviews, rows)] == [42, 43]
    handled = dict(reviews[2], status="resolved")  # a clerk dealt with it
    assert [m["id"] for m in notices.pending_reviews([reviews[1], handled], rows)] == [42]


def test_the_digest_reads_as_the_clerk_reads_it(config):
    rows, reviews, partly, done = scene(config)
    arrivals = [r for r in rows if datetime.fromisoformat(r["received_at"]) >= NOW - timedelta(days=1)]
    mail = notices.digest(config, notices.Renderer(config.notices.templates), NOW.date(), rows, arrivals, reviews, NOW)
    msg = BytesParser(policy=policy.default).parsebytes(mail.raw)
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()
    campaign = config.campaigns[0]
    plan, report = (campaign.requirement(r).name for r in ("ke-hoach", "bao-cao"))

    # column headings above every table
    assert re.search(r"^STT +\| Đơn vị +\| \(1\) +\| \(2\)$", text, re.M)
    assert re.search(r"^Nhận lúc +\| Đơn vị +\| Văn bản +\| Số, ký hiệu$", text, re.M)
    assert re.search(r"^Mã thư +\| Nhận lúc +\| Người gửi +\| Lý do$", text, re.M)
    for head in ("<th>Đơn vị</th>", "<th>Hạn nộp</th>", "<th>Số, ký hiệu</th>", "<th>Mã thư</th>", f"<th>{plan}</th>"):
        assert head in html
    # the legend: each document by name with its deadline in words
    assert f"(1) {plan}, hạn nộp trước ngày 20/10/2024: đúng hạn 3, trễ hạn 0, chưa nộp" in text
    assert f"(2) {report}, hạn nộp trước ngày 20/10/2024: đúng hạn 2, trễ hạn 0, chưa nộp" in text
    # one line per unit that owes; the two that sent everything are not listed as owing
    table = text.split("Đơn vị chưa nộp đủ")[1].split("Văn bản mới nhận")[0]
    owing = [line for line in table.splitlines() if re.match(r"^\d+ +\| ", line)]
    assert len(owing) == len(campaign.unit_ids) - 2
    partly_line = next(line for line in owing if f"| {config.unit(partly).name} " in line)
    assert re.search(r"\| đúng hạn +\| chưa nộp$", partly_line)
    assert not any(f"| {config.unit(u).name} " in line for line in owing for u in done)
    # the new arrival by unit and document name, no codes
    assert re.search(rf"^\d\d:\d\d ngày 18/10/2024 \| {re.escape(config.unit(partly).name)} +\| {plan} +\| 159/KH-UBND$",
                     text, re.M)
    # pending reviews: the settled one gone, a known sender by the unit's name, a stranger by address
    waiting = [line for line in text.split("Thư đang chờ")[1].splitlines() if re.match(r"^\d+ +\| ", line)]
    assert [line.split("|")[0].strip() for line in waiting] == ["42", "43"]
    assert f"| {config.unit(done[0]).name} " in waiting[0] and "| la@example.org " in waiting[1]
    assert "Tệp không đọc được" not in text and "Tệp không đọc được" not in html
    for jargon in ("«", "»", "kỳ 2024", "giờ máy chủ", "00:00", "ke-hoach", "bao-cao", "dan-van", partly):
        assert jargon not in text and jargon not in html, jargon


def test_reply_subjects_carry_one_prefix():
    assert strip_reply_prefixes("RE: Fwd: TL: Đã nhận: Nhắc gửi kế hoạch") == "Nhắc gửi kế hoạch"
    assert tidy_subject("Đã nhận: Re: Nhắc gửi kế hoạch") == "Đã nhận: Nhắc gửi kế hoạch"
    assert tidy_subject("Đã nhận, cần bổ sung: re[2]: FW: đã nhận: Báo cáo") == "Đã nhận, cần bổ sung: Báo cáo"
    # subjects that only contain such words are left alone
    assert tidy_subject("Nhắc gửi báo cáo (hạn trước ngày 20/10/2024)") == "Nhắc gửi báo cáo (hạn trước ngày 20/10/2024)"
    assert tidy_subject("[Cần xem xét] Thư 5 từ a@b: Re: Báo cáo") == "[Cần xem xét] Thư 5 từ a@b: Re: Báo cáo"
    assert tidy_subject("Report: Re: x") == "Report: Re: x"
    assert tidy_subject("Đã nhận: Re:") == "Đã nhận: Re:"  # nothing left to keep: unchanged
    raw = compose(sender="p@x.example", sender_name="Phòng Nội vụ", recipients=["u@x.example"],
                  subject="Đã nhận: Re: Nhắc gửi kế hoạch", text="x", html=None, kind="ack",
                  message_id="<a@x.example>", date=NOW)
    assert str(BytesParser(policy=policy.default).parsebytes(raw)["Subject"]) == "Đã nhận: Nhắc gửi kế hoạch"


def test_status_table_says_deadlines_as_the_mails_do_and_json_keeps_its_form(config):
    doc = status_document(config, [], NOW)
    lines: list[str] = []
    print_status_table(doc, config, False, echo=lambda *a: lines.append(" ".join(map(str, a))))
    heads = [line for line in lines if "hạn nộp" in line]
    assert heads and all(line.endswith("hạn nộp trước ngày 20/10/2024") for line in heads), heads
    assert not any("00:00" in line or "kỳ 2024" in line for line in lines)
    # status --json is a contract: the deadline stays an ISO 8601 moment
    assert doc["campaigns"][0]["requirements"][0]["deadline"] == "2024-10-20T00:00:00+07:00"


def test_a_rendered_reply_subject_keeps_one_prefix(tmp_path):
    """Where reply subjects are made (a template's "Tiêu đề:" line around the unit's subject)."""
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "ack.txt").write_text("Tiêu đề: Đã nhận: {{ subject }}\n\nKính gửi.\n", encoding="utf-8")
    (tmp_path / "email" / "_layout.html").write_text("<p>{{ subject }}</p>", encoding="utf-8")
    renderer = notices.Renderer(tmp_path)
    for theirs in ("Re: Nhắc gửi kế hoạch", "RE: Đã nhận: Nhắc gửi kế hoạch", "Fwd: TL: Nhắc gửi kế hoạch"):
        assert renderer.render("ack", {"subject": theirs})[0] == "Đã nhận: Nhắc gửi kế hoạch"
    assert renderer.render("ack", {"subject": "Báo cáo tháng 10"})[0] == "Đã nhận: Báo cáo tháng 10"
