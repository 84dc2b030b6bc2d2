"""Tell a file's kind from its bytes.

Units rename files freely (a ".doc" that Word saved as HTML or RTF, a ".docx" that is really a
zip of scans), so every reader dispatches on what the bytes are; the file name only breaks ties
when the bytes alone cannot decide. Sniffing never raises and looks at a bounded amount of data:
at most one small zip member is decompressed, and only a prefix of it is read.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib

import olefile

KINDS = (
    "empty", "pdf", "docx", "docm", "xlsx", "xlsm", "pptx", "odt", "ods", "odp", "zip",
    "doc", "xls", "ppt", "ole", "encrypted-office", "rtf", "html", "xml", "eml", "tnef",
    "png", "jpeg", "tiff", "gif", "txt", "unknown",
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TNEF_MAGIC = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_HEAD = 4096  # bytes looked at for markup and header signatures
_TEXT_PROBE = 64 * 1024  # bytes looked at to decide "is this text"
_MEMBER_PROBE = 256 * 1024  # at most this much of one zip member is decompressed

# Main-part content types in [Content_Types].xml -> kind (templates and shows count as the family).
_OOXML_TYPES = (
    ("application/vnd.ms-word.document.macroenabled.main+xml", "docm"),
    ("application/vnd.ms-word.template.macroenabledtemplate.main+xml", "docm"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "docx"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml", "docx"),
    ("application/vnd.ms-excel.sheet.macroenabled.main+xml", "xlsm"),
    ("application/vnd.ms-excel.template.macroenabled.main+xml", "xlsm"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xlsx"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml", "xlsx"),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", "pptx"),
    ("application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml", "pptx"),
    ("application/vnd.ms-powerpoint.presentation.macroenabled.main+xml", "pptx"),
)
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
# Extension -> kind, used only to break ties (a corrupt container, an ambiguous text).
_EXT_KINDS = {
    "docx": "docx", "docm": "docm", "dotx": "docx", "xlsx": "xlsx", "xlsm": "xlsm",
    "pptx": "pptx", "odt": "odt", "ods": "ods", "odp": "odp", "zip": "zip",
    "doc": "doc", "dot": "doc", "xls": "xls", "xlt": "xls", "ppt": "ppt",
    "eml": "eml", "html": "html", "htm": "html", "xml": "xml", "rtf": "rtf",
}

# The start of an RFC 5322 message: a run of "Name: value" lines (folded lines allowed).
_HEADER_LINE = re.compile(rb"[!-9;-~]{1,76}:[ \t]?[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*")
_MAIL_HEADERS = {
    b"received", b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
    b"return-path", b"delivered-to", b"content-type", b"reply-to", b"cc", b"sender",
    b"x-mailer", b"dkim-signature", b"authentication-results", b"thread-topic",
}
_HTML_START = re.compile(
    rb"^(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|table|div|p|style)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)


def sniff(data: bytes, filename: str = "") -> str:
    """The kind of a file from its bytes (one of KINDS); the name only breaks ties. Never raises."""
    try:
        return _sniff(bytes(data or b""), filename or "")
    except Exception:  # a sniffer must never take a message down with it
        return "unknown"


def _ext(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _sniff(data: bytes, filename: str) -> str:
    if not data.strip():
        return "empty"
    ext = _ext(filename)
    head = data[:_HEAD]
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(data, ext)
    if head.startswith(_ZIP_MAGICS):
        return _sniff_zip(data, ext)
    if head.startswith(_TNEF_MAGIC):
        return "tnef"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    # Acrobat accepts junk before the signature within the first kilobyte; so do we.
    if b"%PDF-" in data[:1024]:
        return "pdf"
    text_head = _text_head(head)
    if text_head is not None:
        kind = _sniff_markup(text_head, ext)
        if kind:
            return kind
        if _looks_like_text(data[:_TEXT_PROBE]):
            return "txt"
    return "unknown"


def _sniff_ole(data: bytes, ext: str) -> str:
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:
        # A damaged compound file: trust the name for the family, never claim more.
        return {"doc": "doc", "xls": "xls", "ppt": "ppt"}.get(_EXT_KINDS.get(ext, ""), "ole")
    try:
        names = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
    except Exception:
        names = set()
    finally:
        ole.close()
    if "encryptedpackage" in names:
        return "encrypted-office"
    if "worddocument" in names:
        return "doc"
    if "workbook" in names or "book" in names:
        return "xls"
    if "powerpoint document" in names:
        return "ppt"
    return "ole"


def _sniff_zip(data: bytes, ext: str) -> str:
    kind = _sniff_first_member(data)
    if kind:
        return kind
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except Exception:
        return _sniff_broken_zip(data, ext)
    lower = {n.lower(): n for n in names}
    if "mimetype" in lower:
        mimetype = _read_member(archive, lower["mimetype"], 200).strip().decode("ascii", "replace")
        if mimetype in _ODF_TYPES:
            return _ODF_TYPES[mimetype]
    if "[content_types].xml" in lower:
        types = _read_member(archive, lower["[content_types].xml"], _MEMBER_PROBE).lower()
        for content_type, kind in _OOXML_TYPES:
            if content_type.encode() in types:
                return kind
    return _kind_from_part_names(set(lower)) or "zip"


def _sniff_first_member(data: bytes) -> str | None:
    """The kind from the zip's first member when it names it, without reading the directory.

    Word, Excel, LibreOffice and python-docx write [Content_Types].xml (OOXML) or an uncompressed
    "mimetype" (ODF) first; reading it from its local header ([APPNOTE] 4.3.7) spares building
    the whole central directory, which the reader then does once. None: ask the directory.
    """
    if len(data) < 30 or data[:4] != b"PK\x03\x04":
        return None
    flags, method = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    size = int.from_bytes(data[18:22], "little")
    name_len, extra_len = int.from_bytes(data[26:28], "little"), int.from_bytes(data[28:30], "little")
    name = data[30:30 + name_len]
    start = 30 + name_len + extra_len
    if flags & 0x1 or name not in (b"[Content_Types].xml", b"mimetype"):
        return None
    try:
        if method == zipfile.ZIP_STORED and not flags & 0x8:
            content = data[start:start + min(size, _MEMBER_PROBE)]
        elif method == zipfile.ZIP_DEFLATED:
            # The compressed size may be 0 here (bit 3: sizes follow the data); inflate what
            # comes, up to the probe's length of output.
            window = data[start:start + (size if size and not flags & 0x8 else _MEMBER_PROBE)]
            content = zlib.decompressobj(-15).decompress(window, _MEMBER_PROBE)
        else:
            return None
    except zlib.error:
        return None
    if name == b"mimetype":
        return _ODF_TYPES.get(content.strip().decode("ascii", "replace"))
    types = content.lower()
    for content_type, kind in _OOXML_TYPES:
        if content_type.encode() in types:
            return kind
    return None


def _kind_from_part_names(names: set[str]) -> str | None:
    if "word/document.xml" in names:
        return "docm" if "word/vbaproject.bin" in names else "docx"
    if "xl/workbook.xml" in names:
        return "xlsm" if "xl/vbaproject.bin" in names else "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    return None


def _sniff_broken_zip(data: bytes, ext: str) -> str:
    """A zip whose central directory cannot be read (truncated): guess from the part names."""
    probe = data[: 1024 * 1024]
    for marker, kind in ((b"word/document.xml", "docx"), (b"xl/workbook.xml", "xlsx"),
                         (b"ppt/presentation.xml", "pptx")):
        if marker in probe:
            return kind
    if _EXT_KINDS.get(ext) in {"docx", "docm", "xlsx", "xlsm", "pptx", "odt", "ods", "odp"}:
        return _EXT_KINDS[ext]
    return "zip"


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        with archive.open(name) as member:
            return member.read(limit)
    except Exception:  # encrypted, unsupported compression, corrupt: no answer from this member
        return b""


def _text_encoding(head: bytes) -> str | None:
    """How the start of the file reads as text; None when it is clearly binary."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # UTF-16 without a BOM, as some Windows tools write it: most high bytes are zero (ASCII and
    # Latin-1 letters), Vietnamese letters have 0x1E there; low bytes are almost never zero.
    even, odd = head[0::2], head[1::2]
    if len(head) >= 8 and odd.count(0) > 0.5 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if len(head) >= 8 and even.count(0) > 0.5 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None if b"\x00" in head else "8bit"


def _text_head(head: bytes) -> str | None:
    encoding = _text_encoding(head)
    if encoding is None:
        return None
    if encoding == "8bit":
        return head.decode("latin-1")  # markup checks only need ASCII to survive
    if encoding.startswith("utf-16"):
        head = head[: len(head) // 2 * 2]
    return head.decode(encoding, "replace").lstrip("\ufeff")


def _sniff_markup(text: str, ext: str) -> str | None:
    """RTF, HTML, XML or a mail message, from the start of the file decoded as text."""
    stripped = text.lstrip(" \t\r\n\ufeff\x00")
    lowered = stripped[:2048].lower()
    if lowered.startswith("{\\rtf"):
        return "rtf"
    encoded = stripped.encode("latin-1", "replace")  # the patterns below are ASCII
    if _HTML_START.match(encoded):
        return "html"
    if lowered.startswith("<?xml"):
        # XHTML, and Word's "Web page" saves with an XML prolog, are HTML to a reader.
        if re.search(r"<html[\s>]", lowered[:2048]) and "<?mso-application" not in lowered:
            return "html"
        return "xml"
    if lowered.startswith("<") and re.search(r"<html[\s>]", lowered):
        return "html"
    if _looks_like_mail(encoded):
        return "eml"
    if ext in {"html", "htm"} and "<" in lowered and ">" in lowered:
        return "html"
    return None


def _looks_like_mail(head: bytes) -> bool:
    """At least two header lines at the very start, one of them a header that mail always has."""
    pos, count, known = 0, 0, False
    if head.startswith(b"From ") and b"\n" in head:  # an mbox "From " separator line
        pos = head.index(b"\n") + 1
    while count < 40:
        match = _HEADER_LINE.match(head, pos)
        if not match:
            break
        name = head[pos: head.index(b":", pos)].lower()
        known = known or name in _MAIL_HEADERS
        count += 1
        pos = match.end()
    return count >= 2 and known


def _looks_like_text(probe: bytes) -> bool:
    """UTF-8, UTF-16, or mostly printable cp1252 (legacy TCVN3/VNI text is 8-bit)."""
    encoding = _text_encoding(probe[:_HEAD])
    if encoding is None:
        return False
    if encoding.startswith("utf-16"):
        try:
            decoded = probe[: len(probe) // 2 * 2].decode(encoding, "strict")
        except UnicodeDecodeError:
            return False
        return _mostly_printable(decoded)
    try:
        decoded = probe.decode("utf-8-sig", "strict")
    except UnicodeDecodeError as exc:
        if exc.start >= len(probe) - 3:  # the probe cut a multi-byte character: still UTF-8
            decoded = probe[: exc.start].decode("utf-8-sig", "replace")
        else:
            decoded = probe.decode("cp1252", "replace")
    return _mostly_printable(decoded)


def _mostly_printable(text: str) -> bool:
    if not text:
        return False
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n\f\v") or ch == "\ufffd")
    return bad <= 0.05 * len(text)
