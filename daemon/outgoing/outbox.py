"""The outbox scheduler: `send_due` walks the ledger's due outbox rows (Store.due_mail) with
retries, backoff, give-up, a per-address daily limit, and never mails our own addresses. It takes
`now` from the service clock (which may be simulated) and never reads the real clock; every SQL
statement it needs is a Store method.
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
) -> SendReport:
    """Deliver the outbox rows due at `now` (a Store's); see the module docstring."""
    stamp = now.isoformat()
    own = {a.lower() for a in own_addresses}
    counts = store.sent_today(now, tz)
    report = SendReport()
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

    for row in store.due_mail(now, tz):
        if should_stop():
            break
        read = row["next_attempt_at"]
        queued = json.loads(row["recipients"] or "[]")
        recipients: list[str] = []
        for address in queued:  # our own addresses out, duplicates (any case) once
            if address.lower() not in own and address.lower() not in {r.lower() for r in recipients}:
                recipients.append(address)
        if not recipients:
            permanent_failure(row, queued, _t("own_only", addresses=", ".join(queued) or "—"), read, False)
            continue
        allowed = [r for r in recipients if counts[r.lower()] < max_per_address_per_day]
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
