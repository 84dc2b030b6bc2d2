"""Deliver one message: `Sender.deliver` hands it to the SMTP server (smtp://, smtp+starttls://,
smtps://) or writes it as an .eml file (dir:), and says through `DeliveryError` whether trying
again later can help. It knows nothing of the outbox (outgoing/outbox.py decides what to send).
"""
from __future__ import annotations

import base64
import hashlib
import re
import smtplib
import socket
import ssl
import tempfile
from pathlib import Path
from typing import Sequence

from daemon.config import SmtpSettings
from daemon.durable import write_bytes
from daemon.oauth2 import OAuth2Error, TokenSource, xoauth2
from daemon.records import message_id_of
from daemon.texts import t

_STAGES = {"mail": "địa chỉ người gửi", "rcpt": "người nhận", "data": "nội dung thư"}


def _t(key: str, **values) -> str:
    return t(f"mailer.{key}", **values)


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


def eml_name(raw: bytes) -> str:
    """The file name of a mail in the dir: scheme: from its Message-ID, so a resend is the same file."""
    mid = (message_id_of(raw) or "").strip().strip("<>")
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
        self.tokens = TokenSource(settings.oauth2) if settings.oauth2 else None  # auth = "oauth2"
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
            if s.user and self.tokens is not None:
                self._login_oauth2(smtp, s.user)
            elif s.user:
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

    def _login_oauth2(self, smtp: smtplib.SMTP, user: str) -> None:
        """AUTH XOAUTH2 with the initial response; a refused token is fetched again once."""
        if "XOAUTH2" not in smtp.esmtp_features.get("auth", "").upper().split():
            raise smtplib.SMTPNotSupportedError("AUTH XOAUTH2 not offered")
        try:
            for attempt in (1, 2):
                token = self.tokens.token()
                # On failure the server sends a 334 with an error JSON and waits for an empty line.
                answers = iter([xoauth2(user, token), ""])
                try:
                    smtp.auth("XOAUTH2", lambda challenge=None: next(answers, ""), initial_response_ok=True)
                    return
                except smtplib.SMTPAuthenticationError:
                    self.tokens.invalidate()
                    if attempt == 2:
                        raise
        except OAuth2Error as exc:
            raise DeliveryError(_t("oauth2", where=self.where, error=exc), temporary=True, connection=True) from None

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


