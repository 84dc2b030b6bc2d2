"""Delivery reports about our own mail: which unit address no longer receives it.

A report counts only when it names a unit's address as failed and, where the report quotes the
bounced mail's Message-ID, that Message-ID is one of ours: a report about someone else's mail
never marks a unit's address as failing. `store` answers is_our_mail (a store.Store): this
module runs no SQL of its own.
"""
from __future__ import annotations

from parsers.dsn import DeliveryFailure, delivery_failures

from daemon.config import Config, Unit
from daemon.records import Outcome


def failures_for_us(raw: bytes, outcome: Outcome, config: Config, store) -> list[tuple[DeliveryFailure, Unit]]:
    if outcome.status != "ignored":
        return []
    out = []
    for failure in delivery_failures(raw):
        # a unit's address, or its head's (copied on overdue notices): either is then left out
        unit = config.unit_for_address(failure.recipient) or config.unit_for_cc_address(failure.recipient)
        if unit is None:
            continue
        if failure.original_message_ids:
            if not any(store.is_our_mail(mid) for mid in failure.original_message_ids):
                continue
        out.append((failure, unit))
    return out
