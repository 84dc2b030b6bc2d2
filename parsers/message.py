"""A raw email -> ParsedMessage: decoded headers, the readable body, every file at any depth.

Mail from units arrives from every kind of client: Vietnamese subjects in RFC 2047 (or raw 8-bit
UTF-8/Windows-1258 from old tools), names in RFC 2231 or RFC 2047 or NFD from macOS, reports
zipped, forwarded, or wrapped in winmail.dat. parse_message never raises and its cost is bounded
by the input size: whatever goes wrong becomes a Vietnamese line in `problems`.

Why compat32 and our own header decoding, not email.policy.default: the modern policy's header
parser is far from linear on hostile input (reading a 1 MB Subject took 29 s on this machine;
parsing a message whose Content-Type has 200,000 parameters took over 20 s) and turns 8-bit or
unknown-charset text into U+FFFD. So the structure is parsed with compat32 (whose header values stay raw strings), the
Content-Type/Content-Disposition values the parser itself inspects are capped, and headers are
decoded by the small linear decoder below, which keeps raw UTF-8 and Windows-1258 readable.
"""
from __future__ import annotations

import binascii
import email.errors
import email.feedparser
import email.message
import email.utils
import mimetypes
import re
from email import policy
from email.parser import BytesParser

from parsers import containers
from parsers.containers import Budget, forward_label, size_text
from parsers.model import Attachment, Limits, ParsedMessage
from parsers.sniff import sniff
from parsers.text import nfc, safe_filename

# Structured headers the parser reads itself are cut here: real ones are a few hundred bytes
# (long RFC 2231 names ~2 KB) and email's parameter splitter is quadratic in the length.
_PARAM_HEADER_CAP = 16 * 1024
_ADDRESS_HEADER_CAP = 64 * 1024  # about a thousand recipients; the rest is not needed
_MAX_PARTS = 2000  # MIME parts walked per message, all levels together
_MAX_MIME_DEPTH = 60  # multipart and container nesting walked, together (real mail: under 10)
_MAX_CONTAINER_DEPTH = 8  # zip/forward/winmail.dat nesting of any kind, together
# Parts of a delivery or read report that describe the report, not files anyone sent.
_REPORT_PARTS = {
    "message/delivery-status", "message/global-delivery-status", "message/disposition-notification",
    "message/global-disposition-notification", "message/feedback-report", "text/rfc822-headers",
    "message/global-headers",
}
_FORWARD_TYPES = {"message/rfc822", "message/global"}
_DEFAULT_EXT = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/tiff": ".tif",
    "application/pdf": ".pdf", "message/rfc822": ".eml", "message/global": ".eml",
    "text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics", "text/csv": ".csv",
    "application/zip": ".zip", "application/x-zip-compressed": ".zip", "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls", "application/rtf": ".rtf", "text/rtf": ".rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/pkcs7-signature": ".p7s", "application/x-pkcs7-signature": ".p7s",
    "application/pkcs7-mime": ".p7m", "application/x-pkcs7-mime": ".p7m",
    "application/pgp-signature": ".asc", "application/octet-stream": ".bin",
}
_DEFECT_PROBLEMS = {
    email.errors.StartBoundaryNotFoundDefect:
        "Thư khai báo gồm nhiều phần nhưng không tìm thấy ranh giới giữa các phần; "
        "nội dung được đọc như văn bản thô.",
    email.errors.CloseBoundaryNotFoundDefect:
        "Cấu trúc thư bị lỗi (thiếu ranh giới kết thúc); đã đọc những phần đọc được.",
    email.errors.NoBoundaryInMultipartDefect:
        "Thư khai báo gồm nhiều phần nhưng thiếu ranh giới (boundary); nội dung được đọc như văn bản thô.",
}


# -- the entry point ----------------------------------------------------------------------------
def parse_message(raw: bytes, limits: Limits = Limits()) -> ParsedMessage:
    """What a raw RFC 5322 message says about itself. Never raises."""
    try:
        return _parse_message(bytes(raw or b""), limits)
    except Exception as exc:  # the contract: a problem, never a crash (RecursionError included)
        return ParsedMessage(
            message_id=None, subject="", from_addr=None, from_name="", to=(), date=None, headers=(),
            return_path=None, content_type="text/plain", report_type=None, body_text="",
            attachments=(), problems=(f"Không đọc được thư do lỗi bất ngờ ({type(exc).__name__}); "
                                      "cần người xem.",))


def _parse_message(raw: bytes, limits: Limits) -> ParsedMessage:
    problems: list[str] = []
    raw, omitted = _omit_oversized_parts(raw, limits)
    if len(raw) > limits.max_message_bytes:
        problems.append(
            f"Thư quá lớn ({size_text(len(raw))}, giới hạn {size_text(limits.max_message_bytes)}); "
            f"chỉ đọc {size_text(limits.max_message_bytes)} đầu nên các tệp đính kèm phía sau có thể "
            "bị thiếu hoặc hỏng.")
        raw = raw[: limits.max_message_bytes]
    raw = _limit_header(raw, limits, problems)
    msg = parse_bytes(raw, problems)

    walker = _Walker(limits)
    walker.omitted = omitted
    walker.walk(msg, path="", top=True)
    problems.extend(_defect_problems(walker.visited))
    problems.extend(walker.problems)

    headers = tuple((decode_header_text(name), decode_header_text(value)) for name, value in msg.raw_items())
    from_list = _addresses(_raw_all(msg, "from"))
    from_name, from_addr = from_list[0] if from_list else ("", None)
    content_type = msg.get_content_type()
    report_type = None
    if content_type == "multipart/report":
        report_type = _param(msg, "report-type")
        report_type = report_type.strip().lower() if report_type else None
    return ParsedMessage(
        message_id=_single(msg, "message-id"),
        subject=_single(msg, "subject") or "",
        from_addr=from_addr,
        from_name=from_name,
        to=tuple(addr for _, addr in _addresses(_raw_all(msg, "to"))),
        date=_single(msg, "date"),
        headers=headers,
        return_path=_return_path(msg),
        content_type=content_type,
        report_type=report_type,
        body_text=walker.body_text(limits.max_text_chars),
        attachments=tuple(walker.attachments),
        problems=tuple(dict.fromkeys(problems)),
    )


# -- parsing, bounded ---------------------------------------------------------------------------
class _BoundedMessage(email.message.Message):
    """compat32 Message whose Content-Type/-Disposition are read raw and capped.

    The feed parser asks every part for its type and boundary; with the value capped, email's
    quadratic parameter splitter stays cheap on a megabyte-long header, and a raw 8-bit value
    stays a plain string instead of becoming a Header object.
    """

    def get(self, name, failobj=None):  # noqa: D401 - same contract as Message.get
        lname = name.lower()
        if lname in ("content-type", "content-disposition"):
            for key, value in self.raw_items():
                if key.lower() == lname:
                    return value[:_PARAM_HEADER_CAP] if isinstance(value, str) else value
            return failobj
        return super().get(name, failobj)


_FEED_CHUNK = 64 * 1024


def parse_bytes(raw: bytes, problems: list[str] | None = None) -> email.message.Message:
    """Bytes -> a compat32 message tree; falls back to the headers alone when the body breaks it.

    Fed to the feed parser in slices: BytesParser.parsebytes() first turns the whole message into
    one str and wraps it in a StringIO (4 bytes a character), a peak of about 8x the message
    (262 MB for a 34 MB mail carrying a 25 MB scan; 93 MB this way, bench/memory.py). The parser
    is the same (BytesParser feeds 8 KB slices of that str); ASCII with surrogateescape decodes
    byte by byte, so where the slices are cut changes nothing."""
    try:
        parser = email.feedparser.BytesFeedParser(_factory=_BoundedMessage, policy=policy.compat32)
        view = memoryview(raw)
        for start in range(0, len(raw), _FEED_CHUNK):
            parser.feed(bytes(view[start:start + _FEED_CHUNK]))
        return parser.close()
    except (Exception, RecursionError) as exc:
        if problems is not None:
            problems.append(f"Cấu trúc thư bị lỗi nặng ({type(exc).__name__}); chỉ đọc được phần đầu thư.")
    try:
        return BytesParser(_class=_BoundedMessage, policy=policy.compat32).parsebytes(raw, headersonly=True)
    except (Exception, RecursionError):
        return _BoundedMessage()


_OMITTED_HEADER = "X-Tonghop-Omitted"
_BOUNDARY_PARAM = re.compile(rb'(?i)boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))')
_CONTAINER_TYPE = re.compile(rb"(?im)^content-type:\s*(?:multipart|message)/")
_BASE64_CTE = re.compile(rb"(?im)^content-transfer-encoding:\s*base64")


def _omit_oversized_parts(raw: bytes, limits: Limits) -> tuple[bytes, dict[str, int]]:
    """The message with the body of every MIME part too large to read taken out before the email
    parser sees it, and {mark: the file's real size}.

    Why: a 110 MB attachment was decoded from the first 60 MB of the message (the message limit)
    and reported as "Tệp quá lớn (43,8 MB)", and parsing a 70 MB message held half a gigabyte.
    A part's body is what lies between two delimiter lines of the message's boundaries; one whose
    encoded size cannot fit max_attachment_bytes is replaced by nothing and its headers get a mark
    the walker turns into the problem, with the real size (base64 counted without line breaks). The
    archive keeps the whole message as received. The mark is random per call: a header a sender
    writes cannot pass for it."""
    import secrets

    if len(raw) <= limits.max_attachment_bytes:
        return raw, {}
    boundaries = set()
    for needle in (b"oundary", b"OUNDARY"):  # bytes.find is fast where a regex over 100 MB is not
        at = raw.find(needle)
        while at >= 0:
            m = _BOUNDARY_PARAM.match(raw, at - 1, at + 220)
            if m:
                boundaries.add(m.group(1) or m.group(2))
            at = raw.find(needle, at + len(needle))
    starts: list[int] = []  # where each delimiter line begins (its "--")
    for boundary in boundaries:
        needle = b"\n--" + boundary
        at = raw.find(needle)
        while at >= 0:
            starts.append(at + 1)
            at = raw.find(needle, at + len(needle))
    edges = [0] + sorted(starts) + [len(raw)]
    token = secrets.token_hex(8)
    pieces, omitted, kept_from = [], {}, 0
    for begin, end in zip(edges, edges[1:]):
        if end - begin <= limits.max_attachment_bytes:
            continue
        head_start = begin if begin == 0 else raw.find(b"\n", begin, end) + 1  # after the delimiter line
        if head_start <= 0 and begin != 0:
            continue
        blanks = [x for x in (raw.find(b"\n\r\n", head_start - 1, end), raw.find(b"\n\n", head_start - 1, end)) if x >= 0]
        if not blanks or min(blanks) - head_start > 65536:
            continue
        head_end = min(blanks)  # the line break that ends the last header line
        body = raw.find(b"\n", head_end + 1, end) + 1
        head = raw[head_start:head_end]
        if _CONTAINER_TYPE.search(head):
            continue
        # the line break before the next delimiter belongs to the delimiter (RFC 2046), kept
        stop = end if end == len(raw) else end - (2 if raw[end - 2:end] == b"\r\n" else 1)
        size = stop - body
        if _BASE64_CTE.search(head):
            chars = size - sum(raw.count(c, body, stop) for c in (b"\n", b"\r", b" ", b"\t"))
            size = chars * 3 // 4 - raw.count(b"=", max(body, stop - 4), stop)
        if size <= limits.max_attachment_bytes:
            continue
        mark = f"{token}-{len(omitted)}"
        omitted[mark] = size
        pieces += [raw[kept_from:head_end], f"\n{_OMITTED_HEADER}: {mark}".encode(), raw[head_end:body]]
        kept_from = stop
    if not omitted:
        return raw, {}
    pieces.append(raw[kept_from:])
    return b"".join(pieces), omitted


def _limit_header(raw: bytes, limits: Limits, problems: list[str]) -> bytes:
    """Drop the header fields that do not fit in max_header_bytes; keep the rest and the body."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    end = min(ends) if ends else len(raw)
    if end <= limits.max_header_bytes:
        return raw
    head, rest = raw[:end], raw[end:]
    fields: list[bytes] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    kept, used, dropped = [], 0, 0
    for f in fields:
        if used + len(f) + 1 <= limits.max_header_bytes:
            kept.append(f)
            used += len(f) + 1
        else:
            dropped += 1  # a later small field (Content-Type after a huge one) still fits
    problems.append(
        f"Phần đầu thư quá dài ({size_text(end)}, giới hạn {size_text(limits.max_header_bytes)}); "
        f"đã bỏ qua {dropped} trường tiêu đề không vừa giới hạn.")
    return b"\n".join(kept) + rest


def _defect_problems(parts: list[email.message.Message]) -> list[str]:
    """Structural MIME defects the feed parser recorded, said once each in Vietnamese."""
    out = []
    for part in parts:
        for defect in getattr(part, "defects", ()):
            for cls, text in _DEFECT_PROBLEMS.items():
                if isinstance(defect, cls):
                    out.append(text)
    return out


# -- headers ------------------------------------------------------------------------------------
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ONLY_SPACE = re.compile(r"[ \t\r\n]*")


def decode_header_text(value) -> str:
    """A raw header value (or parameter) -> text, NFC: 8-bit bytes as UTF-8 or Windows-1258,
    RFC 2047 encoded words decoded (unknown charsets and broken base64 best-effort). Linear."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    text = decode_bytes(value.encode("utf-8", "surrogateescape"))
    text = _FOLD.sub("", text)
    if "=?" not in text:
        return nfc(text.replace("\r", "").replace("\n", " "))
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # adjacent encoded words, joined before decoding
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[pos:match.start()]
        if pending and not _ONLY_SPACE.fullmatch(between):
            out.append(_decode_words(pending))
            pending = []
        if not pending:
            out.append(between)
        charset, encoding, payload = match.groups()
        pending.append((charset, _decode_word(encoding, payload)))
        pos = match.end()
    if pending:
        out.append(_decode_words(pending))
    out.append(text[pos:])
    return nfc("".join(out).replace("\r", "").replace("\n", " "))


def _decode_word(encoding: str, payload: str) -> bytes:
    data = payload.encode("ascii", "replace")
    if encoding in "qQ":
        try:
            return binascii.a2b_qp(data, header=True)
        except (binascii.Error, ValueError):
            return data
    return _lenient_b64(data)


def _decode_words(words: list[tuple[str, bytes]]) -> str:
    """Adjacent encoded words: same-charset runs are joined first, since some mailers split one
    UTF-8 character across two words."""
    out, run_charset, run = [], None, b""
    for charset, data in words:
        charset = charset.split("*", 1)[0].lower()  # RFC 2231 language suffix: "utf-8*vi"
        if charset != run_charset and run:
            out.append(decode_bytes(run, run_charset))
            run = b""
        run_charset = charset
        run += data
    if run:
        out.append(decode_bytes(run, run_charset))
    return "".join(out)


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes -> text: the declared charset if it decodes, else UTF-8, else Windows-1258 (the
    Vietnamese Windows code page), else the declared charset or UTF-8 with replacement."""
    charset = _charset(charset)
    for encoding in (charset, "utf-8", "cp1258"):
        if encoding:
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
    return data.decode(charset or "utf-8", "replace")


def _charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip('"').lower()
    if name in ("", "unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", "us-ascii", "ascii"):
        # us-ascii is declared by many tools that send 8-bit anyway; UTF-8 reads ASCII the same.
        return None
    try:
        "".encode(name)
    except LookupError:
        return None
    except Exception:
        return None
    return name


def _raw_all(msg: email.message.Message, name: str) -> list[str]:
    """Raw values (compat32's get_all would turn 8-bit values into U+FFFD through Header)."""
    return [value for key, value in msg.raw_items() if key.lower() == name]


def _single(msg: email.message.Message, name: str) -> str | None:
    for key, value in msg.raw_items():
        if key.lower() == name:
            text = decode_header_text(value).strip()
            return text or None
    return None


def _return_path(msg: email.message.Message) -> str | None:
    """None when absent; "" for the null path "<>" (bounces and auto-replies use it)."""
    for key, value in msg.raw_items():
        if key.lower() == "return-path":
            text = decode_header_text(value).strip()
            inner = re.fullmatch(r"<\s*(.*?)\s*>", text)
            return inner.group(1) if inner else text
    return None


def _strip_comments(value: str) -> str:
    """Remove (comments) with a linear scan; email's parser recurses once per nesting level."""
    out, depth, quoted, escaped = [], 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            quoted = ch != '"'
            out.append(ch)
        elif ch == '"' and depth == 0:
            quoted = True
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _addresses(values: list) -> list[tuple[str, str]]:
    """[(display name decoded, address lower-cased)] of address headers; only entries with "@"."""
    out = []
    for value in values:
        text = str(value)[:_ADDRESS_HEADER_CAP]
        text = decode_bytes(text.encode("utf-8", "surrogateescape"))  # raw 8-bit names
        text = _FOLD.sub("", text).replace("\r", " ").replace("\n", " ")
        if text.count("(") > 50:
            text = _strip_comments(text)
        try:
            pairs = email.utils.getaddresses([text])
        except (Exception, RecursionError):
            pairs = [("", a) for a in re.findall(r"[^\s<>,;:\"()]+@[^\s<>,;:\"()]+", text)]
        for name, addr in pairs:
            addr = addr.strip().lower()
            if "@" in addr:
                out.append((decode_header_text(name).strip(), nfc(addr)))
    return out


def _param(part: email.message.Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, None, header)
    except Exception:
        return None
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return None if value is None else str(value)


def _filename(part: email.message.Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        return ""
    return decode_header_text(name).strip()


def _disposition(part: email.message.Message) -> str:
    try:
        return (part.get_content_disposition() or "").strip().lower()
    except Exception:
        return ""


def _content_type(part: email.message.Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _transfer_encoding(part: email.message.Message) -> str:
    for key, value in part.raw_items():
        if key.lower() == "content-transfer-encoding":
            return str(value).strip().lower()
    return ""


def _encoded_forward(parsed: email.message.Message, encoding: str) -> bytes:
    """The bytes of a message/rfc822 part sent with a transfer encoding (see _Walker._walk)."""
    payload = parsed.get_payload()
    if parsed.keys() or not isinstance(payload, str):
        try:
            payload = parsed.as_string()
        except Exception:
            return b""
    text = payload.encode("ascii", "ignore")
    return binascii.a2b_qp(text) if encoding == "quoted-printable" else _lenient_b64(text)


def _lenient_b64(data: bytes) -> bytes:
    """Base64 as mail clients really send it: stray characters dropped, padding repaired."""
    data = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data + b"=" * (-len(data) % 4)
    try:
        return binascii.a2b_base64(data)
    except (binascii.Error, ValueError):
        return b""


_FAST_B64_MIN = 1024 * 1024


def _raw_payload(part: email.message.Message):
    """The part's payload as parsed. get_payload() decodes 8-bit bodies with the declared charset
    even without decode=True, and a charset parameter of 8-bit garbage makes that raise
    (tests/test_fuzz.py, seed 131529): then the parsed text itself, which email keeps as is."""
    try:
        return part.get_payload()
    except (UnicodeError, LookupError):
        return part._payload  # noqa: SLF001 - no public accessor skips the charset


def _payload_bytes(part: email.message.Message) -> bytes:
    payload = _raw_payload(part)
    if isinstance(payload, str) and len(payload) >= _FAST_B64_MIN and payload.isascii() \
            and str(part.get("content-transfer-encoding", "")).lower() == "base64":  # as get_payload tests it
        # A large file: binascii skips the line breaks itself, where get_payload(decode=True)
        # copies the text three times over first (154 MB at the peak for a 25 MB file). The
        # bytes are the same. What binascii refuses (missing padding, a broken length) goes to
        # the general path below, which repairs what it can and notes the defect the reader
        # reports; stray characters are skipped by both (the email package also notes a defect
        # for those, which nothing reads).
        try:
            return binascii.a2b_base64(payload.encode("ascii"))
        except (binascii.Error, ValueError):
            pass
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = _raw_payload(part)
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


# -- HTML -> text -------------------------------------------------------------------------------
_BLOCKS = ("p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
           "pre", "ul", "ol", "dd", "dt", "section", "article", "header", "footer", "address")


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: blocks and <br> become line breaks, scripts and styles go.
    lxml's C parser is linear on broken markup, unlike html.parser on this Python."""
    if not markup or not markup.strip():
        return ""
    try:
        from lxml import html as lxml_html

        parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
        doc = lxml_html.document_fromstring(markup.encode("utf-8", "replace"), parser=parser)
        for bad in list(doc.iter("script", "style", "head", "title")):
            bad.drop_tree()
        for br in doc.iter("br"):
            br.tail = "\n" + (br.tail or "")
        for el in doc.iter(*_BLOCKS):
            el.tail = "\n" + (el.tail or "")
        for cell in doc.iter("td", "th"):
            cell.tail = "\t" + (cell.tail or "")
        text = doc.text_content()
    except Exception:  # lxml found no document at all (e.g. everything is in a comment)
        import html

        # "[^<>]" keeps each attempt short, so the scan stays linear even with no ">" at all.
        text = html.unescape(re.sub(r"<[^<>]*>", " ", markup))
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in text.splitlines())
    return nfc(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip())


# -- the walk -----------------------------------------------------------------------------------
class _Walker:
    """Collects the body and every file of one message, opening containers within limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.budget = Budget.for_message(limits)
        self.attachments: list[Attachment] = []
        self.problems: list[str] = []
        self.visited: list[email.message.Message] = []
        self.plain: list[str] = []
        self.html: list[str] = []
        self.fallback_body = ""  # a winmail.dat's own body, used when the mail has none
        self._unnamed = 0
        self._active = 0  # walk() calls on the stack
        self.omitted: dict[str, int] = {}  # _omit_oversized_parts' marks -> the file's real size

    # MIME ------------------------------------------------------------------------------------
    def walk(self, part: email.message.Message, path: str, top: bool, zip_depth: int = 0,
             parent: str = "", nesting: int = 0) -> None:
        """zip_depth: zips opened above this part; nesting: containers of any kind above it."""
        if len(self.visited) >= _MAX_PARTS:
            self.problems.append(f"Thư có quá nhiều phần (hơn {_MAX_PARTS}); chỉ đọc các phần đầu.")
            return
        # One bound for MIME nesting and container nesting together keeps the recursion (three
        # frames per container level) far below Python's limit.
        if self._active >= _MAX_MIME_DEPTH:
            self.problems.append("Cấu trúc thư lồng nhau quá sâu; bỏ qua các phần bên trong cùng.")
            return
        self._active += 1
        try:
            self._walk(part, path, top, zip_depth, parent, nesting)
        finally:
            self._active -= 1

    def _walk(self, part: email.message.Message, path: str, top: bool, zip_depth: int,
              parent: str, nesting: int) -> None:
        self.visited.append(part)
        ctype = _content_type(part)
        if ctype in _REPORT_PARTS:
            return
        try:
            payload = part.get_payload()
        except (ValueError, UnicodeError, LookupError):
            # A charset parameter with NUL or undecodable bytes makes email's get_payload() raise
            # (found by fuzzing); the part is then read as an opaque leaf.
            payload = None
        if ctype in _FORWARD_TYPES and isinstance(payload, list):
            if payload and isinstance(payload[0], email.message.Message):
                if _transfer_encoding(part) in ("base64", "quoted-printable"):
                    # Exchange sometimes encodes a forwarded message; email parses the encoded
                    # text as if it were the message, so decode it and read it as an .eml file.
                    data = _encoded_forward(payload[0], _transfer_encoding(part))
                    name = _filename(part) or self._default_name(ctype)
                    self.add_file(name, ctype, data, path, False, zip_depth, nesting)
                else:
                    self._open_forward(payload[0], path, zip_depth, nesting)
            return
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, email.message.Message):
                    self.walk(sub, path, top, zip_depth, ctype, nesting)
            return
        if ctype.startswith("multipart/"):
            ctype = "text/plain"  # a multipart without a usable boundary is read as text (RFC 2046)
        self._leaf(part, ctype, path, top, zip_depth, parent, nesting)

    def _leaf(self, part, ctype: str, path: str, top: bool, zip_depth: int, parent: str,
              nesting: int) -> None:
        disposition = _disposition(part)
        filename = _filename(part)
        if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
            if top:
                text = decode_bytes(_payload_bytes(part), _param(part, "charset"))
                (self.plain if ctype == "text/plain" else self.html).append(text)
            return
        marks = [str(m).strip() for m in (part.get_all(_OMITTED_HEADER) or ()) if str(m).strip() in self.omitted]
        if marks:
            size = self.omitted[marks[-1]]
            self.attachments.append(Attachment(
                filename=safe_filename(filename or self._default_name(ctype)), content_type=ctype, data=b"",
                path=path, inline=False,
                problems=(f"Tệp quá lớn ({size_text(size)}, giới hạn {size_text(self.limits.max_attachment_bytes)}); "
                          "không đọc.",)))
            return
        data = _payload_bytes(part)
        problems = []
        if any(isinstance(d, email.errors.InvalidBase64LengthDefect) for d in part.defects):
            problems.append("Dữ liệu của tệp bị lỗi mã hóa base64; tệp có thể bị hỏng hoặc thiếu.")
        inline = disposition == "inline" or (not disposition and parent == "multipart/related")
        self.add_file(filename or self._default_name(ctype), ctype, data, path, inline,
                      zip_depth, nesting, tuple(problems))

    def _default_name(self, ctype: str) -> str:
        self._unnamed += 1
        if ctype == "application/ms-tnef":
            return "winmail.dat"
        ext = _DEFAULT_EXT.get(ctype) or mimetypes.guess_extension(ctype) or ".bin"
        return f"tep-dinh-kem-{self._unnamed}{ext}"

    # files and containers --------------------------------------------------------------------
    def add_file(self, name: str, ctype: str, data: bytes, path: str, inline: bool,
                 zip_depth: int, nesting: int, problems: tuple[str, ...] = ()) -> None:
        name = safe_filename(name)
        limits = self.limits

        def listed(data: bytes, *more: str) -> None:
            self.attachments.append(Attachment(
                filename=name, content_type=ctype, data=data, path=path, inline=inline,
                problems=tuple(dict.fromkeys(problems + more))))

        if len(data) > limits.max_attachment_bytes:
            return listed(b"", f"Tệp quá lớn ({size_text(len(data))}, giới hạn "
                               f"{size_text(limits.max_attachment_bytes)}); không đọc.")
        kind = sniff(data, name)
        is_mail = kind == "eml" and (name.lower().endswith(".eml") or ctype in _FORWARD_TYPES)
        if kind not in ("zip", "tnef") and not is_mail:
            return listed(data)
        if nesting >= _MAX_CONTAINER_DEPTH:
            return listed(data, "Tệp nằm lồng quá sâu trong các tệp nén/thư chuyển tiếp; không mở.")
        inner_path = f"{path}/{name}" if path else name
        if kind == "eml":
            inner = parse_bytes(data)
            return self.walk(inner, inner_path, top=False, zip_depth=zip_depth, nesting=nesting + 1)
        if kind == "zip":
            if zip_depth >= limits.zip_max_depth:
                return listed(data, f"Tệp nén lồng nhau quá {limits.zip_max_depth} cấp; "
                                    "không mở tệp nén bên trong.")
            opened = containers.open_zip(data, limits, self.budget)
        else:
            opened = containers.open_tnef(data, limits, self.budget)
            if not path and opened.problem is None:
                self.fallback_body = opened.body or html_to_text(opened.body_html)
        if opened.problem is not None:
            return listed(data, opened.problem)
        if not opened.members:
            if kind == "tnef" and not opened.notes:
                return None  # a winmail.dat that only carried the message text: nothing to list
            return listed(data, *opened.notes)
        self.problems.extend(f"{name}: {note}" for note in opened.notes)
        for member in opened.members:
            member_path = f"{inner_path}/{member.folder}" if member.folder else inner_path
            if member.problems:
                self.attachments.append(Attachment(
                    filename=member.filename, content_type=member.content_type, data=member.data,
                    path=member_path, problems=member.problems))
            else:
                self.add_file(member.filename, member.content_type, member.data, member_path,
                              False, zip_depth + (kind == "zip"), nesting + 1)

    def _open_forward(self, inner: email.message.Message, path: str, zip_depth: int,
                      nesting: int) -> None:
        label = forward_label(_single(inner, "subject") or "")
        if nesting >= _MAX_CONTAINER_DEPTH:
            self.problems.append("Thư chuyển tiếp lồng quá sâu; không mở các thư bên trong cùng.")
            return
        self.walk(inner, f"{path}/{label}" if path else label, top=False, zip_depth=zip_depth,
                  nesting=nesting + 1)

    # body ------------------------------------------------------------------------------------
    def body_text(self, max_chars: int) -> str:
        plain = "\n".join(t for t in self.plain if t.strip())
        if plain.strip():
            text = plain
        elif self.html:
            text = "\n".join(html_to_text(t) for t in self.html)
        else:
            text = self.fallback_body
        text = nfc(text.replace("\r\n", "\n").replace("\r", "\n")).strip()
        return text[:max_chars]
