"""Intake rules: what one message is and what it counts for. Pure: data in, an Outcome out.

`decide_raw` is the whole of it for the runner: `read` the raw bytes with parsers/
(ParsedMessage + one Document per attachment), `decide`, and say what the message says about
itself; nothing here touches the network, the disk, the database or the clock.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from parsers.authres import verify_sender
from parsers.document import read_document
from parsers.figures import read_indicators
from parsers.message import parse_message
from parsers.model import FACT_NAMES, Document, ParsedMessage
from parsers.text import ascii_key, fold_key

from daemon.config import Campaign, Config, Unit
from daemon.records import KIND_HEADER  # on every mail we send: one coming back is never answered
from daemon.records import (AttachmentRecord, FigureRecord, Hint, Outcome, SubmissionRecord, cites_our_message_id,
                             sha256_of)
from daemon.texts import t

AUTO_REPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-reply")
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|abwesenheit|r[ée]ponse automatique"
    r"|trả lời tự động|tự động trả lời|vắng mặt)\b",
    re.IGNORECASE,
)
BOUNCE_LOCALPARTS = ("mailer-daemon", "postmaster", "mail-daemon", "bounce", "bounces")


@dataclass(frozen=True)
class Reading:
    """What parsers/ read in one message: the envelope and one Document per attachment."""

    message: ParsedMessage
    documents: tuple[Document, ...]


def read(raw: bytes, config: Config) -> Reading:
    """Everything parsers/ can tell about a raw message."""
    message = parse_message(raw, config.limits)
    documents = tuple(read_document(att, config.limits) for att in message.attachments)
    return Reading(message=message, documents=documents)


def decide_raw(raw: bytes, config: Config, received_at: datetime, *, hint: Hint | None = None,
               approved: Mapping[str, str] | None = None, reading: Reading | None = None) -> tuple[Outcome, Reading]:
    """Read and decide one raw message; the Outcome carries what the message says about itself
    (From, Subject, Message-ID) and, for a person to review, what was wrong with the mail itself.
    `hint` and `approved`: see decide. `reading`: read(raw, config) already done (the runner's
    read-ahead process)."""
    if reading is None:
        reading = read(raw, config)
    outcome = decide(reading, config, received_at, hint=hint, approved=approved)
    msg = reading.message
    if msg.problems and outcome.status in ("review", "failed"):
        # What was wrong with the mail itself (broken MIME, cut short): the person who reviews it
        # needs that more than "no attachment" alone.
        outcome = replace(outcome, reason=f"{outcome.reason} {t('review.message_problems', problems=' '.join(msg.problems))}")
    return replace(outcome, from_addr=msg.from_addr, subject=msg.subject[:500], message_id=msg.message_id), reading


def not_a_submission(msg: ParsedMessage, config: Config) -> str | None:
    """The reason this message is not a submission (auto-reply, bounce, list, ours), or None."""
    sender = (msg.from_addr or "").lower()
    if sender in config.office.own_addresses or msg.header(KIND_HEADER):
        return t("ignored.own", address=sender or msg.header(KIND_HEADER))
    if msg.content_type == "multipart/report" or msg.report_type:
        return t("ignored.report", value=msg.report_type or msg.content_type)
    auto = (msg.header("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return t("ignored.auto_submitted", value=auto)
    for name in AUTO_REPLY_HEADERS:
        if msg.header(name):
            return t("ignored.auto_reply", detail=f"{name}: {msg.header(name)}")
    if msg.header("X-Auto-Response-Suppress") and AUTO_REPLY_SUBJECT.search(msg.subject or ""):
        return t("ignored.auto_reply", detail=msg.subject)
    precedence = (msg.header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return t("ignored.precedence", value=precedence)
    list_id = msg.header("List-Id") or msg.header("List-Unsubscribe")
    if list_id:
        return t("ignored.list", value=list_id.strip()[:120])
    if msg.return_path == "":
        return t("ignored.null_sender")
    if sender.split("@")[0] in BOUNCE_LOCALPARTS:
        return t("ignored.mailer_daemon", address=sender)
    if AUTO_REPLY_SUBJECT.search(msg.subject or ""):
        return t("ignored.auto_reply", detail=msg.subject)
    return None


# A courtesy reply ("Đã nhận, cảm ơn anh/chị ạ") says nothing a person must act on. Its words,
# folded to ASCII (parsers.text.ascii_key) so "đã nhận" and "da nhan" are one: a body made only
# of these is thanks or acknowledgement; one other word ("chưa", "không", a date) and it is not.
COURTESY_WORDS = frozenset(
    "da nhan duoc roi cam on xin tran trong kinh thu ok okay oke noted received tks thks thx thanks "
    "thank you many rat nhieu vang a nhe nha anh chi em ban quy phong noi vu van".split()
)
_COURTESY_MAX_WORDS = 15  # longer than this is a letter, whatever its words
# Where the quoted original begins (Outlook, Gmail, Thunderbird, Vietnamese webmail) or the
# signature: the unit's own words are the lines above.
_QUOTE_START = re.compile(
    r"^\s*(>|-{2,}\s*(original message|forwarded message|tin nhắn gốc|thư gốc)|-- ?$|_{5,}"
    r"|(from|từ|sent|đã gửi|subject|tiêu đề|chủ đề):\s|on .+ wrote:|vào .+ đã viết:|.+ đã viết:$)",
    re.IGNORECASE,
)
# A closing line: what follows it is the sender's name and title (a signature), not a message.
_CLOSING = re.compile(r"^\s*(trân trọng|kính thư|best regards|regards|thân ái)\s*[.,!]*\s*$", re.IGNORECASE)
# Subjects of our mails to units (templates/email/ack, reminder, overdue): a "Re:" of one of these
# is in our thread even when the mailer dropped In-Reply-To and References.
_REPLY_PREFIX = re.compile(r"^\s*((re|tl|trả lời|aw|sv|fw|fwd)\s*:\s*)+", re.IGNORECASE)
_OUR_SUBJECTS = ("da nhan", "nhac gui", "don doc gui")


def own_words(body: str) -> str:
    """The sender's own text of a reply: the lines above the quoted original and the signature."""
    lines = []
    for line in (body or "").splitlines():
        if _QUOTE_START.match(line):
            break
        lines.append(line)
        if _CLOSING.match(line):
            break
    return "\n".join(lines).strip()


def in_our_thread(msg: ParsedMessage, config: Config) -> bool:
    """True when the message answers a mail tonghop sent: it cites our Message-ID, or its subject
    is "Re: " and one of our subjects."""
    cited = " ".join(filter(None, (msg.header("In-Reply-To"), msg.header("References"))))
    if cites_our_message_id(cited, config.smtp.sender.split("@")[-1]):
        return True
    subject = msg.subject or ""
    prefix = _REPLY_PREFIX.match(subject)
    return bool(prefix) and ascii_key(subject[prefix.end():]).startswith(_OUR_SUBJECTS)


def courtesy_reply(reading: Reading, config: Config) -> str | None:
    """The reason this message is only a courtesy reply to our mail ("đã nhận", "cảm ơn", or
    empty), or None. Any document attached, or any word beyond thanks (a question, "chưa nhận"),
    and it goes the normal way: a person, or the unit's submission, needs it."""
    msg = reading.message
    # An attachment counts unless it is nothing but a picture without text (a logo in the
    # signature); a scan is read by OCR and then has text, so it is never taken for a logo.
    pairs = zip(msg.attachments, reading.documents)
    if any(not a.content_type.startswith("image/") or d.text.strip() for a, d in pairs):
        return None
    if not in_our_thread(msg, config):
        return None
    text = own_words(msg.body_text)
    if "?" in text:
        return None
    words = re.findall(r"[a-z0-9]+", ascii_key(text))
    if len(words) > _COURTESY_MAX_WORDS or not set(words) <= COURTESY_WORDS:
        return None
    return t("ignored.courtesy")


@functools.lru_cache(maxsize=4096)
def _name_keys(name: str) -> frozenset[str]:
    """Keys under which an issuer or unit name matches: folded, abbreviations expanded, ASCII.

    Cached: every document's issuer is compared with every unit name (and alias), and folding
    the same few dozen names again for each message was a tenth of a backlog's time."""
    key = fold_key(name)
    expanded = re.sub(r"\bubnd\b", "ủy ban nhân dân", key)
    expanded = re.sub(r"\bhđnd\b", "hội đồng nhân dân", expanded)
    expanded = re.sub(r"\btt\b", "thị trấn", expanded)
    return frozenset((key, expanded, ascii_key(key), ascii_key(expanded)))


def unit_for_issuer(issuer: str | None, config: Config) -> Unit | None:
    """The configured unit whose name (or alias) is the document's issuer, if exactly one."""
    if not issuer:
        return None
    wanted = _name_keys(issuer)
    found = [u for u in config.units if any(wanted & _name_keys(n) for n in (u.name, *u.aliases))]
    return found[0] if len(found) == 1 else None


def _fact(doc: Document, name: str) -> str | None:
    facts = doc.facts
    if facts is None:
        return None
    fact = getattr(facts, name, None)
    return fact.value if fact is not None else None


def _issuer_disagrees(doc: Document, unit: Unit, config: Config) -> str | None:
    """The document's issuer when it names another configured unit, else None."""
    issuer = _fact(doc, "issuer")
    other = unit_for_issuer(issuer, config)
    return issuer if other is not None and other.id != unit.id else None


PERIOD_YEAR = re.compile(r"\bn(?:ă|a)m\s+(20\d\d)\b", re.IGNORECASE)


def document_cycle(doc: Document, campaign: Campaign, req_id: str, arrival_cycle: str) -> str:
    """The cycle a document counts for: the year its title names, read through the requirement's
    period (a report "năm 2023" arriving in January 2024 is a late 2023 report), else the cycle
    of its arrival. A year more than one cycle away is taken for a typo and ignored."""
    req = campaign.requirement(req_id)
    if campaign.recurrence != "yearly" or req.period == "any":
        return arrival_cycle
    found = PERIOD_YEAR.search(_fact(doc, "title") or "")
    if not found:
        return arrival_cycle
    year = int(found.group(1)) - (1 if req.period == "next" else 0)
    return str(year) if abs(year - int(arrival_cycle)) <= 1 else arrival_cycle


def matching_requirements(doc: Document, campaign: Campaign) -> list[str]:
    """Ids of the requirements this document satisfies: its type and one of the keywords."""
    doc_type = _fact(doc, "type")
    title = _fact(doc, "title") or ""
    haystacks = (fold_key(title), ascii_key(title)) if title else (fold_key(doc.text[:3000]), ascii_key(doc.text[:3000]))
    out = []
    for req in campaign.requirements:
        if req.doc_types and doc_type not in req.doc_types:
            continue
        if req.keywords and not any(
            fold_key(k) in haystacks[0] or ascii_key(k) in haystacks[1] for k in req.keywords
        ):
            continue
        out.append(req.id)
    return out


def facts_record(doc: Document) -> dict | None:
    """A document's facts as the ledger keeps them (JSON): what the draft and the answers need."""
    facts = doc.facts
    if facts is None:
        return None
    out = {name: getattr(facts, name).value for name in FACT_NAMES}
    out["confidence"] = {name: getattr(facts, name).confidence for name in FACT_NAMES}
    out["missing"] = list(facts.missing)
    out["recipients"] = list(facts.recipients)
    out["leaders"] = list(facts.leaders)
    out["sections"] = [{"heading": s.heading, "number": s.number, "level": s.level, "text": s.text}
                       for s in facts.sections]
    out["figures"] = [{"row": f.row, "column": f.column, "value": f.value, "code": f.code} for f in facts.figures]
    return out


def _attachment_records(reading: Reading) -> tuple[AttachmentRecord, ...]:
    records = []
    for att, doc in zip(reading.message.attachments, reading.documents):
        records.append(
            AttachmentRecord(
                filename=att.filename,
                path=att.path,
                content_type=att.content_type,
                kind=doc.kind,
                size=att.size,
                sha256=sha256_of(att.data),
                problems=tuple(dict.fromkeys((*att.problems, *doc.problems))),
                facts=facts_record(doc),
            )
        )
    return tuple(records)


def hint_from_actions(actions: list[dict]) -> Hint | None:
    """The clerk's standing decision about a message from its desk actions (store.desk_actions,
    oldest first): the last word wins. "Sender is X" drops the files confirmed for another unit
    and any "ignore"; "file is R of X" makes X the sender; "ignore" and "ask to resend" keep the
    unit and files (a later "sender is" or "file is" takes the message back)."""
    unit, files, ignore, resend, who = None, {}, None, None, ""
    for action in actions:
        kind, detail = action["action"], action.get("detail") or {}
        if kind in ("sender_is", "file_is"):
            if detail.get("unit") != unit:
                files = {}
            unit, ignore, resend = detail.get("unit"), None, None
            if kind == "file_is":
                files[int(detail["seq"])] = (detail["campaign"], detail["requirement"])
        elif kind in ("not_a_submission", "ask_resend"):
            ignore = detail.get("reason") or ""
            resend = detail.get("note") or "" if kind == "ask_resend" else None
        else:
            continue
        who = action.get("who") or who
    if unit is None and ignore is None:
        return None
    return Hint(unit_id=unit, files=files, ignore=ignore, resend_note=resend, who=who)


def _approved_unit(address: str | None, config: Config, approved: Mapping[str, str] | None) -> Unit | None:
    """The unit a clerk approved this address for at the desk (ledger), if it still exists."""
    if not address or not approved:
        return None
    unit_id = approved.get(address.strip().lower())
    return config.unit(unit_id) if unit_id else None


def _confirmed_files(hint: Hint | None, reading: Reading, unit: Unit, config: Config) -> dict[int, tuple[Campaign, str]]:
    """The attachments the clerk said are a requirement of this unit: seq -> (campaign, requirement),
    only those that exist (an attachment of the message, a requirement of a campaign of the unit)."""
    out = {}
    for seq, (campaign_id, req_id) in (hint.files.items() if hint else ()):
        campaign = config.campaign(campaign_id)
        if (0 <= seq < len(reading.documents) and campaign is not None and campaign.requirement(req_id) is not None
                and unit.id in campaign.unit_ids):
            out[seq] = (campaign, req_id)
    return out


def decide(reading: Reading, config: Config, received_at: datetime, *, hint: Hint | None = None,
           approved: Mapping[str, str] | None = None) -> Outcome:
    """The decision about one message. `received_at` is the server's arrival time.

    `hint` is the clerk's decision (records.Hint): "this sender is unit X" decides the message as
    if it came from X (the clerk vouches for the sender, so the authentication check is theirs;
    everything else is checked as usual); "this file is requirement R" records R for that file even
    when reading did not match it; "ignore" ignores it with the clerk's reason. `approved` maps
    addresses a clerk approved at the desk to unit ids: mail from them counts as from the unit,
    exactly as an address of units.toml (which wins when both name the address)."""
    msg = reading.message
    if hint is not None and hint.ignore is not None:
        return Outcome(status="ignored", reason=hint.ignore, attachments=_attachment_records(reading))
    reason = not_a_submission(msg, config) or courtesy_reply(reading, config)
    if reason:
        return Outcome(status="ignored", reason=reason, attachments=_attachment_records(reading))
    attachments = _attachment_records(reading)
    day = received_at.astimezone(config.office.timezone).date()
    notes: list[str] = []
    hinted = config.unit(hint.unit_id) if hint is not None and hint.unit_id else None
    unit = hinted or config.unit_for_address(msg.from_addr)
    if hinted is not None and config.unit_for_address(msg.from_addr) != hinted:
        notes.append(t("desk.sender_confirmed", who=hint.who, unit=hinted.name))
    elif unit is None and _approved_unit(msg.from_addr, config, approved) is not None:
        unit = _approved_unit(msg.from_addr, config, approved)
        notes.append(t("desk.approved_address", address=msg.from_addr.strip().lower(), unit=unit.name))
    by_address = hinted is None and unit is not None  # units.toml or approved at the desk
    if unit is None:
        if not msg.from_addr:
            return Outcome(status="review", reason=t("review.no_sender"), attachments=attachments)
        issuers = [(d, unit_for_issuer(_fact(d, "issuer"), config)) for d in reading.documents]
        suggested = next(((d, u) for d, u in issuers if u is not None), None)
        if suggested is None:
            return Outcome(status="review", reason=t("review.unknown_sender", address=msg.from_addr),
                           attachments=attachments)
        doc, candidate = suggested
        if not config.intake.trust_document_issuer:
            return Outcome(
                status="review",
                reason=t("review.unknown_sender_issuer", address=msg.from_addr,
                         issuer=_fact(doc, "issuer"), unit=candidate.name),
                attachments=attachments,
            )
        unit = candidate
        notes.append(t("recorded.trusted_issuer", issuer=_fact(doc, "issuer")))
    elif by_address and config.intake.require_authentication != "off":
        verdict = verify_sender(msg.headers, msg.from_addr, authserv_ids=config.intake.authserv_ids,
                                require=config.intake.require_authentication)
        if not verdict.passed:
            return Outcome(status="review", reason=t("review.not_authenticated", unit=unit.name, reason=verdict.reason),
                           attachments=attachments)
    if not msg.attachments:
        return Outcome(status="review", reason=t("review.no_attachment", unit=unit.name),
                       unit_id=unit.id, attachments=attachments)
    confirmed = _confirmed_files(hint, reading, unit, config)
    readable = [(i, d) for i, d in enumerate(reading.documents) if d.text.strip() and i not in confirmed]
    if not readable and not confirmed:
        problems = "; ".join(p for a in attachments for p in a.problems) or "không rõ lý do"
        return Outcome(status="review", reason=t("review.no_readable", unit=unit.name, problems=problems),
                       unit_id=unit.id, attachments=attachments)
    for _, doc in readable:
        issuer = _issuer_disagrees(doc, unit, config)
        if issuer:
            return Outcome(status="review", reason=t("review.issuer_mismatch", unit=unit.name,
                                                     file=doc.filename, issuer=issuer),
                           unit_id=unit.id, attachments=attachments)
    submissions = []
    for campaign in config.campaigns:
        if unit.id not in campaign.unit_ids or not unit.active_on(day):
            continue
        cycle = campaign.cycle_of(received_at, config.office.timezone)
        for seq, doc in readable:
            for req_id in matching_requirements(doc, campaign):
                submissions.append(_submission(seq, doc, campaign, req_id, cycle))
    for seq, (campaign, req_id) in sorted(confirmed.items()):
        doc = reading.documents[seq]
        submissions.append(_submission(seq, doc, campaign, req_id, campaign.cycle_of(received_at, config.office.timezone)))
    if confirmed:
        items = ", ".join(f"{reading.documents[seq].filename} là «{c.requirement(r).name}» ({c.id})"
                          for seq, (c, r) in sorted(confirmed.items()))
        notes.append(t("desk.file_confirmed", who=hint.who, items=items))
    used = sorted([*readable, *((seq, reading.documents[seq]) for seq in confirmed)], key=lambda p: p[0])
    figures, notes_by_seq = _figures(used, config, {s.campaign: s.cycle for s in submissions})
    if notes_by_seq:
        attachments = tuple(replace(a, problems=a.problems + notes_by_seq.get(i, ())) for i, a in enumerate(attachments))
    if not submissions:
        files = ", ".join(d.filename for _, d in readable)
        return Outcome(status="review", reason=" ".join([t("review.unmatched", unit=unit.name, files=files), *notes]),
                       unit_id=unit.id, attachments=attachments)
    items = ", ".join(f"{s.requirement} ({reading.documents[s.attachment_seq].filename})" for s in submissions)
    reason = " ".join([t("recorded.submissions", unit=unit.name, items=items), *notes])
    return Outcome(status="recorded", reason=reason, unit_id=unit.id, attachments=attachments,
                   submissions=tuple(submissions), figures=figures)


def _submission(seq: int, doc: Document, campaign: Campaign, req_id: str, cycle: str) -> SubmissionRecord:
    return SubmissionRecord(
        attachment_seq=seq, campaign=campaign.id, requirement=req_id,
        cycle=document_cycle(doc, campaign, req_id, cycle),
        doc_number=_fact(doc, "number"), doc_date=_fact(doc, "date"), doc_title=_fact(doc, "title"),
    )


def _figures(readable: list[tuple[int, Document]], config: Config, cycles: dict[str, str]):
    """The campaign's indicator values from the document that fills most of them (a filled form
    or a report's table); per-indicator problems go on that document only."""
    figures, notes = [], {}
    for campaign_id, cycle in cycles.items():
        campaign = config.campaign(campaign_id)
        if not campaign.indicators:
            continue
        best = None
        for seq, doc in readable:
            if not doc.tables:
                continue
            values, problems = read_indicators(doc.tables, campaign.indicators)
            if values and (best is None or len(values) > len(best[1])):
                best = (seq, values, problems)
        if best is None:
            continue
        seq, values, problems = best
        figures.extend(FigureRecord(seq, campaign.id, cycle, code, value) for code, value in values.items())
        if problems:
            notes[seq] = tuple(problems)
    return tuple(figures), notes
