"""Compose one outgoing mail: its raw bytes (CRLF), built once when the mail is queued.

The outbox keeps those bytes, so a retry sends exactly the same message with the same Message-ID
(a resend is recognisable by the receiver). Pure: no network, no disk.
"""
from __future__ import annotations

import binascii
import functools
import hashlib
import random
import re
import sys
import unicodedata
from datetime import datetime
from email import policy as email_policy
from email import utils as email_utils
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
    if html is not None and not attachments:
        fast = _alternative_bytes(recipients=recipients, cc=cc, date=date, message_id=message_id,
                                  in_reply_to=in_reply_to, references=references, auto_submitted=auto_submitted,
                                  kind=kind, text=text, html=html)
        if fast is not None:
            return with_from(with_subject(fast, subject), sender_name, sender)
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


# The common mail (an acknowledgement, a reminder: text and html, no attachment, plain ASCII
# addresses and identifiers) written directly, byte for byte what the email package writes for
# it (tests/test_mailer.py compares the two on many inputs): the package parses every header it
# is given and parses and refolds it again to write it, ~2.5 ms per mail, a quarter of reading a
# report, for a thousand acknowledgements of a backlog (bench/backlog.py, issue 17). Anything
# else (a header to fold or encode, an address to quote, attachments) goes through the package.
_SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                             r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_SIMPLE_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*\Z")  # printable ASCII words, single spaces
_MAX_LINE = _POLICY.max_line_length  # 78


def _header_line(name: str, value: str) -> str | None:
    """"Name: value" as the package writes it, or None when it would fold or decode it."""
    line = f"{name}: {value}"
    if len(line) > _MAX_LINE or not _SIMPLE_VALUE.match(value) or "=?" in value or "(" in value:
        return None
    return line


def _body_lines(text: str) -> list[str]:
    """A text part's body lines as email.contentmanager writes them (7bit or base64, utf-8)."""
    lines = text.encode("utf-8").splitlines()
    if _text_part_cte(text) == "7bit":
        return [line.decode("ascii") for line in lines or [b""]] + [""]  # "" is written as one line end
    data = b"\r\n".join(lines) + b"\r\n"
    step = _MAX_LINE // 4 * 3
    return [binascii.b2a_base64(data[i:i + step], newline=False).decode("ascii")
            for i in range(0, len(data), step)] + [""]


def _alternative_bytes(*, recipients, cc, date, message_id, in_reply_to, references, auto_submitted, kind,
                       text, html) -> bytes | None:
    """compose()'s bytes for text + html without attachments (From and Subject placeholders), or
    None when this mail needs the email package (see above)."""
    if not recipients or date.tzinfo is None:
        return None
    if not all(_SIMPLE_ADDRESS.match(a) for a in (*recipients, *cc)):
        return None
    head = [f"From: {FROM_PLACEHOLDER}", _header_line("To", ", ".join(recipients))]
    if cc:
        head.append(_header_line("Cc", ", ".join(cc)))
    head += [f"Subject: {SUBJECT_PLACEHOLDER}", _header_line("Date", email_utils.format_datetime(date)),
             _header_line("Message-ID", message_id)]
    if in_reply_to:
        head.append(_header_line("In-Reply-To", in_reply_to))
    if references:
        head.append(_header_line("References", " ".join(references)))
    head += [_header_line("Auto-Submitted", auto_submitted), _header_line("X-Auto-Response-Suppress", "All"),
             _header_line(KIND_HEADER, kind)]
    if None in head or not (message_id.startswith("<") and message_id.endswith(">")):
        return None
    parts = []
    for subtype, content, extra in (("plain", text, []), ("html", html, ["MIME-Version: 1.0"])):
        parts.append([f'Content-Type: text/{subtype}; charset="utf-8"',
                      f"Content-Transfer-Encoding: {_text_part_cte(content)}", *extra, "", *_body_lines(content)])
    bodies = ["\r\n".join(p) for p in parts]
    boundary = _boundary("\r\n".join(bodies))
    head += ["MIME-Version: 1.0", "Content-Type: multipart/alternative;", f' boundary="{boundary}"', ""]
    out = "\r\n".join(head) + f"\r\n--{boundary}\r\n" + f"\r\n--{boundary}\r\n".join(bodies)
    return (out + f"\r\n--{boundary}--\r\n").encode("ascii")


def _boundary(text: str) -> str:
    """A boundary not found in the parts, made as email.generator makes it."""
    token = random.randrange(sys.maxsize)
    boundary = "=" * 15 + (_BOUNDARY_FORMAT % token) + "=="
    counter = 0
    # the package's check, a regular expression compiled for each new boundary (~0.3 ms), only
    # when the text holds the boundary at all (never, in practice: it is 15 "=" and 19 digits)
    while "--" + boundary in text and re.search("^--" + re.escape(boundary) + "(--)?$", text, re.MULTILINE):
        boundary = "=" * 15 + (_BOUNDARY_FORMAT % token) + "==" + f".{counter}"
        counter += 1
    return boundary


_BOUNDARY_FORMAT = "%%0%dd" % len(repr(sys.maxsize - 1))


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
    return raw.replace(FROM_PLACEHOLDER.encode("ascii"), _from_value(sender_name, sender), 1)


@functools.lru_cache(maxsize=16)  # one sender per office: encoded once, not for every mail
def _from_value(sender_name: str, sender: str) -> bytes:
    name = " ".join((sender_name or "").split())
    if not name:
        value = sender
    elif name.isascii():
        value = str(Address(display_name=name, addr_spec=sender))  # quoted when it must be
    else:
        words = Header(name, "utf-8", header_name="From").encode(linesep="\r\n")
        value = f"{words}\r\n <{Address(addr_spec=sender).addr_spec}>"
    return value.encode("utf-8")


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


