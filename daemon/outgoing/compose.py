"""Compose one outgoing mail: its raw bytes (CRLF), built once when the mail is queued.

The outbox keeps those bytes, so a retry sends exactly the same message with the same Message-ID
(a resend is recognisable by the receiver). Pure: no network, no disk.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Sequence

from daemon.records import KIND_HEADER

# Composition policy: CRLF line ends (SMTP servers increasingly refuse bare LF), and headers that
# come from a parsed source (the original message attached to a review notice) are written back
# exactly as they arrived instead of being refolded; refolding turns raw 8-bit headers into
# "unknown-8bit" encoded words that mail readers do not decode.
_POLICY = email_policy.SMTP.clone(refold_source="none")


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
    cc: Sequence[str] = (),
) -> bytes:
    """The raw bytes (CRLF) of one outgoing mail. attachments: (file name, content, content type).

    Structure: text/plain, or multipart/alternative (text + html), inside multipart/mixed when
    there are attachments. Non-ASCII header text is RFC 2047 encoded, attachment names RFC 2231.
    """
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = FROM_PLACEHOLDER  # encoded by with_from below
    msg["To"] = [Address(addr_spec=r) for r in recipients]
    if cc:  # copies (the unit's head on a firmer notice): also in the envelope, see notices._mail
        msg["Cc"] = [Address(addr_spec=r) for r in cc]
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


# What mail readers and we put before a subject when answering or forwarding: "Re:", "RE[2]:",
# "Fwd:", "TL:" (Trả lời), "Đã nhận:", "Đã nhận, cần bổ sung:" (our acknowledgements).
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|fw|fwd|tl|tr|trả\s+lời|chuyển\s+tiếp|đã\s+nhận(?:,\s*cần\s+bổ\s+sung)?)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)


def strip_reply_prefixes(subject: str) -> str:
    """The subject without its leading reply/forward/acknowledgement prefixes, any case:
    "RE: Fwd: Đã nhận: Nhắc gửi báo cáo" -> "Nhắc gửi báo cáo"."""
    text = unicodedata.normalize("NFC", subject or "")
    while True:
        shorter = _REPLY_PREFIX.sub("", text, count=1)
        if shorter == text or not shorter.strip():
            return text.strip()
        text = shorter


def tidy_subject(subject: str) -> str:
    """Our subject with one prefix only: a reply's subject is built as our prefix before the
    unit's subject ("Đã nhận: " + "Re: Nhắc gửi..."), which would double them; the prefixes after
    our first one are dropped. A subject that does not start with such a prefix is kept as is."""
    text = unicodedata.normalize("NFC", " ".join((subject or "").split()))
    first = _REPLY_PREFIX.match(text)
    if not first:
        return text
    rest = strip_reply_prefixes(text[first.end():])
    return f"{text[:first.end()].strip()} {rest}" if rest else text


def with_subject(raw: bytes, subject: str) -> bytes:
    """Put the Subject in, RFC 2047 encoded by email.header.Header.

    The email package's own folding of a long non-ASCII subject drops the space between two
    encoded words (CPython's generator puts the space in the fold, where RFC 2047 says it is
    ignored), so "báo cáo" would reach the unit as "báocáo". A header is one line: a subject
    taken from an incoming mail may carry line breaks."""
    encoded = Header(" ".join(tidy_subject(subject).split()), "utf-8", header_name="Subject").encode(linesep="\r\n")
    return raw.replace(SUBJECT_PLACEHOLDER.encode("ascii"), encoded.encode("ascii"), 1)


