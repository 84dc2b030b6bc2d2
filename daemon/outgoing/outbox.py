"""The outbox scheduler: `send_due` walks the ledger's due outbox rows (Store.due_mail) with
retries, backoff, give-up, a per-address daily limit, and never mails our own addresses. It takes
`now` from the service clock (which may be simulated) and never reads the real clock; every SQL
statement it needs is a Store method.

Order and the daily limit: rows go out by kind (PRIORITY: the draft and the digest first, review
notices last), so a burst of review notices never delays the draft. The draft, the digest and the
summary of review notices are never held by the daily limit (UNCAPPED). When more review notices
are due for the office than the limit leaves room for, the surplus is withdrawn (status
"withdrawn", with the reason) and listed in one summary mail instead (`summarize`, built by
notices.review_summary); at most one summary per SUMMARY_GAP, later surplus waits for the next.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Callable

from daemon.faults import crash_point
from daemon.texts import t

from daemon.outgoing.smtp import DeliveryError, Sender

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)
# While one pass delivers a row, the row's next_attempt_at is pushed this far ahead (a lease), so a
# second process running send_due at the same time (the daemon and `run --once`) skips it instead
# of sending it twice. A crash during delivery delays that row's retry by at most this much.
LEASE = timedelta(minutes=15)


# Lower goes first. Unknown kinds sit with the unit mail.
PRIORITY = {"draft": 0, "digest": 1, "review_summary": 2, "undeliverable": 3, "address_failing": 3,
            "ack": 4, "reminder": 5, "overdue": 5, "review": 6}
UNCAPPED = frozenset({"draft", "digest", "review_summary"})
SUMMARIZED = "review"
SUMMARY_GAP = timedelta(hours=1)


def _t(key: str, **values) -> str:
    return t(f"mailer.{key}", **values)


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)  # outbox row ids delivered now
    deferred: list[int] = field(default_factory=list)  # temporary failures, rescheduled
    gave_up: list[dict] = field(default_factory=list)  # failed for good: the caller tells the office
    limited: list[int] = field(default_factory=list)  # held back by the per-address daily limit
    # Sent, but not to every recipient (the server refused some, or the daily limit held some
    # back): {"id", "key", "kind", "subject", "missed": [address, ...], "note"}. Worth telling too.
    partial: list[dict] = field(default_factory=list)
    summarized: list[int] = field(default_factory=list)  # review notices withdrawn into one summary mail


def _parse(stamp: str, tz: tzinfo) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 30 s, 1 min, 2 min, ... capped at 30 min."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def next_local_midnight(now: datetime, tz: tzinfo) -> datetime:
    day = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz)


def _gave_up_entry(row: dict, recipients: list[str], error: str) -> dict:
    return {"id": row["id"], "key": row["key"], "kind": row["kind"], "recipients": recipients,
            "subject": row["subject"], "last_error": error}


def send_due(
    store,
    sender: Sender,
    now: datetime,
    *,
    tz: tzinfo,
    give_up_after: timedelta = timedelta(hours=24),
    max_per_address_per_day: int = 10,
    own_addresses: frozenset[str] = frozenset(),
    should_stop: Callable[[], bool] = lambda: False,
    summarize: Callable[[list[dict]], object] | None = None,
) -> SendReport:
    """Deliver the outbox rows due at `now` (a Store's); see the module docstring.

    summarize(rows) -> OutgoingMail | None: the one mail that lists these review-notice rows
    (outbox rows with their "message"); without it, surplus review notices wait like any mail."""
    stamp = now.isoformat()
    own = {a.lower() for a in own_addresses}
    counts = store.sent_today(now, tz)
    report = SendReport()
    due = _ordered(store.due_mail(now, tz))
    if summarize is not None and _summarize_surplus(store, due, counts, now, tz=tz, own=own,
                                                    limit=max_per_address_per_day, summarize=summarize,
                                                    report=report):
        due = _ordered(store.due_mail(now, tz))  # the summary in, the withdrawn and postponed out
    server_down: str | None = None  # the first connection failure of this pass

    def temporary_failure(row: dict, recipients: list[str], error: str, guard: str | None) -> None:
        attempts = (row["attempts"] or 0) + 1
        if now - _parse(row["created_at"], tz) >= give_up_after:
            final = _t("gave_up", hours=give_up_after.total_seconds() / 3600, error=error)
            if store.update_mail(row["id"], {"status": "failed", "attempts": attempts, "last_error": final,
                                 "next_attempt_at": stamp}, guard=guard):
                report.gave_up.append(_gave_up_entry(row, recipients, final))
                log.warning("Ngừng gửi thư %s (%s): %s", row["id"], row["kind"], final)
        elif store.update_mail(row["id"], {"attempts": attempts, "last_error": error,
                               "next_attempt_at": (now + backoff(attempts)).isoformat()}, guard=guard):
            report.deferred.append(row["id"])

    def permanent_failure(row: dict, recipients: list[str], error: str, guard: str | None, attempted: bool) -> None:
        values = {"status": "failed", "last_error": error, "next_attempt_at": stamp}
        if attempted:
            values["attempts"] = (row["attempts"] or 0) + 1
        if store.update_mail(row["id"], values, guard=guard):
            report.gave_up.append(_gave_up_entry(row, recipients, error))
            log.warning("Không gửi được thư %s (%s): %s", row["id"], row["kind"], error)

    for row in due:
        if should_stop():
            break
        read = row["next_attempt_at"]
        queued = json.loads(row["recipients"] or "[]")
        recipients = _recipients(row, own)
        if not recipients:
            permanent_failure(row, queued, _t("own_only", addresses=", ".join(queued) or "—"), read, False)
            continue
        allowed = [r for r in recipients
                   if row["kind"] in UNCAPPED or counts[r.lower()] < max_per_address_per_day]
        if not allowed:
            until = next_local_midnight(now, tz)
            note = _t("limited", until=until.strftime("%H:%M %d/%m/%Y"), limit=max_per_address_per_day,
                      addresses=", ".join(recipients))
            if store.update_mail(row["id"], {"last_error": note, "next_attempt_at": until.isoformat()}, guard=read):
                report.limited.append(row["id"])
            continue
        if server_down is not None:
            # The server failed a moment ago: count this row as failed the same way, without
            # another connection attempt per row (cheap, and backoff grows for all alike).
            temporary_failure(row, recipients, _t("not_tried", error=server_down), read)
            continue
        lease = (now + LEASE).isoformat()
        if not store.update_mail(row["id"], {"next_attempt_at": lease}, guard=read):
            continue  # another process is delivering it right now
        raw = store.mail_bytes(row["id"])
        try:
            refused = sender.deliver(raw, sender.envelope_from, allowed) or {}
        except DeliveryError as exc:
            if exc.connection:
                server_down = str(exc)
            if exc.temporary:
                temporary_failure(row, recipients, str(exc), lease)
            else:
                permanent_failure(row, recipients, str(exc), lease, True)
            continue
        except Exception as exc:
            # A bug or an error no one foresaw: this row is retried with backoff and given up in
            # the end like any other, and the rows after it still go out.
            log.exception("Lỗi không lường trước khi gửi thư %s", row["id"])
            temporary_failure(row, recipients, _t("unexpected", error=f"{type(exc).__name__}: {exc}"), lease)
            continue
        crash_point("after-deliver")
        # The window in which a crash sends a mail twice is exactly here: between the server
        # accepting the data (inside deliver) and the commit just below. A restart then finds the
        # row still queued and sends it again after the lease, with the same Message-ID, so the
        # receiver can recognise the copy. Commit per row to keep that window this short.
        notes, missed = [], [r for r in recipients if r not in allowed]
        if missed:
            notes.append(_t("limited_some", addresses=", ".join(missed), limit=max_per_address_per_day))
        if refused:
            notes.append(_t("refused_some", details="; ".join(f"{a}: {r}" for a, (_, r) in refused.items())))
            missed += list(refused)
        store.update_mail(row["id"], {"status": "sent", "sent_at": stamp, "attempts": (row["attempts"] or 0) + 1,
                          "last_error": " ".join(notes) or None, "next_attempt_at": stamp}, guard=lease)
        report.sent.append(row["id"])
        for address in allowed:
            counts[address.lower()] += 1
        if missed:
            report.partial.append({"id": row["id"], "key": row["key"], "kind": row["kind"],
                                   "subject": row["subject"], "missed": missed, "note": " ".join(notes)})
        log.info("Đã gửi thư %s (%s) tới %s", row["id"], row["kind"], ", ".join(allowed))
    return report


def _ordered(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (PRIORITY.get(r["kind"], 5), r["id"]))


def _recipients(row: dict, own: set[str]) -> list[str]:
    """A row's recipients, our own addresses out, duplicates (any case) once."""
    out: list[str] = []
    for address in json.loads(row["recipients"] or "[]"):
        if address.lower() not in own and address.lower() not in {r.lower() for r in out}:
            out.append(address)
    return out


def _summarize_surplus(store, due: list[dict], counts, now: datetime, *, tz: tzinfo, own: set[str], limit: int,
                       summarize: Callable[[list[dict]], object], report: SendReport) -> bool:
    """Withdraw the review notices the daily limit has no room for and queue one summary of them.
    True when the outbox changed (rows withdrawn or postponed)."""
    # The room left per address once the mail ahead of the review notices has gone.
    used = dict(counts)
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in due:
        recipients = tuple(sorted(a.lower() for a in _recipients(row, own)))
        if row["kind"] == SUMMARIZED and recipients:
            groups.setdefault(recipients, []).append(row)
        else:
            for address in recipients:
                used[address] = used.get(address, 0) + 1
    changed = False
    for recipients, rows in groups.items():
        room = min(limit - used.get(a, 0) for a in recipients)
        if len(rows) <= max(room, 0):
            continue
        keep = max(room - 1, 0)  # the summary takes the last place of the day
        surplus = rows[keep:]
        last = store.last_queued_at("review_summary", tz)
        if last is not None and now - last < SUMMARY_GAP:
            until = last + SUMMARY_GAP
            note = _t("summary_wait", at=until.astimezone(tz).strftime("%H:%M %d/%m/%Y"), limit=limit,
                      addresses=", ".join(recipients))
            for row in surplus:
                if store.update_mail(row["id"], {"last_error": note, "next_attempt_at": until.isoformat()},
                                     guard=row["next_attempt_at"]):
                    report.limited.append(row["id"])
                    changed = True
            continue
        try:
            mail = summarize(surplus)
        except Exception:  # a broken template: the notices wait for the limit like any mail, and go out
            log.exception("Không viết được thư tổng hợp các thư cần xem xét")
            mail = None
        if mail is None:
            continue  # nothing to write them into: they wait for the limit like any mail
        reason = _t("summarized", limit=limit, addresses=", ".join(recipients))
        with store.atomic():
            if not store.queue(mail, now=now):
                continue
            for row in surplus:
                if store.withdraw(row["id"], reason):
                    report.summarized.append(row["id"])
        changed = True
        log.info("Đã gộp %d thư cần xem xét vào một thư tổng hợp (%s)", len(surplus), mail.key)
    return changed
