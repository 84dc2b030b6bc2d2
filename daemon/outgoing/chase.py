"""When to remind, chase and report: pure rules over the campaign's config, the state and `now`.

Nothing here remembers what it did: the outbox does. A step is due when `now` has passed it and
its key was never queued; after downtime only the latest due step of each kind goes out, so a
week offline produces one reminder, not seven.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from daemon.config import Campaign, ChaseRules, Config, OfficeCalendar
from daemon.outgoing.workdays import is_working_day
from daemon.status import Cell, campaign_units


@dataclass(frozen=True)
class Step:
    kind: str  # "opening" (the cycle's first mail) | "reminder" (before the deadline) | "overdue" (after it)
    at: datetime
    days: int  # days before (opening, reminder) or after (overdue) the deadline, as configured
    number: int = 1  # which of its kind: the second overdue notice is 2


@dataclass(frozen=True)
class Chase:
    """One mail to one unit: which step, which requirements it still owes."""

    kind: str
    campaign: str
    cycle: str
    unit_id: str
    step: Step
    requirements: tuple[str, ...]

    @property
    def key(self) -> str:
        if self.kind == "opening":  # once per unit and cycle, whatever its date became
            return f"opening:{self.campaign}:{self.cycle}:{self.unit_id}"
        return f"{self.kind}:{self.campaign}:{self.cycle}:{self.unit_id}:{self.step.at.date().isoformat()}"


def shift_to_working_day(day: date, rules: ChaseRules, direction: int,
                         office: OfficeCalendar = OfficeCalendar()) -> date:
    """Move a day off to the nearest working day: earlier for reminders, later for chasing."""
    for _ in range(60):
        if is_working_day(day, office, rules):
            return day
        day += timedelta(days=direction)
    return day


def steps(campaign: Campaign, deadline: datetime, rules: ChaseRules,
          office: OfficeCalendar = OfficeCalendar()) -> list[Step]:
    tz = deadline.tzinfo
    # A deadline at 00:00 means "before this day": count days from the last day one can still send.
    last_day = (deadline - timedelta(microseconds=1)).date()
    out = []
    for number, days in enumerate(rules.before_days, 1):
        day = shift_to_working_day(last_day - timedelta(days=days - 1) if days else last_day, rules, -1, office)
        at = datetime.combine(day, rules.at, tzinfo=tz)
        if at < deadline:
            out.append(Step("reminder", at, days, number))
    for number, days in enumerate(rules.overdue_days, 1):
        day = shift_to_working_day(last_day + timedelta(days=days), rules, +1, office)
        out.append(Step("overdue", datetime.combine(day, rules.at, tzinfo=tz), days, number))
    return sorted(out, key=lambda s: s.at)


def opening_step(campaign: Campaign, cycle: str, tz, office: OfficeCalendar = OfficeCalendar()) -> Step | None:
    """When the cycle's opening notice goes out: `opening_days_before` days before its first
    deadline, counted like a reminder (moved earlier off a day off), never before the cycle opens
    (moved later to a working day then). None when the campaign sends no opening notice."""
    rules = campaign.reminders
    if not rules.opening_days_before or not campaign.requirements:
        return None
    deadline = min(campaign.deadline(r, cycle, tz) for r in campaign.requirements)
    last_day = (deadline - timedelta(microseconds=1)).date()
    day = shift_to_working_day(last_day - timedelta(days=rules.opening_days_before - 1), rules, -1, office)
    if campaign.recurrence == "once":
        opens = date.fromisoformat(campaign.opens)
    else:
        month, dom = (int(x) for x in campaign.opens.split("-"))
        opens = date(int(cycle), month, dom)
    if day < opens:
        day = shift_to_working_day(opens, rules, +1, office)
    at = datetime.combine(day, rules.at, tzinfo=tz)
    return Step("opening", at, rules.opening_days_before) if at < deadline else None


def openings(config: Config, campaign: Campaign, cycle: str, table: dict[tuple[str, str], Cell],
             now: datetime) -> list[Chase]:
    """The opening notices due at `now`: to each unit that still owes something, from the opening
    step until the first reminder (after downtime the reminder, the later step, says it instead,
    as only the latest due step of a kind goes out)."""
    tz = config.office.timezone
    step = opening_step(campaign, cycle, tz, config.office.calendar)
    if step is None or now < step.at:
        return []
    later = [s for r in campaign.requirements
             for s in steps(campaign, campaign.deadline(r, cycle, tz), campaign.reminders, config.office.calendar)]
    if any(s.at <= now for s in later if s.at > step.at) or all(
            now >= campaign.deadline(r, cycle, tz) for r in campaign.requirements):
        return []
    out = []
    for unit in campaign_units(config, campaign, now.astimezone(tz).date()):
        missing = tuple(r.id for r in campaign.requirements if table[(unit.id, r.id)].status == "missing")
        if missing:
            out.append(Chase("opening", campaign.id, cycle, unit.id, step, missing))
    return out


def latest_due(candidates: list[Step], now: datetime) -> Step | None:
    due = [s for s in candidates if s.at <= now]
    return max(due, key=lambda s: s.at) if due else None


def chases(config: Config, campaign: Campaign, cycle: str, table: dict[tuple[str, str], Cell],
           now: datetime) -> list[Chase]:
    """The reminder and overdue mails due at `now` for this cycle (before checking the outbox)."""
    tz = config.office.timezone
    rules = campaign.reminders
    deadlines = {r.id: campaign.deadline(r, cycle, tz) for r in campaign.requirements}
    out = []
    for unit in campaign_units(config, campaign, now.astimezone(tz).date()):
        missing = [r.id for r in campaign.requirements if table[(unit.id, r.id)].status == "missing"]
        for kind in ("reminder", "overdue"):
            # reminders only for what is not yet late; chasing only for what is
            wanted = [r for r in missing if (now < deadlines[r]) == (kind == "reminder")]
            due = [latest_due([s for s in steps(campaign, deadlines[r], rules, config.office.calendar) if s.kind == kind], now) for r in wanted]
            due = [s for s in due if s is not None]
            if not due:
                continue
            step = max(due, key=lambda s: s.at)
            out.append(Chase(kind, campaign.id, cycle, unit.id, step, tuple(wanted)))
    return out


def digest_due(config: Config, now: datetime) -> date | None:
    """The day whose digest is due: today once digest time has passed, while any campaign's
    current cycle is in its active window (first reminder to last overdue step); else None."""
    notices = config.notices
    if not notices.digest:
        return None
    tz = config.office.timezone
    local = now.astimezone(tz)
    if local.time() < notices.digest_at:
        return None
    for campaign in config.campaigns:
        cycle = campaign.cycle_of(now, tz)
        for req in campaign.requirements:
            plan = steps(campaign, campaign.deadline(req, cycle, tz), campaign.reminders, config.office.calendar)
            if plan and plan[0].at.date() <= local.date() <= plan[-1].at.date():
                if is_working_day(local.date(), config.office.calendar, campaign.reminders):
                    return local.date()
    return None


def at_local(day: date, moment: time, tz) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz)
