"""Configuration: config/settings.toml, units.toml, campaigns/*.toml -> frozen, typed objects.

Every problem names the file, the key and what is wrong, in Vietnamese, and all problems are
collected before failing so an admin fixes the files in one go. Loading has no side effects
beyond reading files and the environment (for password_env).
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parsers.model import Limits

UNIT_KINDS = {
    "department": "cơ quan chuyên môn",
    "service_unit": "đơn vị sự nghiệp",
    "commune": "xã",
    "town": "thị trấn",
}
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ConfigError(Exception):
    """Raised with every problem found; str() is the Vietnamese list for the admin."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Office:
    name: str  # "Phòng Nội vụ huyện Tháp Mười"
    parent_body: str  # "ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI"
    issuer: str  # "PHÒNG NỘI VỤ"
    place: str  # "Tháp Mười"
    address: str  # the office's own mailbox address: never answered, never mailed
    other_addresses: tuple[str, ...]  # more addresses of ours (aliases)
    staff: tuple[str, ...]  # who receives notices, digests and drafts
    timezone: ZoneInfo

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset((self.address, *self.other_addresses))


@dataclass(frozen=True)
class MailboxSettings:
    url: str
    scheme: str  # "imap" | "imaps" | "imap+starttls" | "maildir"
    host: str | None
    port: int | None
    user: str | None
    folder: str
    path: Path | None
    processed_folder: str
    review_folder: str
    timeout_seconds: float
    poll_seconds: float
    idle_renew_seconds: float
    batch_size: int
    tls_verify: bool
    ca_file: Path | None


@dataclass(frozen=True)
class SmtpSettings:
    url: str
    scheme: str  # "smtp" | "smtps" | "smtp+starttls" | "dir"
    host: str | None
    port: int | None
    user: str | None
    path: Path | None
    sender: str  # From: of every mail we send
    sender_name: str
    timeout_seconds: float
    tls_verify: bool
    ca_file: Path | None


@dataclass(frozen=True)
class Storage:
    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "tonghop.db"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"


@dataclass(frozen=True)
class IntakeSettings:
    # When True, a message from an unknown address whose document clearly names a unit as its
    # issuer is recorded for that unit; when False (default) it goes to review.
    trust_document_issuer: bool = False


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    emails: tuple[str, ...]  # lower case
    aliases: tuple[str, ...] = ()  # other names the unit signs with (issuer matching)
    active_from: date | None = None
    active_until: date | None = None

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_until is None or day <= self.active_until
        )


@dataclass(frozen=True)
class Requirement:
    id: str
    name: str
    doc_types: tuple[str, ...]  # ND30 type codes that satisfy it: ("BC",)
    keywords: tuple[str, ...]  # words expected in the title (any one matches)
    deadline: str  # "MM-DD" for a yearly campaign, "YYYY-MM-DD" for a one-off
    deadline_time: time


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    recurrence: str  # "yearly" | "once"
    opens: str  # "MM-DD" (yearly) or "YYYY-MM-DD": when a cycle starts accepting documents
    unit_ids: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    source: Path

    def requirement(self, req_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == req_id), None)

    def cycle_of(self, moment: datetime, tz: ZoneInfo) -> str:
        """The cycle a moment belongs to: a yearly cycle Y runs from opens(Y) to opens(Y+1)."""
        if self.recurrence == "once":
            return self.opens[:4]
        local = moment.astimezone(tz)
        month, day = (int(x) for x in self.opens.split("-"))
        start = datetime(local.year, month, day, tzinfo=tz)
        return str(local.year if local >= start else local.year - 1)

    def deadline(self, req: Requirement, cycle: str, tz: ZoneInfo) -> datetime:
        if self.recurrence == "once":
            day = date.fromisoformat(req.deadline)
        else:
            month, dom = (int(x) for x in req.deadline.split("-"))
            day = date(int(cycle), month, dom)
        return datetime.combine(day, req.deadline_time, tzinfo=tz)


@dataclass(frozen=True)
class Config:
    dir: Path
    office: Office
    mailbox: MailboxSettings
    mailbox_password: str | None
    smtp: SmtpSettings
    smtp_password: str | None
    storage: Storage
    intake: IntakeSettings
    limits: Limits
    units: tuple[Unit, ...]
    campaigns: tuple[Campaign, ...]

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def campaign(self, campaign_id: str) -> Campaign | None:
        return next((c for c in self.campaigns if c.id == campaign_id), None)

    def unit_for_address(self, address: str | None) -> Unit | None:
        if not address:
            return None
        address = address.strip().lower()
        return next((u for u in self.units if address in u.emails), None)


class _Reader:
    """Typed access to one TOML table that records problems instead of raising at the first."""

    def __init__(self, problems: list[str], file: str, table: dict, prefix: str = ""):
        self.problems, self.file, self.table, self.prefix = problems, file, table, prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def error(self, name: str, what: str) -> None:
        self.problems.append(f"{self.file}: khóa «{self.key(name)}»: {what}")

    def sub(self, name: str) -> "_Reader":
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            self.error(name, "phải là một bảng [" + self.key(name) + "]")
            value = {}
        return _Reader(self.problems, self.file, value, f"{self.key(name)}.")

    def get(self, name: str, kind: type, default=..., *, required: bool = False):
        if name not in self.table:
            if required or default is ...:
                self.error(name, "bắt buộc nhưng chưa khai báo")
                return None
            return default
        value = self.table[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.error(name, "phải là danh sách chuỗi, ví dụ [\"a\", \"b\"]")
                return [] if default is ... else default
            return value
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = {str: "chuỗi", int: "số nguyên", float: "số", bool: "true hoặc false"}
            self.error(name, f"phải là {names.get(kind, kind.__name__)}, đang là {value!r}")
            return None if default is ... else default
        return value

    def unknown_keys(self, allowed: set[str]) -> None:
        for name in self.table:
            if name not in allowed:
                self.error(name, "không có khóa này (gõ sai tên khóa?)")


def _password(r: _Reader, base: Path) -> str | None:
    env_name = r.get("password_env", str, None)
    file_name = r.get("password_file", str, None)
    if "password" in r.table:
        r.error("password", "không ghi mật khẩu trong tệp cấu hình; dùng password_env hoặc password_file")
    if env_name and file_name:
        r.error("password_env", "chỉ dùng một trong hai: password_env hoặc password_file")
        return None
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            r.error("password_env", f"biến môi trường {env_name} chưa được đặt")
        return value
    if file_name:
        path = (base / file_name).resolve()
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            r.error("password_file", f"không đọc được tệp mật khẩu {path}: {exc.strerror}")
    return None


def _url_parts(r: _Reader, name: str, url: str, schemes: dict[str, int], path_scheme: str, base: Path):
    """Split a mailbox/SMTP URL; returns (scheme, host, port, user, path, folder)."""
    if url.startswith(path_scheme + ":"):
        raw = url[len(path_scheme) + 1 :]
        if not raw:
            r.error(name, f"thiếu đường dẫn sau «{path_scheme}:»")
            return None
        return path_scheme, None, None, None, (base / raw).resolve(), ""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        allowed = ", ".join([f"{s}://" for s in schemes] + [f"{path_scheme}:ĐƯỜNG_DẪN"])
        r.error(name, f"địa chỉ «{url}» không hợp lệ; dùng một trong: {allowed}")
        return None
    try:
        port = parts.port or schemes[parts.scheme]
    except ValueError:
        r.error(name, f"cổng trong «{url}» không hợp lệ")
        return None
    if not parts.hostname:
        r.error(name, f"thiếu tên máy chủ trong «{url}»")
        return None
    user = unquote(parts.username) if parts.username else None
    folder = unquote(parts.path.lstrip("/"))
    return parts.scheme, parts.hostname, port, user, None, folder


def _load_toml(problems: list[str], path: Path) -> dict | None:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        problems.append(f"{path.name}: không tìm thấy tệp (cần có trong thư mục cấu hình {path.parent})")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path.name}: sai cú pháp TOML: {exc}")
    except OSError as exc:
        problems.append(f"{path.name}: không đọc được tệp: {exc.strerror}")
    return None


def _clock(r: _Reader, name: str, default: str) -> time:
    text = r.get(name, str, default)
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        r.error(name, f"giờ «{text}» không hợp lệ; ghi dạng HH:MM, ví dụ \"17:00\"")
        return time(0, 0)


def _settings(problems: list[str], base: Path, data: dict):
    root = _Reader(problems, "settings.toml", data)
    root.unknown_keys({"office", "mailbox", "smtp", "storage", "intake", "limits"})

    o = root.sub("office")
    tz_name = o.get("timezone", str, "Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        o.error("timezone", f"múi giờ «{tz_name}» không tồn tại; ví dụ \"Asia/Ho_Chi_Minh\"")
        tz = ZoneInfo("Asia/Ho_Chi_Minh")
    address = (o.get("address", str, required=True) or "").lower()
    if address and not EMAIL_RE.match(address):
        o.error("address", f"«{address}» không phải địa chỉ thư hợp lệ")
    others = tuple(a.lower() for a in o.get("other_addresses", list, []))
    staff = tuple(a.lower() for a in o.get("staff", list, []))
    for key, values in (("other_addresses", others), ("staff", staff)):
        for a in values:
            if not EMAIL_RE.match(a):
                o.error(key, f"«{a}» không phải địa chỉ thư hợp lệ")
    if not staff:
        o.error("staff", "cần ít nhất một địa chỉ cán bộ nhận thông báo, bản tổng hợp và dự thảo")
    office = Office(
        name=o.get("name", str, required=True) or "",
        parent_body=o.get("parent_body", str, required=True) or "",
        issuer=o.get("issuer", str, required=True) or "",
        place=o.get("place", str, required=True) or "",
        address=address,
        other_addresses=others,
        staff=staff,
        timezone=tz,
    )

    m = root.sub("mailbox")
    murl = m.get("url", str, required=True) or ""
    mparts = _url_parts(m, "url", murl, {"imap": 143, "imaps": 993, "imap+starttls": 143}, "maildir", base) if murl else None
    scheme, host, port, user, path, folder = mparts or ("maildir", None, None, None, None, "")
    ca = m.get("ca_file", str, None)
    mailbox = MailboxSettings(
        url=murl,
        scheme=scheme,
        host=host,
        port=port,
        user=user,
        folder=folder or "INBOX",
        path=path,
        processed_folder=m.get("processed_folder", str, "Đã xử lý"),
        review_folder=m.get("review_folder", str, "Cần xem xét"),
        timeout_seconds=m.get("timeout_seconds", float, 30.0),
        poll_seconds=m.get("poll_seconds", float, 60.0),
        idle_renew_seconds=m.get("idle_renew_seconds", float, 600.0),
        batch_size=m.get("batch_size", int, 20),
        tls_verify=m.get("tls_verify", bool, True),
        ca_file=(base / ca).resolve() if ca else None,
    )
    if mailbox.idle_renew_seconds and not 10 <= mailbox.idle_renew_seconds <= 1740:
        m.error("idle_renew_seconds", "phải từ 10 đến 1740 giây (máy chủ IMAP ngắt IDLE sau 30 phút)")
    if mailbox.batch_size is not None and mailbox.batch_size < 1:
        m.error("batch_size", "phải lớn hơn 0")
    if scheme != "maildir" and not user:
        m.error("url", "thiếu tên đăng nhập, ví dụ imaps://phongnoivu@mail.example.vn/INBOX")
    mpass = _password(m, base) if scheme != "maildir" else None

    s = root.sub("smtp")
    surl = s.get("url", str, required=True) or ""
    sparts = _url_parts(s, "url", surl, {"smtp": 25, "smtps": 465, "smtp+starttls": 587}, "dir", base) if surl else None
    sscheme, shost, sport, suser, spath, _ = sparts or ("dir", None, None, None, None, "")
    sca = s.get("ca_file", str, None)
    sender = (s.get("sender", str, address) or "").lower()
    if sender and not EMAIL_RE.match(sender):
        s.error("sender", f"«{sender}» không phải địa chỉ thư hợp lệ")
    smtp = SmtpSettings(
        url=surl,
        scheme=sscheme,
        host=shost,
        port=sport,
        user=suser,
        path=spath,
        sender=sender,
        sender_name=s.get("sender_name", str, office.name),
        timeout_seconds=s.get("timeout_seconds", float, 30.0),
        tls_verify=s.get("tls_verify", bool, True),
        ca_file=(base / sca).resolve() if sca else None,
    )
    spass = _password(s, base) if sscheme != "dir" else None

    st = root.sub("storage")
    storage = Storage(root=(base / (st.get("path", str, "../var") or "../var")).resolve())

    i = root.sub("intake")
    intake = IntakeSettings(trust_document_issuer=i.get("trust_document_issuer", bool, False))

    lim = root.sub("limits")
    known = {f.name: f for f in fields(Limits)}
    lim.unknown_keys(set(known))
    values = {}
    for name in lim.table:
        if name in known:
            v = lim.get(name, int)
            if v is not None and v <= 0:
                lim.error(name, "phải là số nguyên dương")
            elif v is not None:
                values[name] = v
    return office, mailbox, mpass, smtp, spass, storage, intake, Limits(**values)


def _units(problems: list[str], data: dict) -> tuple[Unit, ...]:
    entries = data.get("unit", [])
    if not isinstance(entries, list) or not entries:
        problems.append("units.toml: khóa «unit»: cần ít nhất một mục [[unit]]")
        return ()
    units, seen_ids, seen_emails = [], set(), {}
    for n, entry in enumerate(entries, 1):
        r = _Reader(problems, "units.toml", entry, f"unit[{n}].")
        r.unknown_keys({"id", "name", "kind", "emails", "aliases", "active_from", "active_until"})
        uid = r.get("id", str, required=True) or f"?{n}"
        if not ID_RE.match(uid):
            r.error("id", f"«{uid}» chỉ được dùng chữ thường không dấu, số và dấu gạch ngang")
        if uid in seen_ids:
            r.error("id", f"mã đơn vị «{uid}» bị trùng")
        seen_ids.add(uid)
        kind = r.get("kind", str, required=True)
        if kind is not None and kind not in UNIT_KINDS:
            r.error("kind", f"«{kind}» không hợp lệ; dùng một trong: {', '.join(UNIT_KINDS)}")
        emails = tuple(e.strip().lower() for e in r.get("emails", list, required=True) or [])
        if not emails:
            r.error("emails", "cần ít nhất một địa chỉ thư của đơn vị")
        for e in emails:
            if not EMAIL_RE.match(e):
                r.error("emails", f"«{e}» không phải địa chỉ thư hợp lệ")
            elif e in seen_emails:
                r.error("emails", f"địa chỉ «{e}» đã khai báo cho đơn vị «{seen_emails[e]}»")
            seen_emails.setdefault(e, uid)
        dates = {}
        for key in ("active_from", "active_until"):
            v = entry.get(key)
            if v is not None and not isinstance(v, date):
                r.error(key, "phải là ngày dạng 2025-07-01 (không có dấu ngoặc kép)")
                v = None
            dates[key] = v
        units.append(
            Unit(
                id=uid,
                name=r.get("name", str, required=True) or uid,
                kind=kind or "department",
                emails=emails,
                aliases=tuple(r.get("aliases", list, [])),
                **dates,
            )
        )
    return tuple(units)


def _deadline_ok(text: str, recurrence: str) -> bool:
    try:
        if recurrence == "once":
            date.fromisoformat(text)
        else:
            date.fromisoformat("2024-" + text)  # a leap year, so 02-29 is accepted
        return True
    except (TypeError, ValueError):
        return False


def _campaign(problems: list[str], path: Path, data: dict, units: tuple[Unit, ...]) -> Campaign | None:
    name = f"campaigns/{path.name}"
    r = _Reader(problems, name, data)
    r.unknown_keys({"id", "title", "recurrence", "opens", "unit_kinds", "units", "exclude_units", "requirement"})
    cid = r.get("id", str, path.stem) or path.stem
    if not ID_RE.match(cid):
        r.error("id", f"«{cid}» chỉ được dùng chữ thường không dấu, số và dấu gạch ngang")
    recurrence = r.get("recurrence", str, "yearly")
    if recurrence not in ("yearly", "once"):
        r.error("recurrence", f"«{recurrence}» không hợp lệ; dùng \"yearly\" (hằng năm) hoặc \"once\" (một lần)")
        recurrence = "yearly"
    opens = r.get("opens", str, "01-01") or "01-01"
    if not _deadline_ok(opens, recurrence):
        r.error("opens", f"ngày «{opens}» không hợp lệ; dùng {'YYYY-MM-DD' if recurrence == 'once' else 'MM-DD'}")
        opens = "01-01"
    known = {u.id for u in units}
    kinds = r.get("unit_kinds", list, [])
    for k in kinds:
        if k not in UNIT_KINDS:
            r.error("unit_kinds", f"loại đơn vị «{k}» không hợp lệ; dùng: {', '.join(UNIT_KINDS)}")
    listed, excluded = r.get("units", list, []), r.get("exclude_units", list, [])
    for key, ids in (("units", listed), ("exclude_units", excluded)):
        for u in ids:
            if u not in known:
                r.error(key, f"đơn vị «{u}» không có trong units.toml")
    chosen = [u.id for u in units if (u.kind in kinds or u.id in listed) and u.id not in excluded]
    if not chosen:
        r.error("unit_kinds", "chiến dịch không áp dụng cho đơn vị nào (khai báo unit_kinds hoặc units)")
    reqs = []
    entries = data.get("requirement", [])
    if not isinstance(entries, list) or not entries:
        r.error("requirement", "cần ít nhất một mục [[requirement]]")
        entries = []
    for n, entry in enumerate(entries, 1):
        q = _Reader(problems, name, entry, f"requirement[{n}].")
        q.unknown_keys({"id", "name", "doc_types", "keywords", "deadline", "deadline_time"})
        deadline = q.get("deadline", str, required=True) or ""
        if deadline and not _deadline_ok(deadline, recurrence):
            form = "YYYY-MM-DD" if recurrence == "once" else 'MM-DD, ví dụ "10-20"'
            q.error("deadline", f"ngày «{deadline}» không hợp lệ; dùng {form}")
            deadline = ""
        reqs.append(
            Requirement(
                id=q.get("id", str, required=True) or f"?{n}",
                name=q.get("name", str, required=True) or "",
                doc_types=tuple(q.get("doc_types", list, [])),
                keywords=tuple(q.get("keywords", list, [])),
                deadline=deadline or ("2000-01-01" if recurrence == "once" else "01-01"),
                deadline_time=_clock(q, "deadline_time", "00:00"),
            )
        )
    if len({q.id for q in reqs}) != len(reqs):
        r.error("requirement", "mã yêu cầu (id) bị trùng trong chiến dịch")
    return Campaign(
        id=cid,
        title=r.get("title", str, required=True) or cid,
        recurrence=recurrence,
        opens=opens,
        unit_ids=tuple(chosen),
        requirements=tuple(reqs),
        source=path,
    )


def load_config(directory: str | os.PathLike) -> Config:
    """Load and validate the whole configuration folder; raise ConfigError with every problem."""
    base = Path(directory).resolve()
    problems: list[str] = []
    if not base.is_dir():
        raise ConfigError([f"không tìm thấy thư mục cấu hình {base}"])
    settings = _load_toml(problems, base / "settings.toml")
    units_data = _load_toml(problems, base / "units.toml")
    parts = _settings(problems, base, settings) if settings is not None else None
    units = _units(problems, units_data) if units_data is not None else ()
    campaigns = []
    files = sorted((base / "campaigns").glob("*.toml"))
    if not files:
        problems.append("campaigns/: chưa có chiến dịch nào (tệp campaigns/*.toml)")
    for path in files:
        data = _load_toml(problems, path)
        if data is not None:
            c = _campaign(problems, path, data, units)
            if c is not None:
                campaigns.append(c)
    ids = [c.id for c in campaigns]
    for cid in {i for i in ids if ids.count(i) > 1}:
        problems.append(f"campaigns/: mã chiến dịch «{cid}» bị trùng giữa các tệp")
    if parts is not None:
        office, mailbox, mpass, smtp, spass, storage, intake, limits = parts
        for unit in units:
            for e in unit.emails:
                if e in office.own_addresses:
                    problems.append(f"units.toml: đơn vị «{unit.id}»: địa chỉ «{e}» là địa chỉ của chính văn phòng")
    if problems:
        raise ConfigError(problems)
    return Config(
        dir=base,
        office=office,
        mailbox=mailbox,
        mailbox_password=mpass,
        smtp=smtp,
        smtp_password=spass,
        storage=storage,
        intake=intake,
        limits=limits,
        units=units,
        campaigns=tuple(campaigns),
    )
