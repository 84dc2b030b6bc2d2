"""The web desk: the clerk's pages over the ledger (Flask, served by waitress from `tonghop web`).

Every page reads the ledger through daemon/store.py and the status rules of daemon/status.py, so
it shows what `tonghop status` and `tonghop messages` print; every action goes through
daemon/desk.py, as `tonghop resolve` would. Templates are templates/web/*.html (admins edit them),
the style sheet templates/web/static/desk.css. No JavaScript is needed: each action is a form.

Security: a signed session cookie (HttpOnly, SameSite=Lax, Secure when configured), a per-session
CSRF token checked on every POST with hmac.compare_digest, the "readonly" role refused every POST
but logging out (403), and at most 5 failed logins per name and address in 5 minutes.
"""
from __future__ import annotations

import hmac
import io
import json
import math
import re
import secrets
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, g, redirect, render_template, request, send_file, session, url_for

from daemon.clock import Clock, local_text
from daemon.config import Config
from daemon.config_toml import ROLES, read_accounts
from daemon.desk import Desk
from daemon.records import sha256_of
from daemon.status import STATUS_WORDS, status_document
from daemon.store import Store
from daemon.web.accounts import LoginLimiter, session_key, verify_password

MESSAGE_STATUSES = {"claimed": "đang xử lý", "recorded": "đã ghi nhận", "review": "cần xem xét",
                    "ignored": "bỏ qua", "failed": "lỗi"}
OUTBOX_STATUSES = {"queued": "đang chờ gửi", "sent": "đã gửi", "failed": "không gửi được", "withdrawn": "đã rút lại"}
MAIL_KINDS = {"ack": "thư báo đã nhận", "reminder": "thư nhắc", "overdue": "thư đôn đốc", "review": "thông báo cần xem xét",
              "digest": "bản tin hằng ngày", "draft": "thư gửi dự thảo", "undeliverable": "thông báo không gửi được",
              "address_failing": "thông báo địa chỉ lỗi", "resend": "thư đề nghị gửi lại"}
FACT_LABELS = (("number", "Số, ký hiệu"), ("type_name", "Loại văn bản"), ("title", "Trích yếu"), ("date", "Ngày ban hành"),
               ("issuer", "Cơ quan ban hành"), ("parent_body", "Cơ quan chủ quản"), ("place", "Địa danh"),
               ("addressee", "Kính gửi"), ("authority", "Thẩm quyền ký"), ("signer_title", "Chức vụ người ký"),
               ("signer", "Người ký"))
ACTION_WORDS = {"sender_is": "xác nhận người gửi là đơn vị", "file_is": "xác nhận tệp là văn bản báo cáo",
                "not_a_submission": "xác định không phải báo cáo", "ask_resend": "đề nghị đơn vị gửi lại",
                "write_draft": "viết dự thảo"}
FILTERS = {"late": "trễ hạn", "missing": "chưa nộp", "review": "có thư cần xem xét"}
BOARD_PAGE = 100  # units per page of the board
LIST_PAGE = 50  # rows per page of the message and outbox lists
REVIEW_PAGE = 20  # messages per page of the review queue (each with its action forms)
PICKER_SELECT = 300  # up to this many units a unit is picked from a <select>, beyond from a <datalist>
DRAFT_FILES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def create_app(config: Config, clock: Clock | None = None, *, monotonic=time.monotonic) -> Flask:
    """The desk's Flask app for this configuration. `clock` is the service clock (--now); the
    login limiter counts seconds with `monotonic` (tests pass their own)."""
    templates = config.notices.templates / "web"
    app = Flask("tonghop.web", template_folder=str(templates), static_folder=str(templates / "static"),
                static_url_path="/static")
    app.secret_key = session_key(config.web.secret_file)
    app.config.update(SESSION_COOKIE_NAME="tonghop_phien", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=config.web.secure_cookies,
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=12), MAX_CONTENT_LENGTH=64 * 1024)
    clock = clock or Clock()
    limiter = LoginLimiter()
    local = threading.local()  # one Store (sqlite connection) per server thread
    tz = config.office.timezone

    def store() -> Store:
        if getattr(local, "store", None) is None:
            local.store = Store.open(config)
        return local.store

    def accounts() -> dict:
        found, _ = read_accounts(config.web.accounts_file)
        return {a.name: a for a in found}

    def desk() -> Desk:
        return Desk(config, store(), clock)

    # --- helpers for templates ------------------------------------------------------------------

    def when(stamp) -> str:
        return local_text(stamp, tz) if stamp else ""

    def unit_name(unit_id) -> str:
        unit = config.unit(unit_id) if unit_id else None
        return unit.name if unit else (unit_id or "")

    def day(iso) -> str:
        """"2024-10-15" -> "15/10/2024" (a document's date as the office writes it)."""
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
        return f"{match[3]}/{match[2]}/{match[1]}" if match else (iso or "")

    app.jinja_env.globals.update(when=when, day=day, unit_name=unit_name, STATUS_WORDS=STATUS_WORDS,
                                 MESSAGE_STATUSES=MESSAGE_STATUSES, OUTBOX_STATUSES=OUTBOX_STATUSES,
                                 MAIL_KINDS=MAIL_KINDS, ROLES=ROLES, ACTION_WORDS=ACTION_WORDS, action_detail=action_detail, office=config.office,
                                 config_campaigns=config.campaigns, with_page=with_page,
                                 unit_select=len(config.units) <= PICKER_SELECT)

    @app.context_processor
    def who():
        return {"user": g.get("user"), "role": g.get("role"), "csrf": session.get("csrf", "")}

    # --- sessions, roles, CSRF --------------------------------------------------------------------

    @app.before_request
    def guard():
        g.user = g.role = None
        if request.endpoint in ("static", "login", "favicon"):
            return None
        name = session.get("user")
        account = accounts().get(name) if name else None
        if account is None or not account.password or session.get("pw") != account.password[-12:]:
            if name:  # removed, or its password changed: log in again (the form's token stays valid)
                for key in ("user", "pw"):
                    session.pop(key, None)
            if request.method == "POST":
                return page("loi.html", 403, title="Phiên đăng nhập đã hết", text="Vui lòng đăng nhập lại rồi thực hiện lại thao tác.")
            return redirect(url_for("login", next=request.full_path if request.query_string else request.path))
        g.user, g.role = account.name, account.role
        if request.method == "POST":
            if not hmac.compare_digest(str(request.form.get("csrf", "")), str(session.get("csrf", ""))):
                return page("loi.html", 400, title="Yêu cầu không hợp lệ",
                            text="Biểu mẫu đã cũ hoặc không gửi từ trang của tonghop (thiếu mã xác thực). "
                                 "Vui lòng tải lại trang rồi thực hiện lại.")
            if account.role != "clerk" and request.endpoint != "logout":
                return page("loi.html", 403, title="Không có quyền thao tác",
                            text=f"Tài khoản «{account.name}» chỉ được xem ({ROLES[account.role]}); "
                                 "việc xử lý thư và viết dự thảo do cán bộ xử lý thực hiện.")
        return None

    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'")
        return response

    def page(template: str, code: int = 200, **values):
        return render_template(template, **values), code

    @app.errorhandler(404)
    def not_found(_):
        return page("loi.html", 404, title="Không tìm thấy", text="Trang hoặc mục này không có trong sổ theo dõi.")

    @app.errorhandler(413)
    def too_big(_):
        return page("loi.html", 413, title="Yêu cầu quá lớn", text="Dữ liệu gửi lên vượt quá giới hạn cho phép.")

    @app.route("/dang-nhap", methods=["GET", "POST"])
    def login():
        target = request.values.get("next") or "/"
        if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
            target = "/"  # never send a clerk to another site after logging in
        if request.method == "GET":
            session.setdefault("csrf", secrets.token_urlsafe(32))
            return page("dang-nhap.html", next=target)
        if not hmac.compare_digest(str(request.form.get("csrf", "")), str(session.get("csrf", ""))):
            session["csrf"] = secrets.token_urlsafe(32)
            return page("dang-nhap.html", 400, next=target, error="Trang đăng nhập đã cũ; vui lòng nhập lại.")
        name = (request.form.get("name") or "").strip().lower()[:64]
        address = request.remote_addr or "?"
        wait = limiter.wait_seconds(name, address, monotonic())
        if wait:
            return page("dang-nhap.html", 429, next=target, name=name,
                        error=f"Đăng nhập sai quá nhiều lần. Vui lòng chờ {math.ceil(wait / 60)} phút rồi thử lại.")
        account = accounts().get(name)
        if account is None or not verify_password(request.form.get("password") or "", account.password):
            limiter.failed(name, address, monotonic())
            return page("dang-nhap.html", 401, next=target, name=name, error="Tên đăng nhập hoặc mật khẩu không đúng.")
        limiter.succeeded(name, address)
        session.clear()
        session.permanent = True
        session.update(user=account.name, pw=account.password[-12:], csrf=secrets.token_urlsafe(32))
        return redirect(target)

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    @app.post("/dang-xuat")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    # --- the board ---------------------------------------------------------------------------------

    kept: dict[tuple[str, str], tuple[tuple[int, int], dict]] = {}
    kept_lock = threading.Lock()

    def board_document(campaign_id: str, cycle: str, now: datetime) -> dict:
        """status_document's campaign for this cycle, kept until the cycle's submissions change:
        with 2,000 units it takes a second to compute, and the board is read far more often than
        a decision is written (bench/web.py). A copy per request: the page adds its own marks."""
        mark = store().submissions_mark(campaign_id, cycle)
        with kept_lock:
            hit = kept.get((campaign_id, cycle))
        if hit is None or hit[0] != mark:
            doc = status_document(config, store().submissions(campaign_id, cycle), now, campaign_id, cycle)["campaigns"][0]
            with kept_lock:
                kept[(campaign_id, cycle)] = (mark, doc)
        else:
            doc = hit[1]
        return {**doc, "units": [dict(u) for u in doc["units"]]}

    @app.get("/")
    def board():
        now = clock.now()
        campaign = config.campaign(request.args.get("campaign", "")) or (config.campaigns[0] if config.campaigns else None)
        if campaign is None:
            abort(404)
        cycles = sorted({campaign.cycle_of(now, tz), *store().cycles(campaign.id)}, reverse=True)
        cycle = request.args.get("cycle") if request.args.get("cycle") in cycles else campaign.cycle_of(now, tz)
        doc = board_document(campaign.id, cycle, now)
        in_review = store().units_in_review()
        per_req = {r["id"]: {k: 0 for k in STATUS_WORDS} for r in doc["requirements"]}
        for u in doc["units"]:
            u["review"] = u["id"] in in_review
            for req_id, s in u["submissions"].items():
                per_req[req_id][s["status"]] += 1
        totals = {k: sum(n[k] for n in per_req.values()) for k in STATUS_WORDS}
        chosen = request.args.get("filter", "")
        units = doc["units"]
        if chosen in ("late", "missing"):
            units = [u for u in units if any(s["status"] == chosen for s in u["submissions"].values())]
        elif chosen == "review":
            units = [u for u in units if u["review"]]
        search = (request.args.get("q") or "").strip()
        if search:
            key = search.lower()
            units = [u for u in units if key in u["name"].lower() or key in u["id"]]
        number, pages, units = paginate(units, BOARD_PAGE)
        deadlines = []
        for r in doc["requirements"]:
            deadline = datetime.fromisoformat(r["deadline"])
            deadlines.append({**r, "left": left_words(deadline - now), "past": deadline <= now})
        upcoming = [d for d in deadlines if not d["past"]]
        return page("bang-theo-doi.html", campaign=campaign, doc=doc, cycles=cycles, cycle=cycle, units=units,
                    totals=totals, per_req=per_req, filters=FILTERS, chosen=chosen, search=search, number=number,
                    pages=pages, deadlines=deadlines, due_next=min(upcoming, key=lambda d: d["deadline"]) if upcoming else None,
                    review_count=store().message_counts().get("review", 0), now=now,
                    first=(number - 1) * BOARD_PAGE)

    # --- a unit ------------------------------------------------------------------------------------

    @app.get("/don-vi/<unit_id>")
    def unit(unit_id: str):
        found = config.unit(unit_id)
        if found is None:
            abort(404)
        rows = store().submissions(unit=unit_id, facts=True)
        by_message: dict[int, list[dict]] = {}
        for r in rows:
            by_message.setdefault(r["message"], []).append(r)
        messages, _ = store().messages_page(unit=unit_id, limit=200)
        versions = []
        for msg in messages:
            if msg["id"] in by_message:
                versions.append({"message": msg, "submissions": by_message[msg["id"]],
                                 "attachments": store().attachments_of(msg["id"])})
        sent, sent_total = store().outbox_page(unit=unit_id, limit=100)
        campaigns = [c for c in config.campaigns if unit_id in c.unit_ids]
        failing = store().failing_addresses()
        return page("don-vi.html", unit=found, versions=versions, messages=messages, sent=sent, sent_total=sent_total,
                    campaigns=campaigns, failing=failing, facts_of=facts_of, recipients=recipients,
                    requirement_name=requirement_name)

    # --- messages ----------------------------------------------------------------------------------

    @app.get("/thu")
    def messages():
        status = request.args.get("status") if request.args.get("status") in MESSAGE_STATUSES else None
        search = (request.args.get("q") or "").strip()[:200]
        number = page_number()
        rows, total = store().messages_page(status=status, search=search, limit=LIST_PAGE, offset=(number - 1) * LIST_PAGE)
        return page("thu.html", rows=rows, total=total, status=status, search=search, number=number,
                    pages=max(1, math.ceil(total / LIST_PAGE)), counts=store().message_counts())

    @app.get("/thu/<int:msg_id>")
    def message(msg_id: int):
        row = store().find_message(msg_id) or abort(404)
        sent, _ = store().outbox_page(message=msg_id, limit=50)
        return page("thu-chi-tiet.html", msg=row, attachments=store().attachments_of(msg_id),
                    submissions=store().submissions_of(msg_id), sent=sent, facts_of=facts_of,
                    problems_of=problems_of, actions=actions_of(msg_id), recipients=recipients,
                    requirement_name=requirement_name, campaigns=config.campaigns, units=config.units)

    @app.get("/thu/<int:msg_id>.eml")
    def message_eml(msg_id: int):
        row = store().find_message(msg_id) or abort(404)
        try:
            raw = store().archive.get(row["sha256"])
        except OSError:
            return page("loi.html", 404, title="Không có bản gốc", text="Không tìm thấy bản lưu nguyên gốc của thư này trong kho lưu.")
        return send_file(io.BytesIO(raw), mimetype="message/rfc822", as_attachment=True, download_name=f"thu-{msg_id}.eml")

    @app.get("/thu/<int:msg_id>/tep/<int:seq>")
    def attachment(msg_id: int, seq: int):
        from parsers.message import parse_message

        row = store().find_message(msg_id) or abort(404)
        att = next((a for a in store().attachments_of(msg_id) if a["seq"] == seq), None) or abort(404)
        try:
            raw = store().archive.get(row["sha256"])
        except OSError:
            abort(404)
        parsed = parse_message(raw, config.limits)
        data = next((a.data for a in parsed.attachments if sha256_of(a.data) == att["sha256"]), None)
        if data is None:  # a file found inside a container (zip, forwarded mail): the .eml holds it
            return page("loi.html", 404, title="Tệp nằm trong tệp nén hoặc thư chuyển tiếp",
                        text="Tệp này nằm trong «" + (att["path"] or "?") + "»; vui lòng tải thư gốc (.eml) để mở.")
        return send_file(io.BytesIO(data), mimetype="application/octet-stream", as_attachment=True,
                         download_name=att["filename"] or f"tep-{seq}")

    # --- review ------------------------------------------------------------------------------------

    @app.get("/xem-xet")
    def review():
        rows, total = store().messages_page(status="review", limit=REVIEW_PAGE, offset=(page_number() - 1) * REVIEW_PAGE)
        items = [{"msg": r, "attachments": store().attachments_of(r["id"])} for r in rows]
        return page("xem-xet.html", items=items, total=total, units=config.units, campaigns=config.campaigns,
                    problems_of=problems_of, number=page_number(), pages=max(1, math.ceil(total / REVIEW_PAGE)))

    def back_to_review(msg_id: int):
        target = request.form.get("back") or ""
        return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("message", msg_id=msg_id))

    def done(result, msg_id: int | None):
        session["notice"] = {"ok": bool(result.ok), "text": result.reason, "id": msg_id}
        return None

    @app.post("/thu/<int:msg_id>/don-vi")
    def sender_is(msg_id: int):
        store().find_message(msg_id) or abort(404)
        unit_id = request.form.get("unit", "")
        if config.unit(unit_id) is None:
            return page("loi.html", 400, title="Chưa chọn đơn vị", text="Vui lòng chọn đơn vị đã gửi thư này.")
        done(desk().sender_is(msg_id, unit_id, who=g.user, remember=bool(request.form.get("remember"))), msg_id)
        return back_to_review(msg_id)

    @app.post("/thu/<int:msg_id>/tep")
    def file_is(msg_id: int):
        store().find_message(msg_id) or abort(404)
        try:
            seq = int(request.form.get("seq", ""))
            campaign_id, requirement_id = request.form.get("requirement", "").split("/", 1)
        except ValueError:
            return page("loi.html", 400, title="Chưa chọn đủ", text="Vui lòng chọn tệp và yêu cầu báo cáo.")
        unit_id = request.form.get("unit", "")
        campaign = config.campaign(campaign_id)
        if config.unit(unit_id) is None or campaign is None or campaign.requirement(requirement_id) is None:
            return page("loi.html", 400, title="Chưa chọn đủ", text="Vui lòng chọn đơn vị và yêu cầu báo cáo.")
        done(desk().file_is(msg_id, seq, unit_id, campaign_id, requirement_id, who=g.user), msg_id)
        return back_to_review(msg_id)

    @app.post("/thu/<int:msg_id>/bo-qua")
    def not_a_submission(msg_id: int):
        store().find_message(msg_id) or abort(404)
        done(desk().not_a_submission(msg_id, who=g.user, note=(request.form.get("note") or "")[:500]), msg_id)
        return back_to_review(msg_id)

    @app.post("/thu/<int:msg_id>/gui-lai")
    def ask_resend(msg_id: int):
        store().find_message(msg_id) or abort(404)
        done(desk().ask_resend(msg_id, who=g.user, note=(request.form.get("note") or "")[:500]), msg_id)
        return back_to_review(msg_id)

    @app.context_processor
    def notice():
        return {"notice": session.pop("notice", None) if request.method == "GET" else None}

    def actions_of(msg_id: int) -> list[dict]:
        return desk().actions(msg_id)

    # --- drafts ------------------------------------------------------------------------------------

    @app.get("/du-thao")
    def drafts():
        from daemon.report.notes import notes_path

        rows = list(reversed(store().drafts()))
        for r in rows:
            r["has_notes"] = notes_path(Path(r["docx"])).is_file()
            r["count"] = len(json.loads(r["submissions"] or "[]"))
        now = clock.now()
        current = [(c, c.cycle_of(now, tz)) for c in config.campaigns]
        previews = [a for a in desk().actions() if a["action"] == "write_draft"][:20]
        return page("du-thao.html", rows=rows, current=current, campaign_title=campaign_title, previews=previews)

    @app.get("/du-thao/xem-truoc/<int:action_id>/<int:index>")
    def preview_file(action_id: int, index: int):
        action = next((a for a in desk().actions() if a["id"] == action_id and a["action"] == "write_draft"), None)
        paths = (action or {}).get("detail", {}).get("paths") or []
        if not 0 <= index < len(paths):
            abort(404)
        path = Path(paths[index]).resolve()
        if not path.is_relative_to(config.storage.root.resolve()) or not path.is_file():
            return page("loi.html", 404, title="Không tìm thấy tệp", text=f"Tệp {path.name} không còn trong thư mục dữ liệu.")
        return send_file(path, mimetype=DRAFT_FILES.get(path.suffix.lstrip("."), "application/octet-stream"),
                         as_attachment=True, download_name=path.name)

    @app.get("/du-thao/<int:draft_id>/<kind>")
    def draft_file(draft_id: int, kind: str):
        from daemon.report.notes import notes_path

        row = store().draft(draft_id) or abort(404)
        paths = {"docx": Path(row["docx"]), "xlsx": Path(row["xlsx"]), "ghi-chu": notes_path(Path(row["docx"]))}
        path = paths.get(kind) or abort(404)
        if not path.is_file():
            return page("loi.html", 404, title="Không tìm thấy tệp", text=f"Tệp {path.name} không còn trong thư mục dữ liệu.")
        return send_file(path, mimetype=DRAFT_FILES.get(path.suffix.lstrip("."), "application/octet-stream"),
                         as_attachment=True, download_name=path.name)

    @app.post("/du-thao/viet")
    def write_draft():
        campaign = config.campaign(request.form.get("campaign", "")) or abort(404)
        cycle = request.form.get("cycle") or campaign.cycle_of(clock.now(), tz)
        if not re.fullmatch(r"[0-9A-Za-z-]{1,20}", cycle):
            abort(404)
        result = desk().write_draft(campaign.id, cycle, who=g.user)
        session["notice"] = {"ok": bool(result.ok), "text": result.reason, "id": None}
        return redirect(url_for("drafts"))

    def campaign_title(campaign_id: str) -> str:
        c = config.campaign(campaign_id)
        return c.title if c else campaign_id

    # --- outbox ------------------------------------------------------------------------------------

    @app.get("/thu-gui")
    def outbox():
        status = request.args.get("status") if request.args.get("status") in OUTBOX_STATUSES else None
        number = page_number()
        rows, total = store().outbox_page(status=status, limit=LIST_PAGE, offset=(number - 1) * LIST_PAGE)
        return page("thu-gui.html", rows=rows, total=total, status=status, number=number,
                    pages=max(1, math.ceil(total / LIST_PAGE)), counts=store().outbox_counts(), recipients=recipients)

    @app.get("/thu-gui/<int:outbox_id>.eml")
    def outbox_eml(outbox_id: int):
        store().outbox_row(outbox_id) or abort(404)
        return send_file(io.BytesIO(store().mail_bytes(outbox_id)), mimetype="message/rfc822", as_attachment=True,
                         download_name=f"thu-gui-{outbox_id}.eml")

    # --- small helpers -----------------------------------------------------------------------------

    def requirement_name(campaign_id: str, requirement_id: str) -> str:
        c = config.campaign(campaign_id)
        r = c.requirement(requirement_id) if c else None
        return r.name if r else requirement_id

    return app


def with_page(number: int) -> str:
    """The current query string with another page number (the pager's links)."""
    return urlencode([*((k, v) for k, v in request.args.items(multi=True) if k != "page"), ("page", number)])


def page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100000))
    except ValueError:
        return 1


def paginate(items: list, size: int) -> tuple[int, int, list]:
    pages = max(1, math.ceil(len(items) / size))
    number = min(page_number(), pages)
    return number, pages, items[(number - 1) * size: number * size]


def left_words(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds <= 0:
        days = int(-seconds // 86400)
        return "đã quá hạn" + (f" {days} ngày" if days else "")
    if seconds < 86400:
        return f"còn {int(seconds // 3600)} giờ"
    return f"còn {int(seconds // 86400)} ngày"


def action_detail(action: dict) -> str:
    """What a desk action was about, in words (the unit, the requirement, the clerk's note)."""
    detail = action.get("detail") or {}
    if not isinstance(detail, dict):
        return str(detail)
    words = []
    for key, label in (("unit", "đơn vị"), ("unit_id", "đơn vị"), ("campaign", "chiến dịch"), ("cycle", "kỳ"),
                       ("requirement", "yêu cầu"), ("note", "ghi chú")):
        if detail.get(key):
            words.append(f"{label}: {detail[key]}")
    return "; ".join(words)


def facts_of(att: dict) -> list[tuple[str, str]]:
    try:
        facts = json.loads(att.get("facts") or "null") or {}
    except ValueError:
        return []
    out = [(label, facts[key]) for key, label in FACT_LABELS if isinstance(facts.get(key), str) and facts[key]]
    return [(label, "/".join(reversed(v.split("-"))) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) else v) for label, v in out]


def problems_of(att: dict) -> list[str]:
    try:
        return [p for p in json.loads(att.get("problems") or "[]") if isinstance(p, str)]
    except ValueError:
        return []


def recipients(row: dict) -> str:
    try:
        return ", ".join(json.loads(row.get("recipients") or "[]"))
    except ValueError:
        return ""
