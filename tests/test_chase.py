"""Timing rules (pure): which reminders, overdue notices and digests are due at `now`."""
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from daemon.config import ChaseRules, OfficeCalendar
from daemon.config_toml import load_config
from daemon.outgoing.chase import chases, digest_due, steps
from daemon.outgoing.workdays import is_working_day
from daemon.status import Cell, cells, status_document

CONFIG = load_config(Path(__file__).resolve().parent.parent / "config")
TZ = CONFIG.office.timezone
CAMPAIGN = CONFIG.campaign("dan-van")
DEADLINE = datetime(2024, 10, 20, tzinfo=TZ)  # a Sunday


def at(day: int, hour: int = 9, month: int = 10) -> datetime:
    return datetime(2024, month, day, hour, 0, tzinfo=TZ)


def row(unit: str, req: str, when: datetime, message: int = 1, number: str = "1/BC-UBND") -> dict:
    return {"campaign": "dan-van", "cycle": "2024", "unit_id": unit, "requirement": req, "message": message,
            "received_at": when.isoformat(), "doc_number": number, "doc_date": "2024-10-01", "doc_title": "t",
            "filename": f"{unit}-{req}.docx"}


def test_steps_fall_on_working_days():
    plan = steps(CAMPAIGN, DEADLINE, CAMPAIGN.reminders)
    days = [(s.kind, s.at.date()) for s in plan]
    # 7 days before 20/10 is Sun 13/10 -> Fri 11/10; 3 days: Thu 17/10; 1 day: Sat 19/10 -> Fri 18/10;
    # overdue 1 day after the last day (19/10) is Sun 20/10 -> Mon 21/10; 5 days: Thu 24/10.
    assert days == [("reminder", date(2024, 10, 11)), ("reminder", date(2024, 10, 17)), ("reminder", date(2024, 10, 18)),
                    ("overdue", date(2024, 10, 21)), ("overdue", date(2024, 10, 24))]
    assert all(s.at.time() == time(8, 0) for s in plan)
    every_day = replace(CAMPAIGN.reminders, working_days_only=False)
    assert [s.at.date() for s in steps(CAMPAIGN, DEADLINE, every_day)][:3] == [date(2024, 10, 13), date(2024, 10, 17), date(2024, 10, 19)]


def test_holidays_are_skipped():
    rules = ChaseRules(before_days=(3,), overdue_days=(), holidays=frozenset({date(2024, 10, 17)}))
    assert [s.at.date() for s in steps(CAMPAIGN, DEADLINE, rules)] == [date(2024, 10, 16)]


def test_a_deadline_after_tet_moves_reminders_off_tet():
    # Deadline 03/02/2025 (a Monday, "before this day"): the last day to send is Sun 02/02. Tết 2025
    # is 27/01-02/02 (public holidays from the `holidays` package); without the calendar the
    # reminders landed on 27/01 and 31/01. Now every step is a working day before or after Tết.
    deadline = datetime(2025, 2, 3, tzinfo=TZ)
    office = CONFIG.office.calendar
    plan = [(s.kind, s.at.date()) for s in steps(CAMPAIGN, deadline, CAMPAIGN.reminders, office)]
    # 7 days before: Mon 27/01 (29 Tết) -> Fri 24/01; 3 days: Fri 31/01 -> Fri 24/01 (the same day:
    # the latest due step alone goes out); 1 day: Sun 02/02 -> Fri 24/01; overdue: Mon 03/02, Fri 07/02.
    assert plan == [("reminder", date(2025, 1, 24))] * 3 + [("overdue", date(2025, 2, 3)), ("overdue", date(2025, 2, 7))]
    assert not any(date(2025, 1, 27) <= day <= date(2025, 2, 2) for _, day in plan)
    # a campaign's own `holidays` still count on top of the office's calendar (old files keep working)
    rules = replace(CAMPAIGN.reminders, holidays=frozenset({date(2025, 1, 24)}))
    assert [s.at.date() for s in steps(CAMPAIGN, deadline, rules, office) if s.kind == "reminder"] == [date(2025, 1, 23)] * 3
    # the digest is not sent during Tết either
    config = replace(CONFIG, campaigns=(replace(CAMPAIGN, requirements=tuple(
        replace(r, deadline="02-03") for r in CAMPAIGN.requirements)),))
    assert digest_due(config, datetime(2025, 1, 29, 9, 0, tzinfo=TZ)) is None
    assert digest_due(config, datetime(2025, 2, 3, 9, 0, tzinfo=TZ)) == date(2025, 2, 3)


def test_working_day_rule_office_days_off_and_make_up_saturdays():
    rules, office = CAMPAIGN.reminders, CONFIG.office.calendar
    assert office.working_saturdays == {date(2024, 5, 4), date(2025, 4, 26)}  # from settings.toml
    assert is_working_day(date(2025, 4, 26), office, rules)  # Sat, make-up for the bridge of Fri 02/05
    assert not is_working_day(date(2025, 4, 19), office, rules)  # an ordinary Saturday
    assert not is_working_day(date(2025, 5, 2), office, rules)  # the bridge itself
    assert not is_working_day(date(2024, 4, 29), office, rules)  # the 2024 bridge (Mon before 30/4)
    assert not is_working_day(date(2025, 4, 7), office, rules)  # Hùng Kings' day 2025
    extra = replace(office, days_off=frozenset({date(2025, 4, 8)}))
    assert is_working_day(date(2025, 4, 8), office, rules) and not is_working_day(date(2025, 4, 8), extra, rules)
    # a reminder that would fall on the bridge Fri 02/05 goes back past 01/05 and 30/04 (holidays
    # too) to Tue 29/04; a make-up Saturday is a day a reminder may use
    deadline = datetime(2025, 5, 3, tzinfo=TZ)
    one_day = ChaseRules(before_days=(1,), overdue_days=())
    assert [s.at.date() for s in steps(CAMPAIGN, deadline, one_day, office)] == [date(2025, 4, 29)]
    deadline = datetime(2025, 4, 27, tzinfo=TZ)  # last day Sat 26/04, the make-up Saturday
    assert [s.at.date() for s in steps(CAMPAIGN, deadline, one_day, office)] == [date(2025, 4, 26)]
    assert [s.at.date() for s in steps(CAMPAIGN, deadline, one_day, replace(office, working_saturdays=frozenset()))] \
        == [date(2025, 4, 25)]
    # working_days_only = false still means every day
    assert is_working_day(date(2025, 1, 29), office, replace(rules, working_days_only=False))


def test_only_units_that_owe_get_reminders_and_only_the_latest_step():
    rows = [row("xa-my-hoa", "bao-cao", at(10)), row("xa-my-hoa", "ke-hoach", at(10)),
            row("phong-tu-phap", "bao-cao", at(10))]
    table = cells(CONFIG, CAMPAIGN, "2024", rows)
    assert chases(CONFIG, CAMPAIGN, "2024", table, at(11, 7)) == []  # before the first step
    due = {c.unit_id: c for c in chases(CONFIG, CAMPAIGN, "2024", table, at(11, 8))}
    assert "xa-my-hoa" not in due and len(due) == 27
    assert due["phong-tu-phap"].requirements == ("ke-hoach",)
    assert due["xa-tan-kieu"].requirements == ("ke-hoach", "bao-cao")
    # a week of downtime: on the 18th only the latest reminder (18/10) is due, not three
    late = {c.unit_id: c for c in chases(CONFIG, CAMPAIGN, "2024", table, at(18, 9))}
    assert late["xa-tan-kieu"].step.at.date() == date(2024, 10, 18)
    assert late["xa-tan-kieu"].key == "reminder:dan-van:2024:xa-tan-kieu:2024-10-18"


def test_after_the_deadline_only_overdue_notices_to_those_still_missing():
    rows = [row("xa-my-hoa", "bao-cao", at(19)), row("xa-my-hoa", "ke-hoach", at(21)),
            row("phong-tu-phap", "bao-cao", at(21))]
    table = cells(CONFIG, CAMPAIGN, "2024", rows)
    assert table[("xa-my-hoa", "bao-cao")].status == "on_time"
    assert table[("xa-my-hoa", "ke-hoach")].status == "late"
    assert chases(CONFIG, CAMPAIGN, "2024", table, at(20, 12)) == []  # Sunday: first overdue step is Monday
    due = {c.unit_id: c for c in chases(CONFIG, CAMPAIGN, "2024", table, at(21, 8))}
    assert "xa-my-hoa" not in due and all(c.kind == "overdue" for c in due.values())
    assert due["phong-tu-phap"].requirements == ("ke-hoach",)


def test_the_first_version_decides_on_time_the_newest_gives_the_facts():
    rows = [row("xa-my-hoa", "bao-cao", at(15), message=1, number="10/BC-UBND"),
            row("xa-my-hoa", "bao-cao", at(25), message=2, number="11/BC-UBND")]
    cell = cells(CONFIG, CAMPAIGN, "2024", rows)[("xa-my-hoa", "bao-cao")]
    assert (cell.status, cell.doc_number, cell.versions, cell.message) == ("on_time", "11/BC-UBND", 2, 2)


def test_digest_is_due_each_working_morning_of_the_active_window():
    assert digest_due(CONFIG, at(11, 7)) is None  # before 07:30
    assert digest_due(CONFIG, at(11, 8)) == date(2024, 10, 11)
    assert digest_due(CONFIG, at(12, 8)) is None  # Saturday
    assert digest_due(CONFIG, at(1, 8, month=9)) is None  # outside the window
    assert digest_due(CONFIG, at(24, 9)) == date(2024, 10, 24)


def test_status_document_follows_the_contract():
    doc = status_document(CONFIG, [row("xa-my-hoa", "bao-cao", at(15))], at(16))
    camp = doc["campaigns"][0]
    assert camp["id"] == "dan-van" and camp["cycle"] == "2024"
    assert camp["requirements"][1] == {"id": "bao-cao", "name": "Báo cáo kết quả thực hiện công tác dân vận",
                                       "deadline": "2024-10-20T00:00:00+07:00"}
    hoa = next(u for u in camp["units"] if u["id"] == "xa-my-hoa")
    assert hoa["submissions"]["bao-cao"] == {"status": "on_time", "received_at": at(15).isoformat(), "first_received_at": at(15).isoformat(),
                                             "doc_number": "1/BC-UBND", "doc_date": "2024-10-01",
                                             "files": ["xa-my-hoa-bao-cao.docx"]}
    assert hoa["submissions"]["ke-hoach"]["status"] == "missing"


def test_overdue_notice_counts_days_from_the_deadline_day():
    from daemon.outgoing.chase import Chase, Step
    from daemon.outgoing.notices import Renderer, chase_mail

    renderer = Renderer(CONFIG.notices.templates)
    step = Step("overdue", at(21, 8), 1)
    mail = chase_mail(CONFIG, renderer, Chase("overdue", "dan-van", "2024", "xa-tan-kieu", step, ("bao-cao",)),
                      at(21, 8), set())
    import email
    from email import policy
    text = email.message_from_bytes(mail.raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "đã quá hạn 1 ngày" in text and "hạn nộp trước ngày 20/10/2024" in text
