"""What a clerk decides at the web desk (or with `tonghop resolve`), as actions on the ledger.

Each action is written to the ledger with who took it and when (table desk_actions), then the
message is decided again through the same path as new mail (Runner.reprocess with the clerk's
decision as a hint to intake.decide), so the acknowledgement, the status and the draft are exactly
those a normal submission produces. No Flask here: the web desk (daemon/web/) and the CLI call it.

INTERFACE (fixed for the helpers building daemon/web/ and the actions concurrently):

    result = Desk(config, store, clock).sender_is(msg_id, unit_id, who="hoa", remember=True)
    result.status   # the message's status after the action: recorded | review | ignored | failed
    result.reason   # its reason, in Vietnamese
    result.ok       # False when the action was refused (unknown unit, message not in review...)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeskResult:
    ok: bool
    status: str
    reason: str


class Desk:
    def __init__(self, config, store, clock):
        self.config, self.store, self.clock = config, store, clock

    def sender_is(self, msg_id: int, unit_id: str, *, who: str, remember: bool = False) -> DeskResult:
        """'This sender is unit X': decide the message again as if it came from X; with
        `remember`, X's approved address is kept in the ledger for later mail."""
        raise NotImplementedError

    def file_is(self, msg_id: int, attachment_seq: int, unit_id: str, campaign_id: str, requirement_id: str,
                *, who: str) -> DeskResult:
        """'This file is requirement R of unit X' (when reading could not match it)."""
        raise NotImplementedError

    def not_a_submission(self, msg_id: int, *, who: str, note: str = "") -> DeskResult:
        """Ignore the message, with the clerk's name and note as its reason."""
        raise NotImplementedError

    def ask_resend(self, msg_id: int, *, who: str, note: str = "") -> DeskResult:
        """Queue the templated 'please send again' reply to the sender; the message leaves review."""
        raise NotImplementedError

    def write_draft(self, campaign_id: str, cycle: str, *, who: str) -> DeskResult:
        """Write the consolidated draft now (as `tonghop draft`), recorded with who asked."""
        raise NotImplementedError

    def actions(self, msg_id: int | None = None) -> list[dict]:
        """The recorded actions (newest first): id, at, who, action, message, detail."""
        raise NotImplementedError
