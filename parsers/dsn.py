"""Delivery reports: which recipients failed, and which of our messages it was about.

Read from RFC 3464 multipart/report parts (message/delivery-status) where the MTA sends them,
and from the plain-text bounces of older MTAs (Exim's "X-Failed-Recipients", qmail's text) as a
fallback. Pure: bytes in, failures out; never raises.
"""
from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy

ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
QMAIL_MARKER = "--- Below this line is a copy of the message."
QMAIL_RECIPIENT = re.compile(r"^<([\w.+-]+@[\w-]+(?:\.[\w-]+)+)>:\s*$", re.M)


def _body_text(raw: bytes) -> str:
    """Everything after the report's own header block, as text with \\n line ends."""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    return text.split("\n\n", 1)[1] if "\n\n" in text else ""


@dataclass(frozen=True)
class DeliveryFailure:
    recipient: str  # lower case
    status: str  # "5.1.1", or "" when the MTA did not say
    diagnostic: str
    original_message_ids: tuple[str, ...]  # Message-IDs of the bounced mail, where the report carries them


def _fields(block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.splitlines():
        name, sep, value = line.partition(":")
        if sep and name and not name.startswith((" ", "\t")):
            out.setdefault(name.strip().lower(), value.strip())
    return out


def delivery_failures(raw: bytes) -> tuple[DeliveryFailure, ...]:
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception:  # a broken report is simply not a report we can use
        return ()
    ids: list[str] = []
    failures: list[tuple[str, str, str]] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            blocks = [str(p) for p in payload] if isinstance(payload, list) else str(payload or "").split("\n\n")
            for block in blocks:
                f = _fields(block)
                action = f.get("action", "").lower()
                recipient = f.get("final-recipient") or f.get("original-recipient") or ""
                if recipient and action in ("failed", ""):
                    found = ADDRESS.search(recipient)
                    if found and (action == "failed" or f.get("status", "").startswith("5")):
                        failures.append((found.group(0).lower(), f.get("status", ""), f.get("diagnostic-code", "")))
        elif ctype in ("text/rfc822-headers", "message/rfc822"):
            text = part.as_string() if ctype == "message/rfc822" else str(part.get_payload(decode=False) or "")
            for line in text.splitlines():
                if line.lower().startswith("message-id:"):
                    ids.extend(MESSAGE_ID.findall(line))
    body = _body_text(raw)
    if not failures:
        header = msg.get("X-Failed-Recipients")
        if header:
            failures = [(a.lower(), "", "") for a in ADDRESS.findall(str(header))]
    if not failures and QMAIL_MARKER in body:
        # qmail: "<address>:" lines (then the reason) above the copy of the original message
        notice = body.split(QMAIL_MARKER, 1)[0]
        failures = [(m.group(1).lower(), "", " ".join(notice[m.end():].split("\n\n")[0].split()))
                    for m in QMAIL_RECIPIENT.finditer(notice)]
    for name in ("In-Reply-To", "References"):
        ids.extend(MESSAGE_ID.findall(str(msg.get(name) or "")))
    if not ids:  # plain-text bounces quote the original headers in the body (not the report's own)
        ids = [m for line in body.splitlines() if line.lower().startswith("message-id:")
               for m in MESSAGE_ID.findall(line)]
    unique_ids = tuple(dict.fromkeys(ids))
    return tuple(DeliveryFailure(r, s, d, unique_ids) for r, s, d in dict.fromkeys(failures))
