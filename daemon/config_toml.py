"""Reading the configuration folder: config/settings.toml, units.toml, campaigns/*.toml -> the
frozen, typed objects of daemon/config.py (load_config).

Every problem names the file, the key and what is wrong, in Vietnamese, and all problems are
collected before failing so an admin fixes the files in one go. Loading has no side effects
beyond reading files and the environment (for password_env).
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.config import (ADDRESSEE_DEFAULTS, DRAFT_FACTS, Basis, default_addressee, DRAFT_ROLES, UNIT_KINDS, Campaign, ChaseRules, Config, ConfigError,
                           DraftArea, DraftSection, DraftSpec, FigureRules, IntakeSettings, MailboxSettings,
                           Notices, OAuth2Settings, Office, OfficeCalendar, RateRule, Requirement, SmtpSettings,
                           Storage, Unit, Account, WebSettings)
from daemon.durable import private_dir, write_bytes
from daemon.textfile import EncodingProblem, decode_text
from parsers.model import Indicator, Limits

EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class _Reader:
    """Typed access to one TOML table that records problems instead of raising at the first."""

    def __init__(self, problems: list[str], file: str, table: dict, prefix: str = ""):
        self.problems, self.file, self.table, self.prefix = problems, file, table, prefix
        self.asked: set[str] = set()  # every key the parser looked for: the ones this table may have

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def error(self, name: str, what: str) -> None:
        self.problems.append(f"{self.file}: khóa «{self.key(name)}»: {what}")

    def sub(self, name: str) -> "_Reader":
        self.asked.add(name)
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            self.error(name, "phải là một bảng [" + self.key(name) + "]")
            value = {}
        return _Reader(self.problems, self.file, value, f"{self.key(name)}.")

    def get(self, name: str, kind: type, default=..., *, required: bool = False):
        self.asked.add(name)
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

    def known(self, *names: str) -> None:
        """Keys this table may have that the parser did not look at this time (a password key
        beside a maildir: url, say): not typos."""
        self.asked.update(names)

    def unknown_keys(self, allowed: set[str] | None = None) -> None:
        """Every key that is not in `allowed` (default: the keys the parser looked for, so call it
        after reading the table) is an error, with the nearest known key suggested."""
        allowed = self.asked if allowed is None else allowed
        for name in self.table:
            if name not in allowed:
                near = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6)
                hint = f"; ý bạn là «{near[0]}»?" if near else " (gõ sai tên khóa?)"
                self.error(name, f"không có khóa này{hint}")


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
        elif not value.strip():
            r.error("password_env", f"biến môi trường {env_name} rỗng; cần đặt mật khẩu vào biến này")
            return None
        return value
    if file_name:
        path = (base / file_name).resolve()
        try:
            value = decode_text(path.read_bytes()).strip()
        except OSError as exc:
            r.error("password_file", f"không đọc được tệp mật khẩu {path}: {exc.strerror}")
        except EncodingProblem as exc:
            r.error("password_file", f"tệp mật khẩu {path}: {exc}")
        else:
            if not value:
                r.error("password_file", f"tệp mật khẩu {path} rỗng; cần ghi mật khẩu vào tệp này")
                return None
            return value
    return None


def _credentials(r: _Reader, base: Path) -> tuple[OAuth2Settings | None, str | None]:
    """auth = "password" (password_env / password_file) or "oauth2" (a token command or file)."""
    r.known("password", "password_env", "password_file")  # wrong beside oauth2, but said so below, not as typos
    auth = r.get("auth", str, "password")
    command = r.get("oauth2_token_command", str, None)
    token_file = r.get("oauth2_token_file", str, None)
    if auth not in ("password", "oauth2"):
        r.error("auth", f"phải là \"password\" hoặc \"oauth2\", đang là «{auth}»")
        return None, None
    if auth == "password":
        for key in ("oauth2_token_command", "oauth2_token_file"):
            if key in r.table:
                r.error(key, "chỉ dùng khi auth = \"oauth2\"")
        return None, _password(r, base)
    for key in ("password_env", "password_file", "password"):
        if key in r.table:
            r.error(key, "auth = \"oauth2\" không dùng mật khẩu; bỏ khóa này")
    if bool(command) == bool(token_file):
        r.error("auth", "với auth = \"oauth2\", cần đúng một trong hai: oauth2_token_command hoặc oauth2_token_file")
        return None, None
    return OAuth2Settings(token_command=command, token_file=(base / token_file).resolve() if token_file else None), None


_URL_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@")


def _without_password(url: str) -> str:
    """The URL with any password in it replaced by ***, for messages (a password is never printed)."""
    m = _URL_USERINFO.match(url)
    if not m or ":" not in m.group(2):
        return url
    return m.group(1) + m.group(2).split(":", 1)[0] + ":***@" + url[m.end():]


def _url_parts(r: _Reader, name: str, url: str, schemes: dict[str, int], path_scheme: str, base: Path):
    """Split a mailbox/SMTP URL; returns (scheme, host, port, user, path, folder)."""
    if url.startswith(path_scheme + ":"):
        raw = url[len(path_scheme) + 1 :]
        if not raw:
            r.error(name, f"thiếu đường dẫn sau «{path_scheme}:»")
            return None
        return path_scheme, None, None, None, (base / raw).resolve(), ""
    shown = _without_password(url)
    if shown != url:
        r.error(name, f"không ghi mật khẩu trong địa chỉ («{shown}»); bỏ phần «:mật khẩu» và dùng "
                      "password_env hoặc password_file")
        url = shown
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
        return tomllib.loads(decode_text(path.read_bytes()))
    except EncodingProblem as exc:
        problems.append(f"{path.name}: {exc}")
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


@dataclass(frozen=True)
class _Settings:
    """What settings.toml holds, before the units and campaigns join it in a Config."""

    office: Office
    mailbox: MailboxSettings
    mailbox_password: str | None
    smtp: SmtpSettings
    smtp_password: str | None
    storage: Storage
    intake: IntakeSettings
    notices: Notices
    limits: Limits
    web: WebSettings = WebSettings()


def _settings(problems: list[str], base: Path, data: dict) -> _Settings:
    root = _Reader(problems, "settings.toml", data)
    sections = {name: root.sub(name) for name in ("office", "mailbox", "smtp", "storage")}
    office = _office(sections["office"])
    mailbox, mpass = _mailbox(sections["mailbox"], base)
    smtp, spass = _smtp(sections["smtp"], base, office)
    storage = Storage(root=(base / (sections["storage"].get("path", str, "../var") or "../var")).resolve())
    settings = _Settings(office, mailbox, mpass, smtp, spass, storage, _intake(root.sub("intake")),
                         _notices(root.sub("notices"), base), _limits(root.sub("limits")),
                         _web(root.sub("web"), base, storage))
    for section in sections.values():  # the others check their keys as they read them
        section.unknown_keys()
    root.unknown_keys()
    return settings


def _web(w: _Reader, base: Path, storage: Storage) -> WebSettings:
    w.unknown_keys({"host", "port", "accounts_file", "secret_file", "secure_cookies"})
    port = w.get("port", int, 8088)
    if port is not None and not 0 < port < 65536:
        w.error("port", f"cổng {port} không hợp lệ; dùng số từ 1 đến 65535")
    return WebSettings(
        host=w.get("host", str, "127.0.0.1") or "127.0.0.1",
        port=port or 8088,
        accounts_file=(base / (w.get("accounts_file", str, "accounts.toml") or "accounts.toml")).resolve(),
        secret_file=(storage.root / (w.get("secret_file", str, "web-secret") or "web-secret")).resolve(),
        secure_cookies=w.get("secure_cookies", bool, False),
    )


ROLES = {"clerk": "cán bộ xử lý", "readonly": "chỉ xem"}
HASH_RE = re.compile(r"^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$")


def read_accounts(path: Path) -> tuple[tuple[Account, ...], list[str]]:
    """The web desk's accounts (accounts.toml: one [[account]] per clerk) and every problem found,
    in Vietnamese. A missing file is no problem (nobody can log in yet); an account without a
    password cannot log in until `tonghop web --set-password NAME` writes its hash."""
    problems: list[str] = []
    if not path.is_file():
        return (), problems
    data = _load_toml(problems, path)
    if data is None:
        return (), problems
    accounts, seen = [], set()
    root = _Reader(problems, path.name, data)
    root.unknown_keys({"account"})
    entries = data.get("account", [])
    if not isinstance(entries, list):
        root.error("account", "phải là các bảng [[account]]")
        entries = []
    for n, entry in enumerate(entries, 1):
        r = _Reader(problems, path.name, entry if isinstance(entry, dict) else {}, f"account[{n}].")
        r.unknown_keys({"name", "role", "password"})
        name = r.get("name", str, required=True)
        role = r.get("role", str, "clerk")
        password = r.get("password", str, None)
        if name is not None and not ID_RE.match(name):
            r.error("name", f"«{name}» không hợp lệ; chỉ dùng chữ thường không dấu, số và dấu gạch ngang")
            continue
        if name in seen:
            r.error("name", f"tài khoản «{name}» bị khai báo hai lần")
            continue
        if role not in ROLES:
            r.error("role", f"«{role}» không hợp lệ; dùng \"clerk\" (cán bộ xử lý) hoặc \"readonly\" (chỉ xem)")
            continue
        if password is not None and not HASH_RE.match(password):
            r.error("password", "không phải mã băm scrypt (không bao giờ ghi mật khẩu thật vào tệp); "
                                f"đặt mật khẩu bằng: tonghop web --set-password {name}")
            continue
        if name is not None:
            seen.add(name)
            accounts.append(Account(name, role, password))
    return tuple(accounts), problems


def _office(o: _Reader) -> Office:
    tz_name = o.get("timezone", str, "Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):  # "Asia" is a folder of the database
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
    contact_email = (o.get("contact_email", str, "") or "").strip().lower()
    if contact_email and not EMAIL_RE.match(contact_email):
        o.error("contact_email", f"«{contact_email}» không phải địa chỉ thư hợp lệ")
    return Office(
        contact_name=(o.get("contact_name", str, "") or "").strip(),
        contact_title=(o.get("contact_title", str, "") or "").strip(),
        contact_phone=(o.get("contact_phone", str, "") or "").strip(),
        contact_email=contact_email,
        calendar=_calendar(o),
        name=o.get("name", str, required=True) or "",
        parent_body=o.get("parent_body", str, required=True) or "",
        issuer=o.get("issuer", str, required=True) or "",
        place=o.get("place", str, required=True) or "",
        address=address,
        other_addresses=others,
        staff=staff,
        timezone=tz,
    )


def _dates(r: _Reader, key: str) -> list[date]:
    """A TOML list of dates (2025-02-03, unquoted); an error naming the file and key otherwise."""
    r.known(key)
    value = r.table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(d, date) and not isinstance(d, datetime) for d in value):
        r.error(key, "phải là danh sách ngày dạng 2025-01-27 (không có dấu ngoặc kép)")
        return []
    return value


def _calendar(o: _Reader) -> OfficeCalendar:
    country = o.get("holidays_country", str, "VN") or ""
    # The list of countries imports every country's table (0.13 s on each command's start): it is
    # asked only for a code other than Vietnam's, which the package has.
    if country and country != "VN" and country not in _holiday_countries():
        o.error("holidays_country", f"«{country}» không phải mã quốc gia gói holidays hỗ trợ; ví dụ \"VN\"")
        country = "VN"
    saturdays = _dates(o, "working_saturdays")
    for d in saturdays:
        if d.weekday() != 5:
            o.error("working_saturdays", f"ngày {d:%d/%m/%Y} không phải thứ Bảy (ngày làm bù là thứ Bảy)")
    return OfficeCalendar(country=country, days_off=frozenset(_dates(o, "days_off")),
                          working_saturdays=frozenset(saturdays))


def _holiday_countries():
    import holidays

    return holidays.list_supported_countries()


def _mailbox(m: _Reader, base: Path) -> tuple[MailboxSettings, str | None]:
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
    if scheme == "maildir":
        m.known("auth", "password_env", "password_file", "oauth2_token_command", "oauth2_token_file")
        return mailbox, None
    oauth2, password = _credentials(m, base)
    return replace(mailbox, oauth2=oauth2), password


def _smtp(s: _Reader, base: Path, office: Office) -> tuple[SmtpSettings, str | None]:
    surl = s.get("url", str, required=True) or ""
    sparts = _url_parts(s, "url", surl, {"smtp": 25, "smtps": 465, "smtp+starttls": 587}, "dir", base) if surl else None
    sscheme, shost, sport, suser, spath, _ = sparts or ("dir", None, None, None, None, "")
    sca = s.get("ca_file", str, None)
    sender = (s.get("sender", str, office.address) or "").lower()
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
    if sscheme == "dir":
        s.known("auth", "password_env", "password_file", "oauth2_token_command", "oauth2_token_file")
        return smtp, None
    oauth2, password = _credentials(s, base)
    return replace(smtp, oauth2=oauth2), password


def _intake(i: _Reader) -> IntakeSettings:
    i.unknown_keys({"trust_document_issuer", "require_authentication", "authserv_ids"})
    intake = IntakeSettings(
        trust_document_issuer=i.get("trust_document_issuer", bool, False),
        require_authentication=i.get("require_authentication", str, "off"),
        authserv_ids=tuple(x.lower() for x in i.get("authserv_ids", list, [])),
    )
    if intake.require_authentication not in ("off", "dmarc", "any"):
        i.error("require_authentication", f"«{intake.require_authentication}» không hợp lệ; dùng \"off\", \"dmarc\" hoặc \"any\"")
    elif intake.require_authentication != "off" and not intake.authserv_ids:
        i.error("authserv_ids", "cần khai báo tên máy chủ thư của văn phòng (authserv-id) khi bật require_authentication")
    return intake


def _notices(n: _Reader, base: Path) -> Notices:
    n.unknown_keys({"acknowledge", "review_notice", "digest", "digest_at", "max_per_address_per_day",
                    "give_up_hours", "templates"})
    notices = Notices(
        acknowledge=n.get("acknowledge", bool, True),
        review_notice=n.get("review_notice", bool, True),
        digest=n.get("digest", bool, True),
        digest_at=_clock(n, "digest_at", "07:30"),
        max_per_address_per_day=n.get("max_per_address_per_day", int, 10),
        give_up_hours=n.get("give_up_hours", float, 24.0),
        templates=(base / (n.get("templates", str, "../templates") or "../templates")).resolve(),
    )
    if not (notices.templates / "email").is_dir():
        n.error("templates", f"không tìm thấy thư mục mẫu thư {notices.templates / 'email'}")
    return notices


def _limits(lim: _Reader) -> Limits:
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
    return Limits(**values)


def _addressee_patterns(problems: list[str], data: dict) -> dict[str, str]:
    """[addressee] of units.toml: the address line per kind of unit, {name} for the unit's name."""
    r = _Reader(problems, "units.toml", data).sub("addressee")
    r.unknown_keys(set(UNIT_KINDS))
    out = dict(ADDRESSEE_DEFAULTS)
    for kind in UNIT_KINDS:
        value = r.get(kind, str, None)
        if value is not None and value.strip():
            out[kind] = " ".join(value.split())
    return out


def _units(problems: list[str], data: dict) -> tuple[Unit, ...]:
    patterns = _addressee_patterns(problems, data)
    entries = data.get("unit", [])
    if not isinstance(entries, list) or not entries:
        problems.append("units.toml: khóa «unit»: cần ít nhất một mục [[unit]]")
        return ()
    units, seen_ids, seen_emails = [], set(), {}
    for n, entry in enumerate(entries, 1):
        r = _Reader(problems, "units.toml", entry, f"unit[{n}].")
        r.unknown_keys({"id", "name", "kind", "emails", "aliases", "active_from", "active_until", "addressee", "cc"})
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
        cc = tuple(e.strip().lower() for e in r.get("cc", list, []))
        for e in cc:
            if not EMAIL_RE.match(e):
                r.error("cc", f"«{e}» không phải địa chỉ thư hợp lệ")
            elif e in emails:
                r.error("cc", f"địa chỉ «{e}» đã là địa chỉ nhận thư của đơn vị (khóa emails)")
        unit = Unit(
            id=uid,
            name=r.get("name", str, required=True) or uid,
            kind=kind or "department",
            emails=emails,
            aliases=tuple(r.get("aliases", list, [])),
            cc=cc,
            **dates,
        )
        addressee = " ".join((r.get("addressee", str, "") or "").split())
        units.append(replace(unit, addressee=addressee or default_addressee(unit, patterns.get(unit.kind))))
    return tuple(units)


def _deadline_ok(text: str, recurrence: str) -> bool:
    try:
        if recurrence == "once":
            date.fromisoformat(text)
        else:
            date.fromisoformat("2024-" + text)  # 02-29 is refused before, by _leap_day
        return True
    except (TypeError, ValueError):
        return False


def _leap_day(r: _Reader, key: str, text: str, recurrence: str) -> bool:
    """A yearly "02-29" exists one year in four: every other year its status, acknowledgements and
    jobs would have no deadline. Refused, with what to write instead."""
    if recurrence == "yearly" and text == "02-29":
        r.error(key, "ngày «02-29» chỉ có trong năm nhuận, chiến dịch hằng năm không dùng được; "
                     "ghi \"02-28\" (ngày cuối tháng Hai) hoặc \"03-01\"")
        return True
    return False


def _campaign(problems: list[str], path: Path, data: dict, units: tuple[Unit, ...],
              cache: Path | None = None) -> Campaign | None:
    name = f"campaigns/{path.name}"
    r = _Reader(problems, name, data)
    r.unknown_keys({"id", "title", "recurrence", "opens", "unit_kinds", "units", "exclude_units", "requirement",
                    "reminders", "form", "draft", "figures", "basis"})
    cid = r.get("id", str, path.stem) or path.stem
    if not ID_RE.match(cid):
        r.error("id", f"«{cid}» chỉ được dùng chữ thường không dấu, số và dấu gạch ngang")
    recurrence = r.get("recurrence", str, "yearly")
    if recurrence not in ("yearly", "once"):
        r.error("recurrence", f"«{recurrence}» không hợp lệ; dùng \"yearly\" (hằng năm) hoặc \"once\" (một lần)")
        recurrence = "yearly"
    opens = r.get("opens", str, "01-01") or "01-01"
    if _leap_day(r, "opens", opens, recurrence):
        opens = "01-01"
    elif not _deadline_ok(opens, recurrence):
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
        q.unknown_keys({"id", "name", "doc_types", "keywords", "deadline", "deadline_time", "period"})
        period = q.get("period", str, "same")
        if period not in ("same", "next", "any"):
            q.error("period", f"«{period}» không hợp lệ; dùng \"same\" (năm của kỳ), \"next\" (năm sau) hoặc \"any\"")
            period = "same"
        deadline = q.get("deadline", str, required=True) or ""
        if _leap_day(q, "deadline", deadline, recurrence):
            deadline = ""
        elif deadline and not _deadline_ok(deadline, recurrence):
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
                period=period,
            )
        )
    if len({q.id for q in reqs}) != len(reqs):
        r.error("requirement", "mã yêu cầu (id) bị trùng trong chiến dịch")
    form = r.get("form", str, None)
    form_path = (path.parent / form).resolve() if form else None
    indicators = ()
    if form_path is not None and not form_path.is_file():
        r.error("form", f"không tìm thấy tệp biểu mẫu {form_path}")
    elif form_path is not None:
        indicators = _form_indicators(form_path, cache)
        if not indicators:
            r.error("form", f"không đọc được chỉ tiêu nào trong biểu mẫu {form_path.name} "
                            "(cần bảng có cột «Mã số» và «Chỉ tiêu»)")
    basis = _basis(r.sub("basis"), path.parent) if "basis" in data else None
    draft = _draft_spec(r.sub("draft"), reqs)
    return Campaign(
        basis=basis,
        indicators=indicators,
        figure_rules=_figure_rules(r.sub("figures"), indicators),
        id=cid,
        reminders=_chase_rules(r.sub("reminders")),
        form=form_path,
        draft=draft,
        title=r.get("title", str, required=True) or cid,
        recurrence=recurrence,
        opens=opens,
        unit_ids=tuple(chosen),
        requirements=tuple(reqs),
        source=path,
    )


_DRAFT_PLACEHOLDERS = {"cycle": "2024", "next_cycle": "2025", "as_of": "20/10/2024 00:00", "as_of_date": "20/10/2024",
                       "letter": "Công văn số 12/UBND-NV"}


def _draft_text(r: _Reader, name: str, default: str) -> str:
    """A text of the draft; its {placeholders} must be ones the draft fills in."""
    text = r.get(name, str, default)
    if text is None:
        return default
    try:
        text.format_map(_DRAFT_PLACEHOLDERS)
    except (KeyError, ValueError, IndexError) as exc:
        allowed = ", ".join("{" + k + "}" for k in _DRAFT_PLACEHOLDERS)
        r.error(name, f"chỗ điền {exc} không hợp lệ; chỉ dùng {allowed} (viết {{{{ }}}} để in dấu ngoặc)")
        return default
    return text


def _draft_lines(r: _Reader, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for v in r.get(name, list, list(default)) if v.strip())


def _draft_area(r: _Reader) -> DraftArea:
    r.unknown_keys({"title", "headings", "keywords", "figures", "facts", "lead"})
    return DraftArea(
        facts=_draft_facts(r),
        lead=_draft_text(r, "lead", ""),
        title=_draft_text(r, "title", "") if "title" in r.table else (r.get("title", str, required=True) or ""),
        headings=_draft_lines(r, "headings", ()),
        keywords=_draft_lines(r, "keywords", ()),
        figures=_draft_lines(r, "figures", ()),
    )


def _draft_facts(r: _Reader) -> tuple[str, ...]:
    facts = _draft_lines(r, "facts", ())
    for f in facts:
        if f not in DRAFT_FACTS:
            r.error("facts", f"«{f}» không hợp lệ; dùng: {', '.join(DRAFT_FACTS)}")
    return tuple(f for f in facts if f in DRAFT_FACTS)


def _draft_section(r: _Reader) -> DraftSection:
    r.unknown_keys({"title", "facts", "headings", "keywords", "area", "lead", "role"})
    facts = _draft_facts(r)
    role = r.get("role", str, "") or ""
    if role not in DRAFT_ROLES:
        r.error("role", f"«{role}» không hợp lệ; dùng: \"direction\" (phương hướng, nhiệm vụ của Ủy ban), "
                        f"\"proposals\" (kiến nghị lên cấp trên) hoặc bỏ trống")
        role = ""
    areas = []
    entries = r.table.get("area", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        r.error("area", "phải là các mục [[...area]]")
        entries = []
    for n, entry in enumerate(entries, 1):
        areas.append(_draft_area(_Reader(r.problems, r.file, entry, f"{r.key('area')}[{n}].")))
    return DraftSection(
        title=_draft_text(r, "title", "") if "title" in r.table else (r.get("title", str, required=True) or ""),
        facts=facts,
        headings=_draft_lines(r, "headings", ()),
        keywords=_draft_lines(r, "keywords", ()),
        areas=tuple(areas),
        lead=_draft_text(r, "lead", ""),
        role=role,
    )


def _draft_spec(r: _Reader, reqs: list[Requirement]) -> DraftSpec:
    d = DraftSpec()
    r.unknown_keys({"summary", "type_code", "type_name", "parent_body", "issuer", "issuer_code", "addressee",
                    "intro", "closing", "authority", "signer_title", "signer", "recipients", "delay_hours",
                    "requirement", "max_named_units", "similarity", "skip_sentences", "leader_head_kinds",
                    "leader_head_title", "section", "letter", "empty_text", "district_names"})
    requirement = r.get("requirement", str, None)
    if requirement is not None and requirement not in {q.id for q in reqs}:
        r.error("requirement", f"yêu cầu «{requirement}» không có trong các mục [[requirement]] của chiến dịch")
        requirement = None
    delay = r.get("delay_hours", float, d.delay_hours)
    if delay is not None and delay < 0:
        r.error("delay_hours", "không được âm")
        delay = 0.0
    named = r.get("max_named_units", int, d.max_named_units)
    if named is not None and named < 0:
        r.error("max_named_units", "phải là số nguyên không âm (0: nêu tên tất cả)")
        named = d.max_named_units
    similarity = r.get("similarity", float, d.similarity)
    if similarity is not None and not 0.5 <= similarity <= 1:
        r.error("similarity", "phải từ 0.5 đến 1")
        similarity = d.similarity
    kinds = _draft_lines(r, "leader_head_kinds", d.leader_head_kinds)
    for k in kinds:
        if k not in UNIT_KINDS:
            r.error("leader_head_kinds", f"loại đơn vị «{k}» không hợp lệ; dùng: {', '.join(UNIT_KINDS)}")
    type_code = r.get("type_code", str, d.type_code) or d.type_code
    sections = d.sections
    if "section" in r.table:
        entries = r.table["section"]
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            r.error("section", "cần ít nhất một mục [[draft.section]]")
        else:
            sections = tuple(_draft_section(_Reader(r.problems, r.file, e, f"{r.key('section')}[{n}]."))
                             for n, e in enumerate(entries, 1))
            for role in ("direction", "proposals"):
                if sum(1 for x in sections if x.role == role) > 1:
                    r.error("section", f"chỉ một mục [[draft.section]] được có role = \"{role}\"")
    return DraftSpec(
        summary=_draft_text(r, "summary", d.summary),
        type_code=type_code,
        type_name=r.get("type_name", str, d.type_name) or d.type_name,
        parent_body=r.get("parent_body", str, None),
        issuer=r.get("issuer", str, None),
        issuer_code=r.get("issuer_code", str, None),
        addressee=_draft_lines(r, "addressee", d.addressee),
        intro=_draft_text(r, "intro", d.intro),
        closing=_draft_text(r, "closing", d.closing),
        authority=_draft_lines(r, "authority", d.authority),
        signer_title=r.get("signer_title", str, d.signer_title) or "",
        signer=r.get("signer", str, d.signer) or "",
        recipients=_draft_lines(r, "recipients", d.recipients),
        delay_hours=delay if delay is not None else d.delay_hours,
        requirement=requirement,
        max_named_units=named if named is not None else d.max_named_units,
        similarity=similarity if similarity is not None else d.similarity,
        skip_sentences=_draft_lines(r, "skip_sentences", d.skip_sentences),
        leader_head_kinds=tuple(k for k in kinds if k in UNIT_KINDS),
        leader_head_title=r.get("leader_head_title", str, d.leader_head_title) or d.leader_head_title,
        letter=r.get("letter", str, d.letter) or "",
        empty_text=_draft_text(r, "empty_text", d.empty_text) or d.empty_text,
        district_names=_draft_lines(r, "district_names", d.district_names),
        sections=sections,
    )


def _figure_rules(r: _Reader, indicators: tuple) -> FigureRules:
    """[figures]: rates = [["DV05", "DV04"]] or [["rate", "numerator", "denominator"]];
    at_most = [["DV08", "DV07"]]. Every code must be one of the form's indicators."""
    r.unknown_keys({"rates", "at_most"})
    known = {i.code for i in indicators}
    out: dict[str, list] = {"rates": [], "at_most": []}
    for key, sizes in (("rates", (2, 3)), ("at_most", (2,))):
        value = r.table.get(key, [])
        if not isinstance(value, list) or not all(
                isinstance(v, list) and len(v) in sizes and all(isinstance(c, str) for c in v) for v in value):
            shape = '[["DV05", "DV04"]] hoặc [["tỷ lệ", "tử số", "mẫu số"]]' if key == "rates" else '[["DV08", "DV07"]]'
            r.error(key, f"phải là danh sách các cặp mã chỉ tiêu, ví dụ {shape}")
            continue
        for item in value:
            unknown = [c for c in item if c not in known]
            if unknown:
                r.error(key, "mã chỉ tiêu không có trong biểu mẫu: " + ", ".join(unknown))
                continue
            out[key].append(item)
    rates = tuple(RateRule(v[0], v[-1], v[1] if len(v) == 3 else "") for v in out["rates"])
    return FigureRules(rates=rates, at_most=tuple((a, b) for a, b in out["at_most"]))


def _form_indicators(path: Path, cache: Path | None = None) -> tuple:
    """The indicator rows (code, name, unit) of a campaign's blank figures form.

    Reading the form takes openpyxl (LibreOffice for a .xls or .ods): 0.2 s on every command's
    start, `status` and `--help` included, for a list that changes when an admin changes the form.
    So the list is kept in `cache` (STORAGE/cache), under a key made of the form's bytes and the
    readers' source: a new form or new readers are read again, never a stale list. A cache that
    cannot be read or written (another user's `status`, a read-only disk) only costs the read."""
    data = path.read_bytes()
    stored = cache / f"form-{_form_key(data)}.json" if cache is not None else None
    if stored is not None:
        try:
            return tuple(Indicator(**row) for row in json.loads(stored.read_bytes()))
        except (OSError, ValueError, TypeError):
            pass
    from parsers.document import read_document
    from parsers.figures import read_form_indicators
    from parsers.model import Attachment

    doc = read_document(Attachment(path.name, "application/octet-stream", data))
    indicators = tuple(read_form_indicators(doc.tables))
    if stored is not None and indicators and stored.parent.parent.is_dir():  # never creates the storage folder
        try:
            write_bytes(private_dir(stored.parent) / stored.name, json.dumps(
                [{"code": i.code, "name": i.name, "unit": i.unit} for i in indicators], ensure_ascii=False).encode())
        except OSError:
            pass
    return indicators


def _form_key(data: bytes) -> str:
    """The form's bytes and the source of every reader (parsers/*.py) that turns them into indicators."""
    digest = hashlib.sha256(data)
    for source in sorted(Path(__file__).resolve().parent.parent.joinpath("parsers").glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:32]


def _basis(r: _Reader, folder: Path) -> Basis:
    """[basis]: the document that set the duty; its file (relative to the campaign's folder) must exist."""
    r.unknown_keys({"kind", "number", "date", "issuer", "summary", "file"})
    day = r.table.get("date")
    if day is not None and not (isinstance(day, date) and not isinstance(day, datetime)):
        r.error("date", "phải là ngày dạng 2024-09-15 (không có dấu ngoặc kép)")
        day = None
    number = (r.get("number", str, "") or "").strip()
    if not number:
        r.error("number", "cần số, ký hiệu của văn bản giao nhiệm vụ, ví dụ \"1234/UBND-NV\"")
    name = r.get("file", str, None)
    file = (folder / name).resolve() if name else None
    if file is not None and not file.is_file():
        r.error("file", f"không tìm thấy tệp văn bản {file} (đường dẫn tính từ thư mục {folder})")
    return Basis(kind=(r.get("kind", str, "Công văn") or "Công văn").strip(), number=number, date=day,
                 issuer=(r.get("issuer", str, "") or "").strip(), summary=(r.get("summary", str, "") or "").strip(),
                 file=file)


def _chase_rules(r: _Reader) -> ChaseRules:
    r.unknown_keys({"before_days", "overdue_days", "at", "working_days_only", "holidays", "opening_days_before",
                    "overdue_cc_from", "overdue_cc", "overdue_cc_unit_head", "overdue_cc_name"})
    days = {}
    for key, default in (("before_days", [7, 3, 1]), ("overdue_days", [1, 5])):
        value = r.table.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            r.error(key, "phải là danh sách số ngày (số nguyên không âm), ví dụ [7, 3, 1]")
            value = default
        days[key] = tuple(sorted(set(value), reverse=key == "before_days"))
    holidays = r.table.get("holidays", [])
    if not isinstance(holidays, list) or not all(isinstance(d, date) and not isinstance(d, datetime) for d in holidays):
        r.error("holidays", "phải là danh sách ngày dạng 2024-09-02 (không có dấu ngoặc kép)")
        holidays = []
    opening = r.get("opening_days_before", int, 0)
    if opening is not None and not 0 <= opening <= 180:
        r.error("opening_days_before", "phải từ 0 (không gửi thư triển khai) đến 180 ngày")
        opening = 0
    cc_from = r.get("overdue_cc_from", int, 2)
    if cc_from is not None and cc_from < 0:
        r.error("overdue_cc_from", "phải là số nguyên không âm (0: không gửi bản đồng gửi)")
        cc_from = 2
    cc = tuple(a.strip().lower() for a in r.get("overdue_cc", list, []))
    for a in cc:
        if not EMAIL_RE.match(a):
            r.error("overdue_cc", f"«{a}» không phải địa chỉ thư hợp lệ")
    return ChaseRules(
        opening_days_before=opening or 0,
        overdue_cc_from=2 if cc_from is None else cc_from,
        overdue_cc=cc,
        overdue_cc_unit_head=r.get("overdue_cc_unit_head", bool, True),
        overdue_cc_name=" ".join((r.get("overdue_cc_name", str, "") or "").split()) or ChaseRules.overdue_cc_name,
        before_days=days["before_days"],
        overdue_days=days["overdue_days"],
        at=_clock(r, "at", "08:00"),
        working_days_only=r.get("working_days_only", bool, True),
        holidays=frozenset(holidays),
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
            c = _campaign(problems, path, data, units, parts.storage.root / "cache" if parts else None)
            if c is not None:
                campaigns.append(c)
    ids = [c.id for c in campaigns]
    for cid in {i for i in ids if ids.count(i) > 1}:
        problems.append(f"campaigns/: mã chiến dịch «{cid}» bị trùng giữa các tệp")
    if parts is not None:
        for unit in units:
            for e in unit.emails:
                if e in parts.office.own_addresses:
                    problems.append(f"units.toml: đơn vị «{unit.id}»: địa chỉ «{e}» là địa chỉ của chính văn phòng")
    if problems:
        raise ConfigError(problems)
    return Config(
        dir=base,
        office=parts.office,
        mailbox=parts.mailbox,
        mailbox_password=parts.mailbox_password,
        smtp=parts.smtp,
        smtp_password=parts.smtp_password,
        storage=parts.storage,
        intake=parts.intake,
        notices=parts.notices,
        limits=parts.limits,
        units=units,
        campaigns=tuple(campaigns),
        web=parts.web,
    )
