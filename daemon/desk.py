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

A refused action changes nothing. The ledger keeps the clerk's decision, not only its effect: a
later `tonghop reprocess` (new parsers) folds the message's desk actions back into the same hint
(intake.decide.hint_from_actions), so it never undoes what a clerk decided. The desk never needs
the mailbox: the message stays in the folder it was moved to, and the mail it causes is queued in
the outbox for the service to send on its next pass.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from parsers.message import parse_message

from daemon.intake import decide as intake
from daemon.runner import Runner
from daemon.store import StorageError
from daemon.texts import t

log = logging.getLogger("tonghop")

ACTIONS = ("sender_is", "file_is", "not_a_submission", "ask_resend", "write_draft")


@dataclass(frozen=True)
class DeskResult:
    ok: bool
    status: str  # the message's status; "" for write_draft, which is about no message
    reason: str
    paths: tuple[str, ...] = ()  # write_draft: the files written


def _refused(reason: str, status: str = "") -> DeskResult:
    return DeskResult(ok=False, status=status, reason=reason)


class Desk:
    def __init__(self, config, store, clock):
        self.config, self.store, self.clock = config, store, clock
        self._runner: Runner | None = None

    @property
    def runner(self) -> Runner:
        """The service's own path for deciding a message; its mailbox is never opened here."""
        if self._runner is None:
            self._runner = Runner(self.config, self.store, self.clock)
        return self._runner

    # --- the actions ------------------------------------------------------------------------------

    def sender_is(self, msg_id: int, unit_id: str, *, who: str, remember: bool = False) -> DeskResult:
        """'This sender is unit X': decide the message again as if it came from X; with
        `remember`, X's approved address is kept in the ledger for later mail."""
        row, refusal = self._message(msg_id, who)
        if refusal:
            return refusal
        unit = self.config.unit(unit_id)
        if unit is None:
            return _refused(t("desk.no_unit", unit=unit_id), row["status"])
        address = (row["from_addr"] or "").strip().lower()
        if remember:
            if not address:
                return _refused(t("desk.no_sender", id=msg_id, what="ghi nhớ địa chỉ người gửi"), row["status"])
            other = self.config.unit_for_address(address)
            if other is not None and other.id != unit.id:
                return _refused(t("desk.address_taken", address=address, other=other.name), row["status"])
        detail = {"unit": unit.id, "remember": bool(remember), "address": address or None}

        def approve(now):
            if remember and self.config.unit_for_address(address) is None:
                self.store.approve_address(address, unit.id, who=who.strip(), now=now, message=msg_id)

        return self._apply(msg_id, who, "sender_is", detail, also=approve)

    def file_is(self, msg_id: int, attachment_seq: int, unit_id: str, campaign_id: str, requirement_id: str,
                *, who: str) -> DeskResult:
        """'This file is requirement R of unit X' (when reading could not match it)."""
        row, refusal = self._message(msg_id, who)
        if refusal:
            return refusal
        unit = self.config.unit(unit_id)
        if unit is None:
            return _refused(t("desk.no_unit", unit=unit_id), row["status"])
        campaign = self.config.campaign(campaign_id)
        if campaign is None:
            known = ", ".join(c.id for c in self.config.campaigns)
            return _refused(t("desk.no_campaign", campaign=campaign_id, known=known), row["status"])
        if campaign.requirement(requirement_id) is None:
            known = ", ".join(r.id for r in campaign.requirements)
            return _refused(t("desk.no_requirement", campaign=campaign.id, requirement=requirement_id, known=known),
                            row["status"])
        if unit.id not in campaign.unit_ids:
            return _refused(t("desk.not_in_campaign", unit=unit.name, campaign=campaign.id), row["status"])
        attachments = self.store.attachments_of(msg_id)
        if not isinstance(attachment_seq, int) or attachment_seq not in {a["seq"] for a in attachments}:
            known = ", ".join(f"{a['seq'] + 1}. {a['filename']}" for a in attachments) or "(không có)"
            shown = attachment_seq + 1 if isinstance(attachment_seq, int) else attachment_seq
            return _refused(t("desk.no_attachment", id=msg_id, seq=shown, known=known), row["status"])
        detail = {"seq": attachment_seq, "unit": unit.id, "campaign": campaign.id, "requirement": requirement_id,
                  "filename": next(a["filename"] for a in attachments if a["seq"] == attachment_seq)}
        return self._apply(msg_id, who, "file_is", detail)

    def not_a_submission(self, msg_id: int, *, who: str, note: str = "") -> DeskResult:
        """Ignore the message, with the clerk's name and note as its reason."""
        row, refusal = self._message(msg_id, who)
        if refusal:
            return refusal
        reason = t("desk.ignored", who=who.strip(), note=_note(note))
        return self._apply(msg_id, who, "not_a_submission", {"note": (note or "").strip(), "reason": reason})

    def ask_resend(self, msg_id: int, *, who: str, note: str = "") -> DeskResult:
        """Queue the templated 'please send again' reply to the sender; the message leaves review."""
        row, refusal = self._message(msg_id, who)
        if refusal:
            return refusal
        if not (row["from_addr"] or "").strip():
            return _refused(t("desk.no_sender", id=msg_id, what="gửi thư đề nghị gửi lại"), row["status"])
        try:
            raw = self.store.archive.get(row["sha256"])
        except OSError:
            return _refused(t("failed.archive_missing", path=self.store.archive.path(row["sha256"])), row["status"])
        automatic = intake.not_a_submission(parse_message(raw, self.config.limits), self.config)
        if automatic:  # answering an auto-reply, a bounce or our own mail could start a loop
            return _refused(t("desk.automatic", id=msg_id, reason=automatic), row["status"])
        reason = t("desk.resend", who=who.strip(), note=_note(note))
        return self._apply(msg_id, who, "ask_resend", {"note": (note or "").strip(), "reason": reason})

    def write_draft(self, campaign_id: str, cycle: str | None, *, who: str) -> DeskResult:
        """Write the consolidated draft now (as `tonghop draft`), recorded with who asked."""
        from daemon.report import model as draft
        from daemon.report import notes, writers
        from daemon.report.versions import preview_folder

        if not (who or "").strip():
            return _refused(t("desk.no_who"))
        campaign = self.config.campaign(campaign_id)
        if campaign is None:
            known = ", ".join(c.id for c in self.config.campaigns)
            return _refused(t("desk.no_campaign", campaign=campaign_id, known=known))
        now = self.clock.now()
        cycle = cycle or campaign.cycle_of(now, self.config.office.timezone)
        rows = draft.draft_rows(self.store, campaign, cycle)
        model = draft.model_from_ledger(self.config, self.store, campaign, cycle, now, rows)
        out = preview_folder(self.config.storage.root, campaign.id, cycle)
        docx, xlsx = writers.write_draft(self.config, model, out)
        previous = draft.previous_model(self.config, self.store, campaign, cycle, now, rows)
        notes_docx = notes.write_notes(model, docx, previous, tz=self.config.office.timezone)
        paths = tuple(str(p) for p in (docx, xlsx, notes_docx))
        with self.store.writing():
            self.store.add_desk_action(who=who.strip(), action="write_draft", message=None,
                                       detail={"campaign": campaign.id, "cycle": cycle, "paths": list(paths)}, now=now)
        reason = t("desk.draft_written", who=who.strip(), campaign=campaign.id, cycle=cycle, paths=", ".join(paths))
        return DeskResult(ok=True, status="", reason=reason, paths=paths)

    def actions(self, msg_id: int | None = None) -> list[dict]:
        """The recorded actions (newest first): id, at, who, action, message, detail."""
        keys = ("id", "at", "who", "action", "message", "detail")
        return [{k: r[k] for k in keys} for r in self.store.desk_actions(msg_id)]

    # --- the path every message action takes --------------------------------------------------------

    def _message(self, msg_id: int, who: str):
        """(row, None) for a message an action may take, else (None, the refusal)."""
        if not (who or "").strip():
            return None, _refused(t("desk.no_who"))
        row = self.store.find_message(msg_id)
        if row is None:
            return None, _refused(t("desk.no_message", id=msg_id))
        if row["status"] == "claimed":  # the service has it in hand right now
            return None, _refused(t("desk.claimed", id=msg_id), row["status"])
        return row, None

    def _apply(self, msg_id: int, who: str, action: str, detail: dict, also=None) -> DeskResult:
        """Record the action (with what else it writes, in one transaction), then decide the
        message again through the runner, which folds the ledger's actions into the hint."""
        now = self.clock.now()
        try:
            with self.store.writing(), self.store.atomic():
                self.store.add_desk_action(who=who.strip(), action=action, message=msg_id, detail=detail, now=now)
                if also is not None:
                    also(now)
        except StorageError as exc:
            return _refused(str(exc), self.store.message(msg_id)["status"])
        runner = self.runner
        try:
            runner.reprocess(msg_id)
        except StorageError as exc:  # recorded, applied by the next reprocess of this message
            row = self.store.message(msg_id)
            return DeskResult(ok=False, status=row["status"], reason=t("desk.not_applied", error=exc))
        try:
            runner.tracking_stale = True  # what the unit has sent may have changed either way
            runner.refresh_tracking(now)
        except Exception:  # the workbook is a convenience; the ledger has the decision
            log.exception("desk: could not rewrite the tracking workbook")
        row = self.store.message(msg_id)
        return DeskResult(ok=True, status=row["status"], reason=row["reason"])


def _note(note: str | None) -> str:
    note = (note or "").strip()
    return t("desk.note", note=note) if note else ""
