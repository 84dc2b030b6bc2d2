"""Outgoing mail: compose a MIME message, and deliver the ledger's outbox over SMTP or into a folder.

- `compose` builds the bytes once, when the mail is queued; the outbox keeps them, so a retry sends
  exactly the same message with the same Message-ID (a resend is recognisable by the receiver).
- `Sender.deliver` hands one message to the server (or writes it as an .eml file) and says, through
  `DeliveryError`, whether trying again later can help.
- `send_due` walks the due outbox rows with retries, backoff, give-up, a per-address daily limit,
  and never mails our own addresses. It takes `now` from the service clock (which may be
  simulated) and never reads the real clock.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import smtplib
import socket
import ssl
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from typing import Callable, Sequence

from .config import SmtpSettings
from .durable import write_bytes
from .faults import crash_point
from .texts import t

log = logging.getLogger(__name__)

# Header that marks every mail tonghop sends; intake ignores incoming mail that carries it.
KIND_HEADER = "X-Tonghop-Kind"

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)
# While one pass delivers a row, the row's next_attempt_at is pushed this far ahead (a lease), so a
# second process running send_due at the same time (the daemon and `run --once`) skips it instead
# of sending it twice. A crash during delivery delays that row's retry by at most this much.
LEASE = timedelta(minutes=15)

# Composition policy: CRLF line ends (SMTP servers increasingly refuse bare LF), and headers that
# come from a parsed source (the original message attached to a review notice) are written back
# exactly as they arrived instead of being refolded; refolding turns raw 8-bit headers into
# "unknown-8bit" encoded words that mail readers do not decode.
_POLICY = email_policy.SMTP.clone(refold_source="none")

_STAGES = {"mail": "địa chỉ người gửi", "rcpt": "người nhận", "data": "nội dung thư"}


def _t(key: str, **values) -> str:
    return t(f"mailer.{key}", **values)


# --- composing --------------------------------------------------------------------------------


def make_message_id(key: str, domain: str) -> str:
    """The Message-ID of an outbox mail, fixed by its idempotency key: a resend carries the same."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<tonghop.{digest}@{domain}>"


def _text_part_cte(text: str) -> str:
    # Our own parts are 7-bit clean (base64 for Vietnamese), so the mail passes servers and
    # gateways that do not offer 8BITMIME; only an attached original may carry 8-bit bytes.
    return "7bit" if text.isascii() else "base64"


def compose(
    *,
    sender: str,
    sender_name: str,
    recipients: Sequence[str],
    subject: str,
    text: str,
    html: str | None,
    kind: str,
    message_id: str,
    date: datetime,
    auto_submitted: str = "auto-generated",
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> bytes:
    """The raw bytes (CRLF) of one outgoing mail. attachments: (file name, content, content type).

    Structure: text/plain, or multipart/alternative (text + html), inside multipart/mixed when
    there are attachments. Non-ASCII header text is RFC 2047 encoded, attachment names RFC 2231.
    """
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = FROM_PLACEHOLDER  # encoded by with_from below
    msg["To"] = [Address(addr_spec=r) for r in recipients]
    msg["Subject"] = SUBJECT_PLACEHOLDER  # encoded by with_subject below
    msg["Date"] = date
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    # RFC 3834: tells auto-responders (vacation replies) not to answer us; intake also ignores it.
    msg["Auto-Submitted"] = auto_submitted
    # Exchange/Outlook's equivalent: no out-of-office, delivery or read receipts back to us.
    msg["X-Auto-Response-Suppress"] = "All"
    # No "Precedence: bulk": it is non-standard (RFC 3834 recommends Auto-Submitted instead) and
    # some servers and filters junk or silently drop bulk mail, and an acknowledgement or a
    # reminder that never arrives defeats its purpose.
    msg[KIND_HEADER] = kind
    msg.set_content(text, cte=_text_part_cte(text))
    if html is not None:
        msg.add_alternative(html, subtype="html", cte=_text_part_cte(html))
    for filename, content, content_type in attachments:
        maintype, _, subtype = content_type.split(";")[0].strip().lower().partition("/")
        if (maintype, subtype) == ("message", "rfc822"):
            # Attached as a message, not as opaque bytes: mail readers open it in place. Parsed
            # with the same policy, so its headers are written back as they came.
            original = _as_message(content)
            if original is not None:
                msg.add_attachment(original, filename=filename)
                continue
            maintype, subtype = "application", "octet-stream"  # an opaque .eml, still opened by readers
        msg.add_attachment(
            content, maintype=maintype or "application", subtype=subtype or "octet-stream",
            # name= too: some older mail readers look only at the Content-Type parameter.
            filename=filename, params={"name": filename},
        )
    return with_from(with_subject(msg.as_bytes(), subject), sender_name, sender)


MAX_ATTACHED_PARTS = 100  # real mail has a handful of parts; more is attached as an opaque file
_PART_HEADER = re.compile(rb"(?im)^content-type[ \t]*:")


def _as_message(raw: bytes) -> EmailMessage | None:
    """raw parsed to attach as message/rfc822, or None when it cannot travel that way: such a part
    cannot be base64-encoded (RFC 2046 5.2.1) and SMTP refuses lines over 998 octets (RFC 5321
    4.5.3.1.6; a hostile 1 MB header); MIME nested thousands deep breaks the email package's
    recursive parser and writer, and 50,000 parts took it 70 s (tests/test_hostile.py)."""
    if any(len(line) > 998 for line in raw.splitlines()) or len(_PART_HEADER.findall(raw)) > MAX_ATTACHED_PARTS:
        return None
    try:
        original = BytesParser(policy=_POLICY).parsebytes(raw)
        original.as_bytes()  # it must also be writable back, which recurses as deep
    except (RecursionError, Exception):  # noqa: BLE001 - any failure: send the bytes as a file
        return None
    return original


SUBJECT_PLACEHOLDER = "tonghop-subject-placeholder"
FROM_PLACEHOLDER = "tonghop-from-placeholder@invalid"


def with_from(raw: bytes, sender_name: str, sender: str) -> bytes:
    """Put the From header in: the display name RFC 2047 encoded by email.header.Header.

    The email package's own folding of a Vietnamese display name takes about 8 ms per mail
    (it re-parses the header for every encoded word it tries), as long as reading a report; a
    backlog of a thousand acknowledgements spent 8 s on this one header (bench/backlog.py)."""
    name = " ".join((sender_name or "").split())
    if not name:
        value = sender
    elif name.isascii():
        value = str(Address(display_name=name, addr_spec=sender))  # quoted when it must be
    else:
        words = Header(name, "utf-8", header_name="From").encode(linesep="\r\n")
        value = f"{words}\r\n <{Address(addr_spec=sender).addr_spec}>"
    return raw.replace(FROM_PLACEHOLDER.encode("ascii"), value.encode("utf-8"), 1)


def with_subject(raw: bytes, subject: str) -> bytes:
    """Put the Subject in, RFC 2047 encoded by email.header.Header.

    The email package's own folding of a long non-ASCII subject drops the space between two
    encoded words (CPython's generator puts the space in the fold, where RFC 2047 says it is
    ignored), so "báo cáo" would reach the unit as "báocáo". A header is one line: a subject
    taken from an incoming mail may carry line breaks."""
    encoded = Header(" ".join(subject.split()), "utf-8", header_name="Subject").encode(linesep="\r\n")
    return raw.replace(SUBJECT_PLACEHOLDER.encode("ascii"), encoded.encode("ascii"), 1)


# --- delivering -------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A delivery that did not happen, with a Vietnamese explanation for the admin.

    temporary: trying again later may work (4xx, no connection, timeout, TLS or login trouble);
      False only when the server refused this message for good (5xx to MAIL, RCPT or DATA).
    connection: the server itself is unusable right now, so every other mail would fail the same
      way; the caller stops trying in this pass. Always temporary.
    """

    def __init__(self, message: str, *, temporary: bool, connection: bool = False, code: int | None = None):
        super().__init__(message)
        self.temporary = temporary or connection
        self.connection = connection
        self.code = code


def _reply(code: int, resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return f"{code} {' '.join(text.split())}"


def _is_timeout(exc: BaseException | None) -> bool:
    # smtplib reports a read timeout as SMTPServerDisconnected("... timed out"), the timeout
    # being the exception it was raised from.
    while exc is not None:
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _crlf(raw: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", raw)


def _message_id_of(raw: bytes) -> str | None:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    value = BytesHeaderParser(policy=email_policy.compat32).parsebytes(head + b"\r\n\r\n").get("Message-ID")
    return str(value).strip() if value else None


def eml_name(raw: bytes) -> str:
    """The file name of a mail in the dir: scheme: from its Message-ID, so a resend is the same file."""
    mid = (_message_id_of(raw) or "").strip().strip("<>")
    if not mid:
        return hashlib.sha256(raw).hexdigest() + ".eml"
    safe = re.sub(r"[^A-Za-z0-9._@+=-]", "_", mid)[:180].lstrip(".")
    if safe != mid:  # two ids that differ only in unsafe characters must not share a file
        safe += "-" + hashlib.sha256(mid.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return safe + ".eml"


class Sender:
    """Delivers one message at a time: smtp://, smtp+starttls://, smtps:// or dir:.

    A connection per message: the volume is small (dozens a day), a fresh connection has no
    stale-session failure modes (idle timeouts, per-session message caps, a half-closed socket
    after a server restart) to detect and retry around, and a failure says exactly which mail
    it concerns. The cost is a TCP (and TLS) handshake per mail, milliseconds on a LAN.
    """

    def __init__(self, settings: SmtpSettings, password: str | None) -> None:
        self.settings = settings
        self.password = password
        self.where = f"{settings.host}:{settings.port}"

    @property
    def envelope_from(self) -> str:
        return self.settings.sender

    def deliver(self, raw: bytes, envelope_from: str, recipients: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Deliver or raise DeliveryError. Returns the recipients the server refused while it
        accepted the others (the mail went out), address -> (code, reply); usually empty."""
        if self.settings.scheme == "dir":
            self._write_file(raw)
            return {}
        raw = _crlf(raw)
        smtp = self._session()
        try:
            return self._transaction(smtp, raw, envelope_from, list(recipients))
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def check(self) -> None:
        """Connect and log in (or check the outbox folder is writable) without sending: for
        `check-config --connect`. Raises DeliveryError."""
        if self.settings.scheme == "dir":
            folder = self.settings.path
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-"):
                    pass
            except OSError as exc:
                raise DeliveryError(f"không ghi được vào thư mục {folder}: {exc.strerror}", temporary=True) from exc
            return
        smtp = self._session()
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    # -- dir: ---------------------------------------------------------------------------------

    def _write_file(self, raw: bytes) -> None:
        folder = Path(self.settings.path)
        target = folder / eml_name(raw)
        try:
            if target.exists():
                return  # the same mail again: already written once
            # Hidden and not *.eml until renamed: whoever watches the folder never picks it up.
            write_bytes(target, raw)
        except OSError as exc:
            raise DeliveryError(_t("dir", path=folder, error=exc.strerror or exc), temporary=True,
                                connection=True) from exc

    # -- SMTP ---------------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        if not s.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _session(self) -> smtplib.SMTP:
        """A connected, greeted, encrypted (when asked) and logged-in session.

        Every failure here is about the server, not the message: DeliveryError(connection=True),
        retried later. Even a 5xx (wrong password, no STARTTLS) is treated so: the admin can fix
        the server or the configuration, and failing every queued mail for it would lose them.
        """
        s = self.settings
        # EHLO with the sender's domain: a fully qualified name that strict servers accept, without
        # smtplib's default reverse-DNS lookup of this machine (slow when DNS is broken).
        helo = s.sender.rpartition("@")[2] or "localhost"
        smtp: smtplib.SMTP | None = None
        try:
            if s.scheme == "smtps":
                smtp = smtplib.SMTP_SSL(s.host, s.port, local_hostname=helo, timeout=s.timeout_seconds,
                                        context=self._tls_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, local_hostname=helo, timeout=s.timeout_seconds)
            smtp.ehlo()
            if s.scheme == "smtp+starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(_t("no_starttls", where=self.where), temporary=True, connection=True)
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.user:
                if self.password is None:
                    raise DeliveryError(_t("no_password", user=s.user), temporary=True, connection=True)
                self._login(smtp, s.user, self.password)
            return smtp
        except DeliveryError:
            if smtp is not None:
                smtp.close()
            raise
        except Exception as exc:
            if smtp is not None:
                smtp.close()
            raise self._session_error(exc) from exc

    @staticmethod
    def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
        if (user + password).isascii():
            smtp.login(user, password)  # picks the best mechanism the server offers
            return
        # smtplib encodes credentials as ASCII; AUTH PLAIN is UTF-8 (RFC 4616), so a password
        # with Vietnamese letters goes through PLAIN directly.
        if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
            raise smtplib.SMTPNotSupportedError("AUTH PLAIN not offered")
        token = base64.b64encode(f"\0{user}\0{password}".encode("utf-8")).decode("ascii")
        code, resp = smtp.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, resp)

    def _session_error(self, exc: Exception) -> DeliveryError:
        where, user = self.where, self.settings.user
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            text = _t("auth", where=where, user=user, reply=_reply(exc.smtp_code, exc.smtp_error))
        elif isinstance(exc, smtplib.SMTPNotSupportedError):
            text = _t("no_auth", where=where)
        elif isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPResponseException)):
            text = _t("greeting", where=where, reply=_reply(exc.smtp_code, exc.smtp_error))
        elif _is_timeout(exc):
            text = _t("timeout", where=where, seconds=self.settings.timeout_seconds)
        elif isinstance(exc, ssl.SSLError):
            text = _t("tls", where=where, error=getattr(exc, "verify_message", None) or exc.reason or exc)
        elif isinstance(exc, smtplib.SMTPServerDisconnected):
            text = _t("disconnected", where=where, error=exc)
        else:
            text = _t("connect", where=where, error=getattr(exc, "strerror", None) or exc)
        return DeliveryError(text, temporary=True, connection=True, code=getattr(exc, "smtp_code", None))

    def _transaction(self, smtp: smtplib.SMTP, raw: bytes, envelope_from: str,
                     recipients: list[str]) -> dict[str, tuple[int, str]]:
        """MAIL, RCPT, DATA. 4xx: temporary; 5xx: permanent for this message; 421 or a dropped
        connection: the server is unusable (connection=True)."""
        options = []
        if not raw.isascii() and smtp.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        wide = [a for a in [envelope_from, *recipients] if not a.isascii()]
        if wide:
            if not smtp.has_extn("smtputf8"):
                raise DeliveryError(_t("utf8", addresses=", ".join(wide)), temporary=False)
            options.append("SMTPUTF8")
        try:
            refused = smtp.sendmail(envelope_from, recipients, raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            codes = [code for code, _ in exc.recipients.values()] or [550]
            reply = "; ".join(f"{a}: {_reply(c, r)}" for a, (c, r) in exc.recipients.items())
            # Temporary when any refusal was: that recipient may accept later.
            raise self._refusal("rcpt", reply, temporary=any(400 <= c < 500 for c in codes),
                                closing=421 in codes, code=min(codes)) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise self._refusal("mail", _reply(exc.smtp_code, exc.smtp_error), code=exc.smtp_code) from exc
        except smtplib.SMTPResponseException as exc:  # SMTPDataError and the like
            raise self._refusal("data", _reply(exc.smtp_code, exc.smtp_error), code=exc.smtp_code) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # Possibly after the server accepted the data: a retry may deliver a second copy,
            # recognisable by its unchanged Message-ID.
            if _is_timeout(exc):
                error = _t("timeout", where=self.where, seconds=self.settings.timeout_seconds)
            else:
                error = _t("disconnected", where=self.where, error=exc)
            raise DeliveryError(error, temporary=True, connection=True) from exc
        return {a: (c, _reply(c, r)) for a, (c, r) in refused.items()}

    @staticmethod
    def _refusal(stage: str, reply: str, *, code: int, temporary: bool | None = None,
                 closing: bool | None = None) -> DeliveryError:
        if code == 530:
            # "Authentication required": about our configuration, not this message; every mail
            # would get the same answer, so it is retried later like a login failure.
            return DeliveryError(_t("auth_required", reply=reply), temporary=True, connection=True, code=code)
        temporary = 400 <= code < 500 if temporary is None else temporary
        closing = code == 421 if closing is None else closing  # 421: the server is closing the session
        text = _t("deferred" if temporary else "rejected", stage=_STAGES[stage], reply=reply)
        return DeliveryError(text, temporary=temporary, connection=closing, code=code)


# --- the outbox -------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)  # outbox row ids delivered now
    deferred: list[int] = field(default_factory=list)  # temporary failures, rescheduled
    gave_up: list[dict] = field(default_factory=list)  # failed for good: the caller tells the office
    limited: list[int] = field(default_factory=list)  # held back by the per-address daily limit
    # Sent, but not to every recipient (the server refused some, or the daily limit held some
    # back): {"id", "key", "kind", "subject", "missed": [address, ...], "note"}. Worth telling too.
    partial: list[dict] = field(default_factory=list)


def _parse(stamp: str, tz: tzinfo) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 30 s, 1 min, 2 min, ... capped at 30 min."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def next_local_midnight(now: datetime, tz: tzinfo) -> datetime:
    day = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz)


def due_rows(db, now: datetime, tz: tzinfo) -> list[dict]:
    """Queued outbox rows whose next attempt is due at `now`, in id order, without their bytes.

    Compared as datetimes: the stored strings may carry different offsets (a --now in UTC, the
    office's +07:00), and "…T01:00+00:00" < "…T08:00+07:00" as text although it is later."""
    rows = db.execute(
        "select id, key, kind, recipients, subject, attempts, created_at, next_attempt_at "
        "from outbox where status = 'queued' order by id"
    )
    cols = [c[0] for c in rows.description]
    due = [dict(zip(cols, r)) for r in rows.fetchall()]
    return [r for r in due if not r["next_attempt_at"] or _parse(r["next_attempt_at"], tz) <= now]


def sent_today(db, now: datetime, tz: tzinfo) -> Counter:
    """How many outbox mails each address (lower case) was sent on now's local date."""
    today = now.astimezone(tz).date()
    # A cheap text window first (a stored offset differs from the office's by under two days),
    # then the exact local date of each row.
    low, high = (today - timedelta(days=2)).isoformat(), (today + timedelta(days=2)).isoformat()
    counts: Counter = Counter()
    for recipients, sent_at in db.execute(
        "select recipients, sent_at from outbox where status = 'sent' and substr(sent_at, 1, 10) between ? and ?",
        [low, high],
    ).fetchall():
        if _parse(sent_at, tz).astimezone(tz).date() == today:
            for address in {a.lower() for a in json.loads(recipients or "[]")}:
                counts[address] += 1
    return counts


def _update(db, row: dict, values: dict, *, guard: str | None) -> bool:
    """Update one queued row and commit. guard: the next_attempt_at this pass read (or leased);
    the update is skipped when another process changed the row meanwhile."""
    sets = ", ".join(f"{k} = ?" for k in values)
    sql = f"update outbox set {sets} where id = ? and status = 'queued'"
    args = [*values.values(), row["id"]]
    if guard is not None:
        sql += " and next_attempt_at = ?"
        args.append(guard)
    with db.atomic():
        return db.execute(sql, args).rowcount == 1


def _gave_up_entry(row: dict, recipients: list[str], error: str) -> dict:
    return {"id": row["id"], "key": row["key"], "kind": row["kind"], "recipients": recipients,
            "subject": row["subject"], "last_error": error}


def send_due(
    store,
    sender: Sender,
    now: datetime,
    *,
    tz: tzinfo,
    give_up_after: timedelta = timedelta(hours=24),
    max_per_address_per_day: int = 10,
    own_addresses: frozenset[str] = frozenset(),
    should_stop: Callable[[], bool] = lambda: False,
) -> SendReport:
    """Deliver the outbox rows due at `now`; see the module docstring. `store`: a Store (or its db)."""
    db = getattr(store, "db", store)
    stamp = now.isoformat()
    own = {a.lower() for a in own_addresses}
    counts = sent_today(db, now, tz)
    report = SendReport()
    server_down: str | None = None  # the first connection failure of this pass

    def temporary_failure(row: dict, recipients: list[str], error: str, guard: str | None) -> None:
        attempts = (row["attempts"] or 0) + 1
        if now - _parse(row["created_at"], tz) >= give_up_after:
            final = _t("gave_up", hours=give_up_after.total_seconds() / 3600, error=error)
            if _update(db, row, {"status": "failed", "attempts": attempts, "last_error": final,
                                 "next_attempt_at": stamp}, guard=guard):
                report.gave_up.append(_gave_up_entry(row, recipients, final))
                log.warning("Ngừng gửi thư %s (%s): %s", row["id"], row["kind"], final)
        elif _update(db, row, {"attempts": attempts, "last_error": error,
                               "next_attempt_at": (now + backoff(attempts)).isoformat()}, guard=guard):
            report.deferred.append(row["id"])

    def permanent_failure(row: dict, recipients: list[str], error: str, guard: str | None, attempted: bool) -> None:
        values = {"status": "failed", "last_error": error, "next_attempt_at": stamp}
        if attempted:
            values["attempts"] = (row["attempts"] or 0) + 1
        if _update(db, row, values, guard=guard):
            report.gave_up.append(_gave_up_entry(row, recipients, error))
            log.warning("Không gửi được thư %s (%s): %s", row["id"], row["kind"], error)

    for row in due_rows(db, now, tz):
        if should_stop():
            break
        read = row["next_attempt_at"]
        queued = json.loads(row["recipients"] or "[]")
        recipients: list[str] = []
        for address in queued:  # our own addresses out, duplicates (any case) once
            if address.lower() not in own and address.lower() not in {r.lower() for r in recipients}:
                recipients.append(address)
        if not recipients:
            permanent_failure(row, queued, _t("own_only", addresses=", ".join(queued) or "—"), read, False)
            continue
        allowed = [r for r in recipients if counts[r.lower()] < max_per_address_per_day]
        if not allowed:
            until = next_local_midnight(now, tz)
            note = _t("limited", until=until.strftime("%H:%M %d/%m/%Y"), limit=max_per_address_per_day,
                      addresses=", ".join(recipients))
            if _update(db, row, {"last_error": note, "next_attempt_at": until.isoformat()}, guard=read):
                report.limited.append(row["id"])
            continue
        if server_down is not None:
            # The server failed a moment ago: count this row as failed the same way, without
            # another connection attempt per row (cheap, and backoff grows for all alike).
            temporary_failure(row, recipients, _t("not_tried", error=server_down), read)
            continue
        lease = (now + LEASE).isoformat()
        if not _update(db, row, {"next_attempt_at": lease}, guard=read):
            continue  # another process is delivering it right now
        raw = db.execute("select raw from outbox where id = ?", [row["id"]]).fetchone()[0]
        try:
            refused = sender.deliver(bytes(raw), sender.envelope_from, allowed) or {}
        except DeliveryError as exc:
            if exc.connection:
                server_down = str(exc)
            if exc.temporary:
                temporary_failure(row, recipients, str(exc), lease)
            else:
                permanent_failure(row, recipients, str(exc), lease, True)
            continue
        except Exception as exc:
            # A bug or an error no one foresaw: this row is retried with backoff and given up in
            # the end like any other, and the rows after it still go out.
            log.exception("Lỗi không lường trước khi gửi thư %s", row["id"])
            temporary_failure(row, recipients, _t("unexpected", error=f"{type(exc).__name__}: {exc}"), lease)
            continue
        crash_point("after-deliver")
        # The window in which a crash sends a mail twice is exactly here: between the server
        # accepting the data (inside deliver) and the commit just below. A restart then finds the
        # row still queued and sends it again after the lease, with the same Message-ID, so the
        # receiver can recognise the copy. Commit per row to keep that window this short.
        notes, missed = [], [r for r in recipients if r not in allowed]
        if missed:
            notes.append(_t("limited_some", addresses=", ".join(missed), limit=max_per_address_per_day))
        if refused:
            notes.append(_t("refused_some", details="; ".join(f"{a}: {r}" for a, (_, r) in refused.items())))
            missed += list(refused)
        _update(db, row, {"status": "sent", "sent_at": stamp, "attempts": (row["attempts"] or 0) + 1,
                          "last_error": " ".join(notes) or None, "next_attempt_at": stamp}, guard=lease)
        report.sent.append(row["id"])
        for address in allowed:
            counts[address.lower()] += 1
        if missed:
            report.partial.append({"id": row["id"], "key": row["key"], "kind": row["kind"],
                                   "subject": row["subject"], "missed": missed, "note": " ".join(notes)})
        log.info("Đã gửi thư %s (%s) tới %s", row["id"], row["kind"], ", ".join(allowed))
    return report
