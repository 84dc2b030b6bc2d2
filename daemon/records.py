"""The records every room of daemon/ shares: what a decision, an attachment, a submission, a
figure and an outgoing mail are when they cross from one room to another. Plain frozen data and
two pure helpers over raw bytes; no IO. The bottom of the house: it imports nothing of daemon/.

- intake/ builds an Outcome (with its AttachmentRecords, SubmissionRecords, FigureRecords and
  OutgoingMail) from what parsers/ read; store.Store.record writes it in one transaction;
- outgoing/ builds OutgoingMail (its bytes carry KIND_HEADER, so intake never answers our own).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32

# Header that marks every mail tonghop sends; intake ignores incoming mail that carries it.
KIND_HEADER = "X-Tonghop-Kind"

# The status of a message in the ledger; "claimed" until its decision is written.
STATUSES = ("claimed", "recorded", "review", "ignored", "failed")

_MAX_HEADER_BLOCK = 1_000_000


def cites_our_message_id(cited: str, domain: str) -> bool:
    """True when header text (In-Reply-To, References) names a Message-ID that tonghop made
    (outgoing.compose.make_message_id: "<tonghop.HEX32@DOMAIN>"). Here, at the bottom, because
    intake (is this a courtesy reply to us?) and outgoing (do not answer a reply) both ask it."""
    return re.search(rf"<tonghop\.[0-9a-f]{{32}}@{re.escape(domain)}>", cited or "", re.IGNORECASE) is not None


def sha256_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID from the header block alone, before (or without) parsing the message: the
    claim of an incoming mail and the file name of an outgoing one (outgoing.smtp.eml_name)."""
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    head = raw[: end if 0 <= end < _MAX_HEADER_BLOCK else _MAX_HEADER_BLOCK]
    value = BytesHeaderParser(policy=compat32).parsebytes(head).get("Message-ID")
    return str(value).strip()[:500] if value else None


@dataclass(frozen=True)
class AttachmentRecord:
    filename: str
    path: str
    content_type: str
    kind: str
    size: int
    sha256: str
    problems: tuple[str, ...] = ()
    facts: dict | None = None  # intake.decide.facts_record; back typed by parsers.model.facts_from_json


@dataclass(frozen=True)
class SubmissionRecord:
    attachment_seq: int  # index into Outcome.attachments
    campaign: str
    cycle: str
    requirement: str
    doc_number: str | None = None
    doc_date: str | None = None
    doc_title: str | None = None


@dataclass(frozen=True)
class FigureRecord:
    attachment_seq: int
    campaign: str
    cycle: str
    code: str
    value: float


@dataclass(frozen=True)
class OutgoingMail:
    key: str
    kind: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    raw: bytes
    unit_id: str | None = None


@dataclass(frozen=True)
class Hint:
    """A clerk's decision about one message (the web desk, `tonghop resolve`), applied by
    intake.decide every time the message is decided again. Kept in the ledger (desk_actions) and
    folded back by intake.decide.hint_from_actions, so a later reprocess keeps the clerk's word.

    - unit_id: "this sender is unit X": the message is decided as if it came from X;
    - files: attachment seq -> (campaign, requirement): "this file is requirement R of unit
      unit_id", recorded for that attachment even when reading could not match it;
    - ignore: the reason the clerk gave for "not a submission" (or "asked to send again");
    - resend_note: set (possibly "") when the clerk asked the sender to send again: the reply's note.
    """

    unit_id: str | None = None
    files: dict[int, tuple[str, str]] = field(default_factory=dict)
    ignore: str | None = None
    resend_note: str | None = None
    who: str = ""


@dataclass(frozen=True)
class Outcome:
    """The decision about one message, written to the ledger in one transaction."""

    status: str  # recorded | review | ignored | failed
    reason: str
    unit_id: str | None = None
    attachments: tuple[AttachmentRecord, ...] = ()
    submissions: tuple[SubmissionRecord, ...] = ()
    outgoing: tuple[OutgoingMail, ...] = ()
    events: tuple[tuple[str, dict], ...] = ()
    figures: tuple[FigureRecord, ...] = ()
    # what the message says about itself, filled in once it has been read
    from_addr: str | None = None
    subject: str | None = None
    message_id: str | None = None
