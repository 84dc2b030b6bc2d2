"""The mail tonghop writes: acknowledgements, review notices, reminders, overdue notices, the
digest and notices about failed delivery. Pure builders: data in, OutgoingMail out; the words
come from templates/email/ (Jinja2, StrictUndefined) so admins can edit them.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path

import jinja2

from daemon.clock import deadline_words, moment_words
from daemon.config import Campaign, Config, Unit, addressee_of
from daemon.outgoing.chase import Chase
from daemon.outgoing.compose import compose, make_message_id, tidy_subject
from daemon.records import OutgoingMail, cites_our_message_id
from daemon.status import STATUS_WORDS, campaign_units, cells, counts
from daemon.texts import TYPE_NAMES
from daemon.textfile import EncodingProblem, decode_text

KINDS = ("opening", "ack", "review", "reminder", "overdue", "digest", "draft", "undeliverable", "address_failing",
         "review_summary", "resend")
MAX_ATTACHED_ORIGINAL = 10 * 1024 * 1024  # larger originals are pointed to in the archive instead
ADVICE = {
    "mật khẩu": "Đề nghị gửi lại bản không đặt mật khẩu.",
    "bản quét": "Đề nghị gửi kèm bản điện tử (.docx hoặc .pdf có lớp chữ) nếu có.",
    "không khớp": "Đề nghị kiểm tra lại đúng văn bản cần gửi.",
}
DEFAULT_ADVICE = "Đề nghị kiểm tra và gửi lại tệp (.docx hoặc .pdf)."


class _Utf8Loader(jinja2.FileSystemLoader):
    """Templates as admins save them: UTF-8 with or without a BOM (which would otherwise hide the
    "Tiêu đề:" line); another encoding is an EncodingProblem naming the file."""

    def __init__(self, folder: Path):
        super().__init__(folder, encoding="latin-1")  # never fails: the bytes are decoded again below

    def get_source(self, environment, template):
        _, filename, uptodate = super().get_source(environment, template)
        try:
            source = decode_text(Path(filename).read_bytes())
        except EncodingProblem as exc:
            raise EncodingProblem(f"{filename}: {exc}") from None
        return source, filename, uptodate


class Renderer:
    def __init__(self, templates: Path):
        self.dir = Path(templates) / "email"
        self.env = jinja2.Environment(
            loader=_Utf8Loader(self.dir),
            undefined=jinja2.StrictUndefined,  # a misspelt variable fails loudly, never mails a blank
            autoescape=jinja2.select_autoescape(["html"]),
            keep_trailing_newline=True,
        )

    def signature(self) -> tuple:
        """The templates' files as (name, mtime, size): it changes when an admin edits one."""
        try:
            return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in self.dir.iterdir()))
        except OSError:
            return ()

    def render(self, kind: str, context: dict) -> tuple[str, str, str]:
        """(subject, text, html) for a kind of mail."""
        text = self.env.get_template(f"{kind}.txt").render(**context)
        first, _, body = text.partition("\n")
        subject = first.removeprefix("Tiêu đề:").strip() if first.startswith("Tiêu đề:") else kind
        subject = tidy_subject(subject)  # "Đã nhận: " + "Re: Nhắc gửi..." keeps one prefix
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
    office = config.office
    return {"office": office.name, "office_address": office.address,
            # the signature (_signature.txt): who to call about this mail
            "contact": {"name": office.contact_name, "title": office.contact_title, "phone": office.contact_phone,
                        "email": office.contact_email or office.address}}


def _unit_context(unit: Unit, campaign: Campaign | None) -> dict:
    """What every mail to a unit says about whom it is addressed to and on what grounds."""
    basis = campaign.basis if campaign is not None else None
    return {"addressee": addressee_of(unit), "basis": basis.citation if basis else "",
            "basis_short": basis.short if basis else ""}


CONTENT_TYPES = {
    ".pdf": "application/pdf", ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _file(path: Path) -> tuple[str, bytes, str]:
    return path.name, path.read_bytes(), CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def escalation_copies(config: Config, campaign: Campaign, unit: Unit, step, failing: set[str]) -> tuple[list[str], bool, bool]:
    """(addresses, the unit's head copied, the district copied) for an overdue notice: from the
    campaign's `overdue_cc_from`-th notice on; addresses known to fail are left out, so a dead
    copy address never brings a bounce back on every notice."""
    rules = campaign.reminders
    if step.kind != "overdue" or not rules.overdue_cc_from or step.number < rules.overdue_cc_from:
        return [], False, False
    head = [a for a in unit.cc if a not in failing] if rules.overdue_cc_unit_head else []
    district = [a for a in rules.overdue_cc if a not in failing]
    return head + district, bool(head), bool(district)


def _mail(config: Config, renderer: Renderer, *, key: str, kind: str, to: list[str], context: dict,
          now: datetime, unit_id: str | None = None, auto: str = "auto-generated", in_reply_to: str | None = None,
          attachments=(), cc=()) -> OutgoingMail | None:
    recipients = [a for a in dict.fromkeys(x.lower() for x in to) if a not in config.office.own_addresses]
    if not recipients:
        return None  # never mail ourselves
    # copies travel in the envelope too (OutgoingMail.recipients), after the To addresses
    copies = [a for a in dict.fromkeys(x.lower() for x in cc) if a not in config.office.own_addresses
              and a not in recipients]
    subject, text, page = renderer.render(kind, {**_base(config), **context})
    domain = config.smtp.sender.split("@")[-1]
    message_id = make_message_id(key, domain)
    raw = compose(
        sender=config.smtp.sender, sender_name=config.smtp.sender_name, recipients=recipients, subject=subject,
        text=text, html=page, kind=kind, message_id=message_id, date=now.astimezone(config.office.timezone),
        auto_submitted=auto,
        in_reply_to=in_reply_to, references=[in_reply_to] if in_reply_to else [], attachments=attachments,
        cc=copies,
    )
    return OutgoingMail(key=key, kind=kind, recipients=tuple(recipients + copies), subject=subject, message_id=message_id,
                        raw=raw, unit_id=unit_id)


def draft_failed(config: Config, renderer: Renderer, campaign: Campaign, cycle: str, error: str,
                 now: datetime) -> OutgoingMail | None:
    """The draft is due but cannot be written (its Word template is broken): said to the office
    once per campaign and cycle (the key), not every pass."""
    context = {"campaign": campaign.title, "cycle": cycle, "error": error, "now": when(now, config)}
    return _mail(config, renderer, key=f"draft_failed:{campaign.id}:{cycle}", kind="draft_failed",
                 to=list(config.office.staff), context=context, now=now)


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
        if unit.id in campaign.unit_ids:
            # status.cells' "missing" for this unit alone: no row for the requirement in the
            # campaign and cycle (the whole table of every unit cost ~0.3 ms per answer)
            sent = {row["requirement"] for row in rows
                    if row["campaign"] == campaign.id and row["cycle"] == cycle and row["unit_id"] == unit.id}
            missing = [r for r in campaign.requirements if r.id not in sent]
        else:  # as before: the table has no row for a unit outside the campaign (KeyError)
            table = cells(config, campaign, cycle, rows)
            missing = [r for r in campaign.requirements if table[(unit.id, r.id)].status == "missing"]
        still_owed = [{"name": r.name, "deadline": deadline_text(campaign, r.id, cycle, config)} for r in missing]
    context = {
        "unit": unit.name, "subject": message.subject or "(không có tiêu đề)", "received_at": when(received_at, config),
        "recorded": outcome.status == "recorded", "documents": recorded_docs, "problems": problems,
        "still_owed": still_owed, "campaign": campaign.title if campaign else "", "cycle": cycle,
        **_unit_context(unit, campaign),
    }
    return _mail(config, renderer, key=ack_key(msg_row, outcome.status), kind="ack", to=[message.from_addr],
                 context=context, now=now, unit_id=unit.id, auto="auto-replied", in_reply_to=message.message_id)


def ack_key(msg_row: int, status: str) -> str:
    """The outbox key of a message's acknowledgement: one "recorded" answer and one "needs more"
    answer at most, so a message a clerk resolves after review gets its "recorded" answer once,
    and deciding it again never answers twice."""
    return f"ack:{msg_row}" if status == "recorded" else f"ack:{msg_row}:review"


def resend_request(config: Config, renderer: Renderer, *, msg_row: dict, message, note: str, who: str,
                   now: datetime, unit: Unit | None = None) -> OutgoingMail | None:
    """The clerk's "please send it again" to the sender of a message (the desk's ask_resend);
    `unit`: the unit a clerk said the sender is, when units.toml does not know the address."""
    if not message.from_addr:
        return None
    unit = config.unit_for_address(message.from_addr) or unit
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
    """The opening notice, a reminder or an overdue notice to one unit (chase.kind)."""
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
    basis = campaign.basis
    if chase.kind == "opening" and basis is not None and basis.file is not None:
        files.append(_file(basis.file))
    if chase.kind in ("opening", "reminder") and campaign.form is not None:
        files.append(_file(campaign.form))
    copies, head, district = escalation_copies(config, campaign, unit, chase.step, failing)
    rules = campaign.reminders
    context = {"unit": unit.name, "campaign": campaign.title, "cycle": chase.cycle, "owed": owed,
               "now": when(now, config), "form": campaign.form is not None and chase.kind in ("opening", "reminder"),
               "basis_file": chase.kind == "opening" and basis is not None and basis.file is not None,
               "notice_no": chase.step.number, "last_notice": chase.kind == "overdue" and chase.step.number >= len(rules.overdue_days),
               "copied_head": head, "copied_district": district, "district": rules.overdue_cc_name,
               **_unit_context(unit, campaign)}
    return _mail(config, renderer, key=chase.key, kind=chase.kind, to=unit_addresses(unit, failing), context=context,
                 now=now, unit_id=unit.id, attachments=files, cc=copies)


def cycle_words(campaign: Campaign, cycle: str) -> str:
    """A cycle as the office says it: "năm 2024" (a yearly campaign's cycle is its year)."""
    return f"năm {cycle}"


def _width(text: str) -> int:
    return sum(1 for ch in unicodedata.normalize("NFC", text) if not unicodedata.combining(ch))


def text_table(heads: list[str], rows: list[list[str]]) -> list[str]:
    """A table for the plain-text part: a heading line, a rule, one line per row, columns padded."""
    widths = [max([_width(h)] + [_width(str(r[i])) for r in rows]) for i, h in enumerate(heads)]

    def line(cells) -> str:
        return " | ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths)).rstrip()

    return [line(heads), "-+-".join("-" * w for w in widths), *(line(r) for r in rows)]


def _name_of(config: Config, unit_id: str | None, fallback: str) -> str:
    unit = config.unit(unit_id) if unit_id else None
    return unit.name if unit else fallback


def pending_reviews(reviews: list[dict], rows: list[dict]) -> list[dict]:
    """The messages still waiting for the office: a review message from a known unit that has
    since sent a document that was recorded is settled by that sending (a clerk settles the others,
    which takes them out of status "review")."""
    later: dict[str, datetime] = {}
    for r in rows:
        moment = datetime.fromisoformat(r["received_at"])
        if r["unit_id"] not in later or moment > later[r["unit_id"]]:
            later[r["unit_id"]] = moment
    out = []
    for m in reviews:
        if m.get("status", "review") != "review":
            continue
        newest = later.get(m.get("unit_id"))
        if newest is not None and m.get("received_at") and newest > datetime.fromisoformat(m["received_at"]):
            continue
        out.append(m)
    return out


def digest(config: Config, renderer: Renderer, day: date, rows: list[dict], arrivals: list[dict],
           reviews: list[dict], now: datetime) -> OutgoingMail | None:
    """The office's morning digest: per campaign the counts per requirement, the units that still
    owe something (one line each, under column headings), the documents received since yesterday
    and the messages still waiting for a person; names only, no codes."""
    tz = config.office.timezone
    campaigns = []
    for campaign in config.campaigns:
        cycle = campaign.cycle_of(now, tz)
        table = cells(config, campaign, cycle, rows)
        n = counts(campaign, table)
        units = campaign_units(config, campaign, day)
        reqs = campaign.requirements
        pending = [{"name": u.name, "cells": [STATUS_WORDS[table[(u.id, r.id)].status] for r in reqs]}
                   for u in units if any(table[(u.id, r.id)].status == "missing" for r in reqs)]
        campaigns.append({
            "title": campaign.title, "cycle": cycle_words(campaign, cycle), "unit_count": len(campaign.unit_ids),
            "requirements": [{"number": k, "name": r.name, "deadline": deadline_text(campaign, r.id, cycle, config),
                              **n[r.id]} for k, r in enumerate(reqs, 1)],
            "pending": pending,
            "pending_lines": text_table(["STT", "Đơn vị"] + [f"({k})" for k in range(1, len(reqs) + 1)],
                                        [[str(i), p["name"], *p["cells"]] for i, p in enumerate(pending, 1)]),
        })

    def requirement_name(row: dict) -> str:
        campaign = config.campaign(row["campaign"]) if row.get("campaign") else None
        req = campaign.requirement(row["requirement"]) if campaign else None
        return req.name if req else row["requirement"]

    new = [{"received_at": when(a["received_at"], config), "unit": _name_of(config, a["unit_id"], a["unit_id"]),
            "requirement": requirement_name(a), "number": a["doc_number"] or ""}
           for a in sorted(arrivals, key=lambda a: datetime.fromisoformat(a["received_at"]))]
    waiting = [{"id": r["id"], "received_at": when(r["received_at"], config),
                "sender": _name_of(config, r.get("unit_id"), r["from_addr"] or "(không rõ)"),
                "address": r["from_addr"] or "", "subject": r.get("subject") or "(không có tiêu đề)",
                "reason": r["reason"] or ""} for r in pending_reviews(reviews, rows)]
    context = {
        "day": day.strftime("%d/%m/%Y"), "now": when(now, config), "since": when(now - timedelta(days=1), config),
        "campaigns": campaigns, "arrivals": new,
        "arrival_lines": text_table(["Nhận lúc", "Đơn vị", "Văn bản", "Số, ký hiệu"],
                                    [[a["received_at"], a["unit"], a["requirement"], a["number"]] for a in new]),
        "reviews": waiting,
        "review_lines": text_table(["Mã thư", "Nhận lúc", "Người gửi", "Lý do"],
                                   [[str(r["id"]), r["received_at"], r["sender"], r["reason"]] for r in waiting]),
    }
    return _mail(config, renderer, key=f"digest:{day.isoformat()}", kind="digest", to=list(config.office.staff),
                 context=context, now=now)


def review_summary(config: Config, renderer: Renderer, rows: list[dict], messages: list[dict | None],
                   now: datetime) -> OutgoingMail | None:
    """One mail to the office listing review notices the daily limit had no room for (rows: their
    outbox rows, messages: the incoming message of each, or None). Keyed by the rows, made once."""
    if not rows:
        return None
    items = []
    for row, m in zip(rows, messages):
        if m is None:
            items.append({"id": "", "received_at": "", "sender": "", "address": "", "subject": row["subject"],
                          "reason": ""})
            continue
        items.append({"id": m["id"], "received_at": when(m["received_at"], config),
                      "sender": _name_of(config, m.get("unit_id"), m.get("from_addr") or "(không rõ)"),
                      "address": m.get("from_addr") or "", "subject": m.get("subject") or "(không có tiêu đề)",
                      "reason": m.get("reason") or ""})
    context = {"items": items, "count": len(items), "limit": config.notices.max_per_address_per_day,
               "example": next((i["id"] for i in items if i["id"] != ""), ""),
               "folder": config.mailbox.review_folder, "now": when(now, config)}
    return _mail(config, renderer, key=f"review_summary:{rows[0]['id']}-{rows[-1]['id']}:{len(rows)}",
                 kind="review_summary", to=list(config.office.staff), context=context, now=now)


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
    if row.get("kind") in ("undeliverable", "review", "digest", "address_failing", "review_summary"):
        return None  # mail to the office itself failing: logged, never a notice about a notice
    context = {"subject": row["subject"], "recipients": ", ".join(row["recipients"]) if isinstance(row["recipients"], list)
               else row["recipients"], "error": row.get("last_error") or "không rõ"}
    return _mail(config, renderer, key=f"undeliverable:{row['id']}", kind="undeliverable",
                 to=list(config.office.staff), context=context, now=now)


def address_failing(config: Config, renderer: Renderer, unit: Unit, address: str, detail: str, failing: set[str],
                    now: datetime) -> OutgoingMail | None:
    others = [a for a in unit.emails if a != address and a not in failing]
    context = {"unit": unit.name, "address": address, "detail": detail, "others": others,
               "copy": address not in unit.emails}  # the head's address, copied on overdue notices
    return _mail(config, renderer, key=f"address_failing:{unit.id}:{address}:{now.date().isoformat()}",
                 kind="address_failing", to=list(config.office.staff), context=context, now=now)

