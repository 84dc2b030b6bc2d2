"""Checks that `tonghop check-config` runs beyond loading the files: every mail template renders
with the data the service gives it, campaigns still have a deadline ahead, and (with --connect)
the mailbox and the SMTP server answer. Each problem names the file or key, in Vietnamese."""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import jinja2

from parsers.model import Attachment, Document, ParsedMessage, facts_from_json

from daemon.config import Config
from daemon.outgoing import notices
from daemon.outgoing.chase import Chase, Step
from daemon.records import AttachmentRecord, Outcome, SubmissionRecord
from daemon.textfile import EncodingProblem


def _sample_message(config: Config, sender: str) -> ParsedMessage:
    return ParsedMessage(
        message_id="<kiem-tra@tonghop>", subject="Báo cáo kết quả công tác dân vận", from_addr=sender, from_name="",
        to=(config.office.address,), date=None, headers=(), return_path=None, content_type="multipart/mixed",
        report_type=None, body_text="", attachments=(Attachment("bao-cao.docx", "application/octet-stream", b""),),
    )


def _renders(config: Config, now: datetime):
    """(template file, builder) pairs that exercise every template with realistic data."""
    renderer = notices.Renderer(config.notices.templates)
    campaign = config.campaigns[0]
    unit = config.unit(campaign.unit_ids[0])
    req = campaign.requirements[0]
    cycle = campaign.cycle_of(now, config.office.timezone)
    facts = {"type": req.doc_types[0] if req.doc_types else "BC", "type_name": "BÁO CÁO"}
    outcome = Outcome(
        status="recorded", reason="kiểm tra", unit_id=unit.id,
        attachments=(AttachmentRecord("bao-cao.docx", "", "application/octet-stream", "docx", 1, "0", ("Tệp thử.",), facts),),
        submissions=(SubmissionRecord(0, campaign.id, cycle, req.id, "45/BC-UBND", now.date().isoformat(), "Kết quả"),),
        from_addr=unit.emails[0], subject="Báo cáo",
    )
    row = {"id": 0, "received_at": now.isoformat(), "from_addr": unit.emails[0], "subject": "Báo cáo", "sha256": "0"}
    doc = Document(filename="bao-cao.docx", kind="docx", text="BÁO CÁO", facts=facts_from_json(facts))
    yield "ack.txt", lambda: notices.acknowledgement(
        config, renderer, msg_row=0, message=_sample_message(config, unit.emails[0]), outcome=outcome,
        documents=(doc,), received_at=now, prior_rows=[], now=now)
    yield "review.txt", lambda: notices.review_notice(
        config, renderer, msg_row=row, outcome=Outcome(status="review", reason="kiểm tra"), raw=b"Subject: x\r\n\r\n",
        archive_path=Path("archive/0.eml"), now=now)
    # the second overdue notice has its own wording and copies: render both
    for kind, number in (("opening", 1), ("reminder", 1), ("overdue", 1), ("overdue", 2)):
        chase = Chase(kind, campaign.id, cycle, unit.id, Step(kind, now, 3, number), (req.id,))
        yield f"{kind}.txt", lambda chase=chase: notices.chase_mail(config, renderer, chase, now, set())
    yield "digest.txt", lambda: notices.digest(config, renderer, now.date(), [], [], [], now)
    yield "review_summary.txt", lambda: notices.review_summary(
        config, renderer, [{"id": 1, "subject": "Báo cáo", "message": 0}], [row | {"reason": "kiểm tra"}], now)
    yield "undeliverable.txt", lambda: notices.undeliverable(
        config, renderer, {"id": 0, "kind": "ack", "subject": "Báo cáo", "recipients": [unit.emails[0]],
                           "last_error": "550"}, now)
    yield "address_failing.txt", lambda: notices.address_failing(config, renderer, unit, unit.emails[0], "550", set(), now)
    yield "resend.txt", lambda: notices.resend_request(config, renderer, msg_row=row, message=_sample_message(
        config, "vanthu@example.com"), note="Đề nghị gửi bản có chữ ký.", who="kiểm tra", now=now)

    def draft():
        with tempfile.TemporaryDirectory() as tmp:
            docx, xlsx = Path(tmp) / "du-thao.docx", Path(tmp) / "du-thao.xlsx"
            docx.write_bytes(b"")
            xlsx.write_bytes(b"")
            return notices.draft_mail(config, renderer, campaign, cycle, 2, docx, xlsx,
                                      [{"unit_id": unit.id, "requirement": req.id, "doc_number": "1/BC",
                                        "received_at": now.isoformat()}], now)
    yield "draft.txt", draft
    yield "draft_failed.txt", lambda: notices.draft_failed(config, renderer, campaign, cycle, "mẫu Word bị hỏng", now)


def template_problems(config: Config, now: datetime) -> list[str]:
    if not config.campaigns or not config.units:
        return []
    problems = []
    folder = config.notices.templates / "email"
    for name, build in _renders(config, now):
        try:
            build()
        except jinja2.TemplateNotFound as exc:
            problems.append(f"{folder / exc.name}: không tìm thấy mẫu thư")
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{folder / (exc.name or name)}: dòng {exc.lineno}: sai cú pháp mẫu: {exc.message}")
        except jinja2.UndefinedError as exc:
            problems.append(f"{folder / name}: dùng biến không có: {exc.message}")
        except EncodingProblem as exc:
            problems.append(str(exc))
        except Exception as exc:  # any other template error is still the template's, not the service's
            problems.append(f"{folder / name}: không dựng được thư: {type(exc).__name__}: {exc}")
    return problems


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:]


def draft_template_problems(config: Config, now: datetime, *, quick: bool = False) -> list[str]:
    """Write each campaign's draft, from an empty ledger, with the Word template the service
    will use: a corrupt or broken template is found now, not at the deadline. `quick` only opens
    the template (what `run` does at start: a whole draft takes a second or two)."""
    from daemon.report import model as draft
    from daemon.report import writers
    from daemon.store import Store

    if quick:
        try:
            writers.check_template(config)
        except writers.DraftError as exc:
            return [_sentence(exc)]
        return []
    problems = []
    with tempfile.TemporaryDirectory(prefix="tonghop-check-") as tmp:
        store = Store(Path(tmp) / "kiem-tra.db", Path(tmp) / "archive")
        try:
            for campaign in config.campaigns:
                cycle = campaign.cycle_of(now, config.office.timezone)
                model = draft.model_from_ledger(config, store, campaign, cycle, now, [])
                try:
                    writers.write_draft(config, model, Path(tmp) / campaign.id)
                except writers.DraftError as exc:
                    problems.append(_sentence(exc))
                    break  # one template for every campaign: said once
        finally:
            store.close()
    return problems


def schedule_problems(config: Config, now: datetime) -> list[str]:
    """A one-off campaign whose every deadline has passed will never chase anyone again."""
    problems = []
    for campaign in config.campaigns:
        if campaign.recurrence != "once":
            continue
        cycle = campaign.cycle_of(now, config.office.timezone)
        deadlines = [campaign.deadline(r, cycle, config.office.timezone) for r in campaign.requirements]
        if deadlines and max(deadlines) < now - timedelta(days=max(campaign.reminders.overdue_days, default=0) + 1):
            problems.append(
                f"campaigns/{campaign.source.name}: khóa «requirement.deadline»: hạn nộp "
                f"{max(deadlines).strftime('%d/%m/%Y')} đã qua và chiến dịch chỉ diễn ra một lần (recurrence = "
                "\"once\"); không còn kỳ nào để thu. Sửa hạn, đổi sang \"yearly\" hoặc bỏ tệp này.")
    return problems


def plan_lines(config: Config, campaign, cycle: str) -> list[str]:
    """What check-config prints of a cycle's mail to units: the document cited, the opening
    notice's date, the reminder and overdue dates, who is copied from which overdue notice on."""
    from daemon.outgoing.chase import opening_step, steps

    tz, rules, out = config.office.timezone, campaign.reminders, []
    basis = campaign.basis
    if basis is not None:
        out.append(f"  Văn bản giao nhiệm vụ: {basis.citation}"
                   + (f" (gửi kèm tệp {basis.file.name})" if basis.file else ""))
    step = opening_step(campaign, cycle, tz, config.office.calendar)
    if step is None:
        out.append("  Thư triển khai: không gửi (opening_days_before = 0)")
    else:
        files = [f for f, on in (("văn bản giao nhiệm vụ", basis is not None and basis.file is not None),
                                 ("biểu mẫu", campaign.form is not None)) if on]
        out.append(f"  Thư triển khai: {step.at:%H:%M ngày %d/%m/%Y} ({rules.opening_days_before} ngày trước hạn)"
                   + (", kèm " + " và ".join(files) if files else ""))
    if campaign.requirements:
        first = min(campaign.requirements, key=lambda r: campaign.deadline(r, cycle, tz))
        plan = steps(campaign, campaign.deadline(first, cycle, tz), rules, config.office.calendar)
        reminders = [f"{s.at:%d/%m}" for s in plan if s.kind == "reminder"]
        out.append("  Thư nhắc: " + (", ".join(reminders) or "không có"))
        for s in plan:
            if s.kind != "overdue":
                continue
            line = f"  Thư đôn đốc lần {s.number}: {s.at:%d/%m/%Y}"
            if rules.overdue_cc_from and s.number >= rules.overdue_cc_from:
                heads = [u for u in (config.unit(i) for i in campaign.unit_ids) if u and u.cc] if rules.overdue_cc_unit_head else []
                copies = ([f"người đứng đầu của {len(heads)} đơn vị có địa chỉ cc trong units.toml"] if heads else []) + (
                    [f"{rules.overdue_cc_name} ({', '.join(rules.overdue_cc)})"] if rules.overdue_cc else [])
                line += "; đồng gửi: " + ("; ".join(copies) if copies else "không có địa chỉ nào được khai báo")
            out.append(line)
    return out


def connection_problems(config: Config) -> list[str]:
    """Log in to the mailbox and the SMTP server (or check the folders are writable)."""
    from daemon.intake.mailbox import MailboxError, open_source
    from daemon.outgoing.smtp import DeliveryError, Sender

    problems = []
    source = open_source(config.mailbox, config.mailbox_password)
    try:
        source.open()
        source.uidvalidity()
        source.pending()
    except MailboxError as exc:
        problems.append(f"settings.toml: khóa «mailbox.url»: không kết nối được hộp thư: {exc}")
    finally:
        source.close()
    try:
        Sender(config.smtp, config.smtp_password).check()
    except DeliveryError as exc:
        problems.append(f"settings.toml: khóa «smtp.url»: không kết nối được máy chủ gửi thư: {exc}")
    return problems


def account_problems(config: Config) -> list[str]:
    """The web desk's accounts file (accounts.toml) and templates: each problem in Vietnamese."""
    from daemon.config_toml import read_accounts

    _, problems = read_accounts(config.web.accounts_file)
    web = config.notices.templates / "web"
    for name in ("_layout.html", "dang-nhap.html", "bang-theo-doi.html", "static/desk.css"):
        if not (web / name).is_file():
            problems.append(f"templates/web/: thiếu tệp mẫu {name} của bàn làm việc trên web")
    return problems


def account_summary(config: Config) -> str:
    from daemon.config_toml import ROLES, read_accounts

    accounts, _ = read_accounts(config.web.accounts_file)
    if not accounts:
        return f"Bàn làm việc trên web: chưa có tài khoản ({config.web.accounts_file}); tạo bằng: tonghop web --set-password TÊN"
    parts = [f"{a.name} ({ROLES[a.role]}{'' if a.password else ', chưa đặt mật khẩu'})" for a in accounts]
    return f"Bàn làm việc trên web: http://{config.web.host}:{config.web.port}/ — tài khoản: " + ", ".join(parts)


def pending_addresses(config: Config, approved: list[dict]) -> list[str]:
    """Addresses a clerk approved at the desk (store.approved_address_rows) that units.toml does not
    have yet, as the lines to print: for each unit, the exact `emails = [...]` line to paste into
    its [[unit]] entry. They already count (the ledger), units.toml is where they belong for good."""
    import json

    from daemon.texts import t

    by_unit: dict[str, list[dict]] = {}
    lines = []
    for row in approved:
        unit, configured = config.unit(row["unit_id"]), config.unit_for_address(row["address"])
        if configured is not None and unit is not None and configured.id == unit.id:
            continue  # copied already
        if configured is not None:
            lines.append(t("desk.pending_conflict", address=row["address"], who=row["who"],
                           unit=unit.name if unit else row["unit_id"], other=configured.name))
        elif unit is None:
            lines.append(t("desk.pending_gone", address=row["address"], who=row["who"], unit_id=row["unit_id"]))
        else:
            by_unit.setdefault(unit.id, []).append(row)
    for unit_id, rows in by_unit.items():
        unit = config.unit(unit_id)
        for row in rows:
            lines.append(t("desk.pending_line", address=row["address"], unit=unit.name, unit_id=unit.id, who=row["who"],
                           at=row["at"], message=row["message"]))
        emails = [*unit.emails, *(r["address"] for r in rows)]
        lines.append("      emails = [" + ", ".join(json.dumps(e, ensure_ascii=False) for e in emails) + "]")
    return [t("desk.pending_addresses"), *lines] if lines else []
