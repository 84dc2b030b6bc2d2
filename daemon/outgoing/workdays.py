"""Is this a working day? One pure rule over the date, the office's calendar and the campaign.

The country's public holidays come from the `holidays` package (Tết by the lunar calendar, Hùng
Kings, 30/4, 1/5, 2/9 and the bridges it knows); the office adds its own days off and make-up
working Saturdays in settings.toml ([office]); a campaign's own `holidays` still count, so old
campaign files keep working.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from daemon.config import ChaseRules, OfficeCalendar


@lru_cache(maxsize=64)
def public_holidays(country: str, year: int) -> dict[date, str]:
    """{day: Vietnamese name} of one year's public holidays (cached: the rule runs per step)."""
    if not country:
        return {}
    import holidays  # loaded on first use: parsers and most commands never need it

    try:
        table = holidays.country_holidays(country, years=year, language="vi")
    except NotImplementedError:  # a language the country lacks: its default names are still right
        table = holidays.country_holidays(country, years=year)
    return dict(table.items())


def is_working_day(day: date, office: OfficeCalendar, rules: ChaseRules) -> bool:
    if not rules.working_days_only:
        return True
    if day in office.days_off or day in rules.holidays or day in public_holidays(office.country, day.year):
        return False
    # a make-up Saturday ("ngày làm bù") is worked as a weekday; Sundays never are
    return day.weekday() < 5 or day in office.working_saturdays


def days_off(start: date, end: date, office: OfficeCalendar) -> list[tuple[date, str]]:
    """Days off (holidays, the office's own) and make-up Saturdays in [start, end), each with what
    it is in Vietnamese:
    what check-config prints so the office sees its calendar before mail is scheduled by it."""
    out = []
    day = start
    while day < end:
        name = public_holidays(office.country, day.year).get(day)
        if day in office.working_saturdays:
            out.append((day, "ngày làm bù (thứ Bảy làm việc)"))
        elif day in office.days_off:
            out.append((day, f"{name} (ngày nghỉ của cơ quan)" if name else "ngày nghỉ của cơ quan"))
        elif name:
            out.append((day, name))
        day += timedelta(days=1)
    return out
