"""The cycle's mail as an office writes it: the opening notice (when, to whom, once, with the
basis document and the form), the address line per kind of unit, the second overdue notice's
firmer wording and its copies (Cc) to the unit's head and the district, the signature.

Pure tests of the rules first (chase.opening_step, chase.openings, notices.escalation_copies,
the config reader); then one cycle against the real Dovecot and aiosmtpd of tests/servers.py,
walked with `tonghop --now ... run --once`.
"""
from __future__ import annotations

import email
import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest

import corpus
from daemon.config import ConfigError, Unit, addressee_of, default_addressee, full_unit_name
from daemon.config_toml import load_config
from daemon.outgoing import chase, notices
from daemon.status import cells
from service import EXAMPLE, Daemon, make_config

CONFIG = load_config(EXAMPLE)
TZ = CONFIG.office.timezone
CAMPAIGN = CONFIG.campaign("dan-van")
ICT = timezone(timedelta(hours=7))
BASIS_FILE = EXAMPLE / "campaigns" / "cong-van-1234-UBND-NV.docx"
FORM_FILE = EXAMPLE / "campaigns" / "dan-van-bieu-mau.xlsx"
CITATION = "Công văn số 1234/UBND-NV ngày 15/09/2024 của UBND huyện về việc báo cáo công tác dân vận năm 2024"


def at(day: int, hour: int = 9, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=ICT)


def with_rules(**changes):
    return replace(CAMPAIGN, reminders=replace(CAMPAIGN.reminders, **changes))


# --- when the opening notice goes out (pure) ------------------------------------------------------


def test_the_opening_notice_is_twenty_days_before_the_deadline_on_a_working_day():
    # "trước ngày 20/10": the last day is 19/10; 20 days back counting it is Mon 30/09
    assert chase.opening_step(CAMPAIGN, "2024", TZ, CONFIG.office.calendar).at == datetime(2024, 9, 30, 8, 0, tzinfo=TZ)
    # 21 days: Sun 29/09 -> moved earlier, like a reminder, to Fri 27/09
    step = chase.opening_step(with_rules(opening_days_before=21), "2024", TZ, CONFIG.office.calendar)
    assert step.at.date() == date(2024, 9, 27) and step.kind == "opening" and step.days == 21
    # 25 days: Wed 25/09, a working day, stays
    assert chase.opening_step(with_rules(opening_days_before=25), "2024", TZ).at.date() == date(2024, 9, 25)


def test_the_opening_notice_skips_the_national_day_and_never_precedes_the_cycle():
    # a deadline of 20/09: 18 days back is Mon 02/09 (Quốc khánh), 03/09 is off too, then a weekend
    early = replace(with_rules(opening_days_before=18),
                    requirements=tuple(replace(r, deadline="09-20") for r in CAMPAIGN.requirements))
    assert chase.opening_step(early, "2024", TZ, CONFIG.office.calendar).at.date() == date(2024, 8, 30)
    # a cycle that opens on 01/10 cannot be announced in September: the day it opens (a Tuesday)
    late_open = replace(with_rules(opening_days_before=30), opens="10-01")
    assert chase.opening_step(late_open, "2024", TZ, CONFIG.office.calendar).at.date() == date(2024, 10, 1)
    assert chase.opening_step(with_rules(opening_days_before=0), "2024", TZ) is None


def table_with(rows):
    return cells(CONFIG, CAMPAIGN, "2024", rows)


def sent(unit: str, req: str, when: datetime) -> dict:
    return {"campaign": "dan-van", "cycle": "2024", "unit_id": unit, "requirement": req, "message": 1,
            "received_at": when.isoformat(), "doc_number": "1/BC-UBND", "doc_date": "2024-09-30", "doc_title": "t",
            "filename": "x.docx"}


def test_the_opening_notice_is_due_from_its_day_until_the_first_reminder_to_units_that_owe():
    early = [sent("tt-my-an", r.id, at(29, month=9)) for r in CAMPAIGN.requirements]  # sent everything already
    table = table_with(early + [sent("xa-thanh-loi", "ke-hoach", at(29, month=9))])
    assert chase.openings(CONFIG, CAMPAIGN, "2024", table, at(30, 7, 59, month=9)) == []
    due = chase.openings(CONFIG, CAMPAIGN, "2024", table, at(30, 8, 0, month=9))
    assert {c.unit_id for c in due} == set(CAMPAIGN.unit_ids) - {"tt-my-an"}
    assert next(c for c in due if c.unit_id == "xa-thanh-loi").requirements == ("bao-cao",)
    # one key per unit and cycle, whatever day it goes out
    assert {c.key for c in due} == {f"opening:dan-van:2024:{u}" for u in CAMPAIGN.unit_ids if u != "tt-my-an"}
    assert len(chase.openings(CONFIG, CAMPAIGN, "2024", table, at(10, 17))) == 27  # service started late: still
    # once reminders have begun, the reminder (the later step) speaks instead, as after any downtime
    assert chase.openings(CONFIG, CAMPAIGN, "2024", table, at(11, 8, 0)) == []
    assert chase.openings(CONFIG, CAMPAIGN, "2024", table, at(25)) == []


# --- addressing, copies, the basis document (pure) ------------------------------------------------


def test_each_kind_of_unit_is_addressed_to_its_head():
    assert full_unit_name("UBND xã Trường Xuân") == "Ủy ban nhân dân xã Trường Xuân"
    assert addressee_of(CONFIG.unit("xa-truong-xuan")) == "Chủ tịch Ủy ban nhân dân xã Trường Xuân"
    assert addressee_of(CONFIG.unit("tt-my-an")) == "Chủ tịch Ủy ban nhân dân thị trấn Mỹ An"
    assert addressee_of(CONFIG.unit("phong-tu-phap")) == "Trưởng Phòng Tư pháp"  # [addressee] department
    assert addressee_of(CONFIG.unit("ban-qlda")) == "Giám đốc Ban Quản lý dự án đầu tư xây dựng"
    assert addressee_of(CONFIG.unit("thanh-tra")) == "Chánh Thanh tra huyện"  # the unit's own key
    # without units.toml's table: the Chairman of a commune, the head (Thủ trưởng) of the others
    bare = Unit("x", "Phòng Y tế", "department", ("a@b.vn",))
    assert addressee_of(bare) == default_addressee(bare) == "Thủ trưởng Phòng Y tế"
    assert CAMPAIGN.basis.citation == CITATION
    assert CAMPAIGN.basis.short == "Công văn số 1234/UBND-NV ngày 15/09/2024 của UBND huyện"


def test_copies_start_at_the_configured_overdue_notice_and_leave_failing_addresses_out():
    campaign = with_rules(overdue_cc=("pct.ubnd@thapmuoi.example",))
    config = replace(CONFIG, campaigns=(campaign,))
    unit = CONFIG.unit("xa-truong-xuan")
    first, second = [s for s in chase.steps(campaign, campaign.deadline(campaign.requirements[0], "2024", TZ),
                                            campaign.reminders) if s.kind == "overdue"]
    assert (first.number, second.number) == (1, 2)
    assert notices.escalation_copies(config, campaign, unit, first, set()) == ([], False, False)
    assert notices.escalation_copies(config, campaign, unit, second, set()) == (
        ["chutich.truongxuan@thapmuoi.example", "pct.ubnd@thapmuoi.example"], True, True)
    assert notices.escalation_copies(config, campaign, unit, second, {"chutich.truongxuan@thapmuoi.example"}) == (
        ["pct.ubnd@thapmuoi.example"], False, True)
    no_head = replace(campaign, reminders=replace(campaign.reminders, overdue_cc_unit_head=False))
    assert notices.escalation_copies(config, no_head, unit, second, set())[0] == ["pct.ubnd@thapmuoi.example"]
    never = replace(campaign, reminders=replace(campaign.reminders, overdue_cc_from=0))
    assert notices.escalation_copies(config, never, unit, second, set()) == ([], False, False)

    renderer = notices.Renderer(CONFIG.notices.templates)
    mail = notices.chase_mail(config, renderer, chase.Chase("overdue", "dan-van", "2024", unit.id, second, ("bao-cao",)),
                              second.at, set())
    msg = email.message_from_bytes(mail.raw, policy=policy.default)
    assert mail.recipients == ("ubnd.truongxuan@thapmuoi.example", "chutich.truongxuan@thapmuoi.example",
                               "pct.ubnd@thapmuoi.example")
    assert str(msg["To"]) == "ubnd.truongxuan@thapmuoi.example"
    assert str(msg["Cc"]) == "chutich.truongxuan@thapmuoi.example, pct.ubnd@thapmuoi.example"


def copy_config(tmp_path) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(EXAMPLE, cfg)
    shutil.copytree(EXAMPLE.parent / "templates", tmp_path / "templates")
    return cfg


def test_config_problems_are_named_in_vietnamese(tmp_path):
    cfg = copy_config(tmp_path)
    (cfg / "campaigns" / "cong-van-1234-UBND-NV.docx").unlink()
    path = cfg / "campaigns" / "dan-van.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("overdue_cc = []", 'overdue_cc = ["khong-phai-dia-chi"]')
                    .replace("opening_days_before = 20", "opening_days_before = -3"), encoding="utf-8")
    units = cfg / "units.toml"
    units.write_text(units.read_text(encoding="utf-8").replace('service_unit = "Giám đốc {name}"',
                                                               'service_unit = "Giám đốc {name}"\nphuong = "x"')
                     .replace('cc = ["chutich.langbien@thapmuoi.example"]', 'cc = ["ubnd.langbien@thapmuoi.example"]'),
                     encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    problems = "\n".join(err.value.problems)
    assert "campaigns/dan-van.toml: khóa «basis.file»: không tìm thấy tệp văn bản" in problems
    assert "khóa «reminders.overdue_cc»: «khong-phai-dia-chi» không phải địa chỉ thư hợp lệ" in problems
    assert "khóa «reminders.opening_days_before»: phải từ 0" in problems
    assert "units.toml: khóa «addressee.phuong»: không có khóa này" in problems
    assert "địa chỉ «ubnd.langbien@thapmuoi.example» đã là địa chỉ nhận thư của đơn vị" in problems


# --- a cycle against the real servers ------------------------------------------------------------


def mails(sink, start: int = 0) -> list[tuple[email.message.EmailMessage, list[str]]]:
    return [(email.message_from_bytes(m.raw, policy=policy.default), [a.lower() for a in m.rcpt_tos])
            for m in sink.messages[start:]]


def text_of(msg) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


SIGNATURE = ("Trân trọng.\n\nPhòng Nội vụ huyện Tháp Mười\nNgười liên hệ: Nguyễn Thị Lan, chuyên viên Phòng Nội vụ\n"
             "Điện thoại: 0277 3826 123\nThư điện tử: phongnoivu@thapmuoi.example\n")


def test_a_cycle_opens_with_the_letter_and_escalates_with_copies(tmp_path, imap_account, smtp_sink):
    cfg = make_config(tmp_path, imap_account.url(), f"smtp://127.0.0.1:{smtp_sink.port}", timeout_seconds="5",
                      max_per_address_per_day="100")
    campaign_file = cfg / "campaigns" / "dan-van.toml"
    campaign_file.write_text(campaign_file.read_text(encoding="utf-8")
                             .replace("overdue_days = [1, 5]", "overdue_days = [1, 5, 8]")
                             .replace("overdue_cc = []", 'overdue_cc = ["pct.ubnd@thapmuoi.example"]'), encoding="utf-8")
    daemon = Daemon(cfg, imap_account.password)

    def run(now: datetime) -> None:
        daemon.now = now.isoformat()
        daemon.run("run", "--once")

    # 30/09 08:05: the opening notice, to each of the 28 units, with the letter and the form
    run(at(30, 8, 5, month=9))
    opening = mails(smtp_sink)
    assert len(opening) == 28 and {str(m["X-Tonghop-Kind"]) for m, _ in opening} == {"opening"}
    by_address = {rcpt[0]: m for m, rcpt in opening}
    assert all(len(rcpt) == 1 and m["Cc"] is None for m, rcpt in opening)
    assert set(by_address) == {CONFIG.unit(u).emails[0] for u in CAMPAIGN.unit_ids}
    for m, _ in opening:
        files = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
        assert files == {BASIS_FILE.name: BASIS_FILE.read_bytes(), FORM_FILE.name: FORM_FILE.read_bytes()}
        text = text_of(m)
        assert text.startswith("Kính gửi: ") and f"Thực hiện {CITATION}, Phòng Nội vụ huyện Tháp Mười đề nghị" in text
        assert text.endswith(SIGNATURE) and "tonghop" not in text
        assert str(m["Subject"]) == ("Đề nghị gửi kế hoạch và báo cáo kết quả thực hiện công tác dân vận năm 2024 "
                                     "(hạn nộp trước ngày 20/10/2024)")
    for unit, line in (("xa-truong-xuan", "Chủ tịch Ủy ban nhân dân xã Trường Xuân"),
                       ("tt-my-an", "Chủ tịch Ủy ban nhân dân thị trấn Mỹ An"),
                       ("phong-tu-phap", "Trưởng Phòng Tư pháp"), ("thanh-tra", "Chánh Thanh tra huyện"),
                       ("tt-dich-vu-nong-nghiep", "Giám đốc Trung tâm Dịch vụ nông nghiệp")):
        text = text_of(by_address[CONFIG.unit(unit).emails[0]])
        assert text.startswith(f"Kính gửi: {line}.\n") and f"Đề nghị {line} quan tâm chỉ đạo" in text, text
    assert "- Công văn số 1234/UBND-NV ngày 15/09/2024 của UBND huyện;" in text

    run(at(30, 10, month=9))  # the same day again: each unit has had its notice for this cycle
    assert [str(m["X-Tonghop-Kind"]) for m, _ in mails(smtp_sink, 28)] == []

    # 24/10 08:05, nobody has sent: the second overdue notice, firmer, copied to heads and district
    start = len(smtp_sink.messages)
    run(at(24, 8, 5))
    second = [(m, rcpt) for m, rcpt in mails(smtp_sink, start) if str(m["X-Tonghop-Kind"]) == "overdue"]
    assert len(second) == 28
    for m, rcpt in second:
        head = next(u for u in CONFIG.units if u.emails[0] == rcpt[0])
        copies = [*head.cc, "pct.ubnd@thapmuoi.example"]
        assert rcpt == [head.emails[0], *copies] and str(m["To"]) == head.emails[0]
        assert [a.addr_spec for a in m["Cc"].addresses] == copies
        assert str(m["Subject"]).startswith("Đôn đốc lần 2: gửi kế hoạch")
        text = text_of(m)
        assert "đã nhắc và đôn đốc nhưng đến 08:05 ngày 24/10/2024 vẫn chưa nhận được" in text
        assert f"Đề nghị {addressee_of(head)} chỉ đạo gửi ngay văn bản" in text and text.endswith(SIGNATURE)
    truong_xuan = next(m for m, rcpt in second if rcpt[0] == "ubnd.truongxuan@thapmuoi.example")
    assert ("Thư này đồng thời được gửi tới địa chỉ thư điện tử của Chủ tịch Ủy ban nhân dân xã Trường Xuân "
            "và Lãnh đạo Ủy ban nhân dân huyện để biết, chỉ đạo.") in text_of(truong_xuan)
    assert "Sau thư này" not in text_of(truong_xuan)  # a third notice is still to come

    # the Chairman's mailbox does not exist: the bounce marks it, the office is told, never answered
    imap_account.append(corpus.gmail_dsn("chutich.truongxuan@thapmuoi.example", str(truong_xuan["Message-ID"])),
                        at(24, 8, 30))
    start = len(smtp_sink.messages)
    run(at(24, 9))
    notice = [m for m, rcpt in mails(smtp_sink, start)]
    assert [str(m["X-Tonghop-Kind"]) for m in notice] == ["address_failing"]
    assert "Đây là địa chỉ nhận bản đồng gửi khi đôn đốc" in text_of(notice[0])

    # 28/10, the third notice: the failing copy left out, the district still copied; the last notice
    start = len(smtp_sink.messages)
    run(at(28, 8, 5))
    third = {rcpt[0]: (m, rcpt) for m, rcpt in mails(smtp_sink, start) if str(m["X-Tonghop-Kind"]) == "overdue"}
    m, rcpt = third["ubnd.truongxuan@thapmuoi.example"]
    assert rcpt == ["ubnd.truongxuan@thapmuoi.example", "pct.ubnd@thapmuoi.example"]
    assert str(m["Cc"]) == "pct.ubnd@thapmuoi.example" and str(m["Subject"]).startswith("Đôn đốc lần 3:")
    assert "Sau thư này, Phòng Nội vụ huyện Tháp Mười sẽ tổng hợp, báo cáo Ủy ban nhân dân huyện" in text_of(m)
    assert third["ubnd.langbien@thapmuoi.example"][1] == ["ubnd.langbien@thapmuoi.example",
                                                          "chutich.langbien@thapmuoi.example", "pct.ubnd@thapmuoi.example"]
