"""The mail tonghop writes: acknowledgements, review notices, reminders, overdue notices, the
digest and notices about failed delivery. Pure builders: data in, OutgoingMail out; the words
come from templates/email/ (Jinja2, StrictUndefined) so admins can edit them.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import jinja2

from daemon.clock import deadline_words, moment_words
from daemon.config import Campaign, Config, Unit
from daemon.outgoing.chase import Chase
from daemon.outgoing.compose import compose, make_message_id
from daemon.records import OutgoingMail, cites_our_message_id
from daemon.status import STATUS_WORDS, campaign_units, cells, counts
from daemon.texts import TYPE_NAMES

KINDS = ("ack", "review", "reminder", "overdue", "digest", "draft", "undeliverable", "address_failing", "resend")
MAX_ATTACHED_ORIGINAL = 10 * 1024 * 1024  # larger originals are pointed to in the archive instead
ADVICE = {
    "mật khẩu": "Đề nghị gửi lại bản không đặt mật khẩu.",
    "bản quét": "Đề nghị gửi kèm bản điện tử (.docx hoặc .pdf có lớp chữ) nếu có.",
    "không khớp": "Đề nghị kiểm tra lại đúng văn bản cần gửi.",
}
DEFAULT_ADVICE = "Đề nghị kiểm tra và gửi lại tệp (.docx hoặc .pdf)."


class Renderer:
    def __init__(self, templates: Path):
        self.dir = Path(templates) / "email"
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.dir),
            undefined=jinja2.StrictUndefined,  # a misspelt variable fails loudly, never mails a blank
            autoescape=jinja2.select_autoescape(["html"]),
            keep_trailing_newline=True,
        )

    def render(self, kind: str, context: dict) -> tuple[str, str, str]:
        """(subject, text, html) for a kind of mail."""
        text = self.env.get_template(f"{kind}.txt").render(**context)
        first, _, body = text.partition("\n")
        subject = first.removeprefix("Tiêu đề:").strip() if first.startswith("Tiêu đề:") else kind
        body = _tidy(body)
        html_name = f"{kind}.html"
        if (self.dir / html_name).exists():
            page = self.env.get_template(html_name).render(subject=subject, **context)
        else:
            page = self.env.get_template("_layout.html").render(subject=subject, blocks=_blocks(body))
        return subject, body, page


def _tidy(body: str) -> str:
    lines = [line.rstrip() for line in body.strip("\n").splitlines()]
    out: list[str] = []
    for line in lines:  # templates with conditionals leave runs of blank lines: keep one
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def _blocks(body: str) -> list[dict]:
    blocks = []
    for para in body.split("\n\n"):
        lines = [line for line in para.splitlines() if line.strip()]
        items = [line[2:] for line in lines if line.startswith("- ")]
        head = [line for line in lines if not line.startswith("- ")]
        if head:
            blocks.append({"lines": head, "bullets": []})
        if items:
            blocks.append({"lines": [], "bullets": items})
    return blocks


def when(ts: str | datetime | None, config: Config) -> str:
    if not ts:
        return ""
    moment = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    return moment_words(moment.astimezone(config.office.timezone))


def day_text(value: str | date | None) -> str:
    if not value:
        return ""
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return d.strftime("%d/%m/%Y")


def deadline_text(campaign: Campaign, req_id: str, cycle: str, config: Config) -> str:
    """The requirement's deadline in words (clock.deadline_words, the draft's wording too)."""
    return deadline_words(campaign.deadline(campaign.requirement(req_id), cycle, config.office.timezone))


def _base(config: Config) -> dict:
    return {"office": config.office.name, "office_address": config.office.address}


def _mail(config: Config, renderer: Renderer, *, key: str, kind: str, to: list[str], context: dict,
          now: datetime, unit_id: str | None = None, auto: str = "auto-generated", in_reply_to: str | None = None,
          attachments=()) -> OutgoingMail | None:
    recipients = [a for a in dict.fromkeys(x.lower() for x in to) if a not in config.office.own_addresses]
    if not recipients:
        return None  # never mail ourselves
    subject, text, page = renderer.render(kind, {**_base(config), **context})
    domain = config.smtp.sender.split("@")[-1]
    message_id = make_message_id(key, domain)
    raw = compose(
        sender=config.smtp.sender, sender_name=config.smtp.sender_name, recipients=recipients, subject=subject,
        text=text, html=page, kind=kind, message_id=message_id, date=now.astimezone(config.office.timezone),
        auto_submitted=auto,
        in_reply_to=in_reply_to, references=[in_reply_to] if in_reply_to else [], attachments=attachments,
    )
    return OutgoingMail(key=key, kind=kind, recipients=tuple(recipients), subject=subject, message_id=message_id,
                        raw=raw, unit_id=unit_id)


def unit_addresses(unit: Unit, failing: set[str]) -> list[str]:
    """Where to write to a unit: its working addresses first; a failing one only if none is left."""
    good = [a for a in unit.emails if a not in failing]
    return good[:1] if good else list(unit.emails[:1])


def answers_our_mail(message, config: Config) -> bool:
    """True when the message is a reply to a mail we sent: it cites one of our Message-IDs
    (make_message_id's form, our sender's domain) in In-Reply-To or References."""
    cited = " ".join(filter(None, (message.header("In-Reply-To"), message.header("References"))))
    return cites_our_message_id(cited, config.smtp.sender.split("@")[-1])


def acknowledgement(config: Config, renderer: Renderer, *, msg_row: int, message, outcome, documents,
                    received_at: datetime, prior_rows: list[dict], now: datetime) -> OutgoingMail | None:
    """The answer to a unit's message: what was understood, on time or late, what it still owes."""
    unit = config.unit(outcome.unit_id) if outcome.unit_id else None
    if unit is None or not message.from_addr:
        return None
    if not message.attachments and answers_our_mail(message, config):
        # A reply to our reminder or acknowledgement with nothing attached is a conversation
        # (or an auto-responder that marks nothing but "RE:"): answering it could start a loop
        # of mail between two machines. The office reads it through the review notice instead.
        return None
    tz = config.office.timezone
    recorded_docs = []
    for sub in outcome.submissions:
        campaign = config.campaign(sub.campaign)
        doc = documents[sub.attachment_seq]
        facts = doc.facts  # typed, as parsers read it (the record's JSON is for the ledger)
        deadline = campaign.deadline(campaign.requirement(sub.requirement), sub.cycle, tz)
        type_code = facts.type.value if facts else None
        written = facts.type_name.value if facts else None
        recorded_docs.append({
            "filename": doc.filename,
            "type_name": TYPE_NAMES.get(type_code, (written or "Văn bản").capitalize()),
            "number": sub.doc_number, "date": day_text(sub.doc_date), "title": sub.doc_title,
            "requirement": campaign.requirement(sub.requirement).name, "cycle": sub.cycle,
            "on_time": received_at < deadline,
            "deadline": deadline_text(campaign, sub.requirement, sub.cycle, config),
        })
    used = {s.attachment_seq for s in outcome.submissions}
    problems = []
    for seq, att in enumerate(outcome.attachments):
        if att.kind in ("png", "jpeg", "gif") and not att.problems:
            continue  # logos and signature pictures in the mail body
        if att.problems:
            for p in att.problems:
                advice = next((a for k, a in ADVICE.items() if k in p.lower()), DEFAULT_ADVICE)
                problems.append({"filename": att.filename, "problem": p, "advice": advice})
        elif seq not in used and outcome.status == "review":
            problems.append({"filename": att.filename, "problem": "không khớp với văn bản nào đang thu.",
                             "advice": ADVICE["không khớp"]})
    # what it still owes, counting what this message brings
    campaign = config.campaign(outcome.submissions[0].campaign) if outcome.submissions else next(
        (c for c in config.campaigns if unit.id in c.unit_ids), None)
    still_owed, cycle = [], ""
    if campaign is not None:
        cycle = campaign.cycle_of(received_at, tz)
        rows = prior_rows + [
            {"campaign": s.campaign, "cycle": s.cycle, "unit_id": unit.id, "requirement": s.requirement,
             "message": msg_row, "received_at": received_at.isoformat(), "doc_number": s.doc_number,
             "doc_date": s.doc_date, "doc_title": s.doc_title, "filename": None}
            for s in outcome.submissions
        ]
        table = cells(config, campaign, cycle, rows)
        still_owed = [{"name": r.name, "deadline": deadline_text(campaign, r.id, cycle, config)}
                      for r in campaign.requirements if table[(unit.id, r.id)].status == "missing"]
    context = {
        "unit": unit.name, "subject": message.subject or "(không có tiêu đề)", "received_at": when(received_at, config),
        "recorded": outcome.status == "recorded", "documents": recorded_docs, "problems": problems,
        "still_owed": still_owed, "campaign": campaign.title if campaign else "", "cycle": cycle,
    }
    return _mail(config, renderer, key=ack_key(msg_row, outcome.status), kind="ack", to=[message.from_addr],
                 context=context, now=now, unit_id=unit.id, auto="auto-replied", in_reply_to=message.message_id)


def ack_key(msg_row: int, status: str) -> str:
    """The outbox key of a message's acknowledgement: one "recorded" answer and one "needs more"
    answer at most, so a message a clerk resolves after review gets its "recorded" answer once,
    and deciding it again never answers twice."""
    return f"ack:{msg_row}" if status == "recorded" else f"ack:{msg_row}:review"


def resend_request(config: Config, renderer: Renderer, *, msg_row: dict, message, note: str, who: str,
                   now: datetime) -> OutgoingMail | None:
    """The clerk's "please send it again" to the sender of a message (the desk's ask_resend)."""
    if not message.from_addr:
        return None
    unit = config.unit_for_address(message.from_addr)
    context = {
        "unit": unit.name if unit else "", "sender": message.from_addr,
        "subject": message.subject or "(không có tiêu đề)", "received_at": when(msg_row["received_at"], config),
        "note": note.strip(), "who": who,
    }
    return _mail(config, renderer, key=f"resend:{msg_row['id']}", kind="resend", to=[message.from_addr],
                 context=context, now=now, unit_id=unit.id if unit else None, auto="auto-replied",
                 in_reply_to=message.message_id)


def review_notice(config: Config, renderer: Renderer, *, msg_row: dict, outcome, raw: bytes, archive_path: Path,
                  now: datetime) -> OutgoingMail | None:
    attached = len(raw) <= MAX_ATTACHED_ORIGINAL
    context = {
        "message": {"id": msg_row["id"], "sender": outcome.from_addr or msg_row.get("from_addr") or "(không rõ)",
                    "subject": outcome.subject or msg_row.get("subject") or "(không có tiêu đề)",
                    "received_at": when(msg_row["received_at"], config)},
        "status": {"review": "cần xem xét", "failed": "lỗi khi xử lý"}.get(outcome.status, outcome.status),
        "reason": outcome.reason,
        "attachments": [{"filename": a.filename, "problems": "; ".join(a.problems)} for a in outcome.attachments],
        "attached": attached, "archive_path": str(archive_path),
    }
    files = [(f"thu-{msg_row['id']}.eml", raw, "message/rfc822")] if attached else []
    return _mail(config, renderer, key=f"review:{msg_row['id']}", kind="review", to=list(config.office.staff),
                 context=context, now=now, attachments=files)


def chase_mail(config: Config, renderer: Renderer, chase: Chase, now: datetime, failing: set[str]) -> OutgoingMail | None:
    campaign = config.campaign(chase.campaign)
    unit = config.unit(chase.unit_id)
    tz = config.office.timezone
    owed = []
    for req_id in chase.requirements:
        deadline = campaign.deadline(campaign.requirement(req_id), chase.cycle, tz)
        days = (deadline.date() - now.astimezone(tz).date()).days
        owed.append({"name": campaign.requirement(req_id).name, "deadline": deadline_text(campaign, req_id, chase.cycle, config),
                     # "trước ngày 20/10" and a notice on 21/10: one day late
                     "days_left": max(days, 0), "days_late": max(-days, 1)})
    files = []
    if chase.kind == "reminder" and campaign.form is not None:
        files.append((campaign.form.name, campaign.form.read_bytes(),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    context = {"unit": unit.name, "campaign": campaign.title, "cycle": chase.cycle, "owed": owed,
               "now": when(now, config), "form": bool(files)}
    return _mail(config, renderer, key=chase.key, kind=chase.kind, to=unit_addresses(unit, failing), context=context,
                 now=now, unit_id=unit.id, attachments=files)


def digest(config: Config, renderer: Renderer, day: date, rows: list[dict], arrivals: list[dict],
           reviews: list[dict], now: datetime) -> OutgoingMail | None:
    tz = config.office.timezone
    campaigns = []
    for campaign in config.campaigns:
        cycle = campaign.cycle_of(now, tz)
        table = cells(config, campaign, cycle, rows)
        n = counts(campaign, table)
        units = campaign_units(config, campaign, day)
        campaigns.append({
            "title": campaign.title, "cycle": cycle, "unit_count": len(campaign.unit_ids),
            "requirements": [{"name": r.name, "deadline": deadline_text(campaign, r.id, cycle, config), **n[r.id]}
                             for r in campaign.requirements],
            "units": [{"name": u.name, "cells": [STATUS_WORDS[table[(u.id, r.id)].status] for r in campaign.requirements]}
                      for u in units],
        })
    context = {
        "day": day.strftime("%d/%m/%Y"), "now": when(now, config), "campaigns": campaigns,
        "arrivals": [{"received_at": when(a["received_at"], config),
                      "unit": config.unit(a["unit_id"]).name if config.unit(a["unit_id"]) else a["unit_id"],
                      "requirement": a["requirement"], "number": a["doc_number"]} for a in arrivals],
        "reviews": [{"id": r["id"], "sender": r["from_addr"] or "(không rõ)", "received_at": when(r["received_at"], config),
                     "reason": r["reason"]} for r in reviews],
    }
    return _mail(config, renderer, key=f"digest:{day.isoformat()}", kind="digest", to=list(config.office.staff),
                 context=context, now=now)


def draft_mail(config: Config, renderer: Renderer, campaign: Campaign, cycle: str, version: int, docx: Path,
               xlsx: Path, new_rows: list[dict], now: datetime, notes: Path | None = None) -> OutgoingMail | None:
    """The draft (its tables, the clerk's notes) to the office; a later version says which documents are new."""
    new = [{"unit": config.unit(r["unit_id"]).name if config.unit(r["unit_id"]) else r["unit_id"],
            "requirement": campaign.requirement(r["requirement"]).name if campaign.requirement(r["requirement"]) else r["requirement"],
            "number": r["doc_number"], "received_at": when(r["received_at"], config)} for r in new_rows]
    context = {"campaign": campaign.title, "cycle": cycle, "version": version, "new": new,
               "docx": docx.name, "xlsx": xlsx.name, "now": when(now, config)}
    files = [(docx.name, docx.read_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
             (xlsx.name, xlsx.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    if notes is not None:
        files.append((notes.name, notes.read_bytes(),
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    return _mail(config, renderer, key=f"draft:{campaign.id}:{cycle}:v{version}", kind="draft",
                 to=list(config.office.staff), context=context, now=now, attachments=files)


def undeliverable(config: Config, renderer: Renderer, row: dict, now: datetime) -> OutgoingMail | None:
    if row.get("kind") in ("undeliverable", "review", "digest", "address_failing"):
        return None  # mail to the office itself failing: logged, never a notice about a notice
    context = {"subject": row["subject"], "recipients": ", ".join(row["recipients"]) if isinstance(row["recipients"], list)
               else row["recipients"], "error": row.get("last_error") or "không rõ"}
    return _mail(config, renderer, key=f"undeliverable:{row['id']}", kind="undeliverable",
                 to=list(config.office.staff), context=context, now=now)


def address_failing(config: Config, renderer: Renderer, unit: Unit, address: str, detail: str, failing: set[str],
                    now: datetime) -> OutgoingMail | None:
    others = [a for a in unit.emails if a != address and a not in failing]
    context = {"unit": unit.name, "address": address, "detail": detail, "others": others}
    return _mail(config, renderer, key=f"address_failing:{unit.id}:{address}:{now.date().isoformat()}",
                 kind="address_failing", to=list(config.office.staff), context=context, now=now)

