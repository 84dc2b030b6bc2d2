"""Open the containers a message can carry: zip archives and winmail.dat (TNEF).

Units zip their reports, and Outlook wraps attachments in winmail.dat; what counts is the files
inside. Containers are hostile ground: a zip can be a bomb (a few KB that expand to gigabytes),
name its members "../../etc/passwd", or hold thousands of entries; a TNEF file can declare
counts of billions. Everything here is bounded by the message's Limits and a Budget shared by all
containers of one message, and nothing raises: a container that cannot or must not be opened
comes back with a Vietnamese `problem` saying exactly why.

Forwarded mail (message/rfc822 parts and .eml files) is walked by parsers.message itself, since
it is MIME; this module only names it (forward_label).
"""
from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass

from tnefparse import properties as mapi
from tnefparse.tnef import TNEF

from parsers.model import Limits
from parsers.text import nfc, safe_filename

_MIB = 1024 * 1024
# Below this many uncompressed bytes a high compression ratio is harmless (a small text file of
# spaces compresses 500:1); bombs are only worth refusing when they are big.
RATIO_FLOOR = _MIB
# Files that archivers add on their own and that nobody sent on purpose.
_NOISE_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_NOISE_DIRS = {"__macosx"}

_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".docm": "application/vnd.ms-word.document.macroenabled.12",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroenabled.12",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint", ".pdf": "application/pdf", ".rtf": "application/rtf",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".zip": "application/zip", ".eml": "message/rfc822", ".txt": "text/plain",
    ".htm": "text/html", ".html": "text/html", ".xml": "application/xml", ".csv": "text/csv",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".tif": "image/tiff", ".tiff": "image/tiff", ".dat": "application/ms-tnef",
}
# Windows' OEM code page on a Vietnamese system is 1258; these are the marks Vietnamese uses.
_VIET_MARKS = {0x300, 0x301, 0x303, 0x309, 0x323, 0x302, 0x306, 0x31B}


@dataclass
class Budget:
    """What the containers of one message may still extract (shared, so nesting cannot multiply)."""

    bytes_left: int
    files_left: int

    @classmethod
    def for_message(cls, limits: Limits) -> "Budget":
        return cls(bytes_left=limits.zip_max_total_bytes, files_left=limits.zip_max_files)


@dataclass(frozen=True)
class Member:
    """One file found inside a container."""

    filename: str  # safe, NFC
    folder: str  # safe folders inside the container, "/"-joined; "" at its root
    content_type: str
    data: bytes
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Opened:
    """What opening a container gave: its members, or why it was not opened."""

    members: tuple[Member, ...] = ()
    problem: str | None = None  # set when the container was not opened at all
    notes: tuple[str, ...] = ()  # opened, but something in it is worth saying
    body: str = ""  # a TNEF message's own text body, when it carries one
    body_html: str = ""  # ... or its HTML body


def size_text(n: int) -> str:
    """A size as a Vietnamese reader writes it: "50,0 MB", "12 KB"."""
    if n >= _MIB:
        return f"{n / _MIB:.1f} MB".replace(".", ",")
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} byte"


def guess_type(filename: str) -> str:
    """A content type from a name, for files that come without one (zip and TNEF members)."""
    dot = filename.rfind(".")
    return _TYPES.get(filename[dot:].lower(), "application/octet-stream") if dot >= 0 else \
        "application/octet-stream"


def forward_label(subject: str) -> str:
    """The path component of a forwarded message: "Fwd: <its subject>".

    A slash in a subject ("Số 45/BC-UBND") is shown as U+2215 so that the path stays split on
    "/" only where it changes container, and no consumer can mistake it for a folder.
    """
    text = " ".join(nfc(subject or "").split())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    text = text.replace("/", "\u2215").replace("\\", "\u2215")
    if len(text) > 120:
        text = text[:119] + "…"
    return "Fwd: " + (text or "(không có tiêu đề)")


# -- zip ---------------------------------------------------------------------------------------
def open_zip(data: bytes, limits: Limits, budget: Budget) -> Opened:
    """The files of a zip archive, within limits. Never raises."""
    try:
        return _open_zip(data, limits, budget)
    except Exception as exc:  # a last guard: a container never takes the message down
        return Opened(problem=f"Tệp nén bị hỏng, không mở được ({type(exc).__name__}).")


def _refuse_bomb(ratio: float, limit: int, member: str = "") -> Opened:
    where = f"tệp '{member}' có " if member else ""
    return Opened(problem=(
        f"Tệp nén vượt giới hạn giải nén ({where}tỷ lệ nén {ratio:.0f}:1 > {limit}:1), "
        "có thể là bom nén; không mở."))


def _open_zip(data: bytes, limits: Limits, budget: Budget) -> Opened:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:
        return Opened(problem="Tệp nén bị hỏng hoặc không đúng định dạng ZIP; không mở được.")
    entries = [(info, _raw_parts(info)) for info in infos if not info.is_dir()]
    entries = [(info, [safe_filename(p) for p in parts]) for info, parts in entries
               if parts and not _is_noise(parts)]
    if not entries:
        return Opened(notes=("Tệp nén không chứa tệp nào.",))
    if len(entries) > limits.zip_max_files:
        return Opened(problem=(
            f"Tệp nén chứa {len(entries)} tệp, vượt giới hạn {limits.zip_max_files} tệp; không mở."))
    if len(entries) > budget.files_left:
        return Opened(problem=(
            f"Tổng số tệp trong các tệp nén của thư vượt giới hạn {limits.zip_max_files} tệp; "
            "không mở tệp nén này."))
    total = sum(info.file_size for info, _ in entries)
    # Declared sizes bind: zipfile never returns more than file_size bytes for a member, and a
    # member that lies fails its CRC. So checking them before extracting is a real bound.
    if total > RATIO_FLOOR and total / max(len(data), 1) > limits.zip_max_ratio:
        return _refuse_bomb(total / max(len(data), 1), limits.zip_max_ratio)
    for info, parts in entries:
        if info.file_size > RATIO_FLOOR and info.file_size / max(info.compress_size, 1) > limits.zip_max_ratio:
            return _refuse_bomb(info.file_size / max(info.compress_size, 1), limits.zip_max_ratio,
                                parts[-1])
    if total > min(budget.bytes_left, limits.zip_max_total_bytes):
        return Opened(problem=(
            f"Tệp nén giải nén ra {size_text(total)}, vượt giới hạn "
            f"{size_text(limits.zip_max_total_bytes)} cho mỗi thư; không mở."))
    budget.files_left -= len(entries)
    members = []
    for info, parts in entries:
        members.append(_extract(archive, info, parts, limits, budget))
    return Opened(members=tuple(members))


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, parts: list[str], limits: Limits,
             budget: Budget) -> Member:
    name, folder = parts[-1], "/".join(parts[:-1])

    def failed(problem: str) -> Member:
        return Member(name, folder, guess_type(name), b"", (problem,))

    if info.flag_bits & 0x1:
        return failed("Tệp trong tệp nén được đặt mật khẩu nên không mở được; đề nghị đơn vị gửi lại "
                      "bản không đặt mật khẩu.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2/LZMA decompress without an output bound in zipfile; deflate64 is unsupported.
        return failed(f"Tệp được nén bằng phương thức không hỗ trợ (mã {info.compress_type}); "
                      "không giải nén được.")
    if info.file_size > limits.max_attachment_bytes:
        return failed(f"Tệp quá lớn ({size_text(info.file_size)}, giới hạn "
                      f"{size_text(limits.max_attachment_bytes)}); không đọc.")
    try:
        with archive.open(info) as stream:
            data = stream.read(info.file_size)
    except zipfile.BadZipFile:
        return failed("Tệp trong tệp nén bị hỏng (sai mã kiểm tra); không giải nén được.")
    except Exception as exc:
        return failed(f"Tệp trong tệp nén bị hỏng, không giải nén được ({type(exc).__name__}).")
    budget.bytes_left -= len(data)
    return Member(name, folder, guess_type(name), data)


def _is_noise(parts: list[str]) -> bool:
    return parts[-1].lower() in _NOISE_NAMES or any(p.lower() in _NOISE_DIRS for p in parts)


def member_path(info: zipfile.ZipInfo) -> list[str]:
    """A member's path as safe components: decoded, NFC, no "", ".", "..", drive or separator."""
    return [safe_filename(p) for p in _raw_parts(info)]


def _raw_parts(info: zipfile.ZipInfo) -> list[str]:
    name = decode_member_name(info)
    parts = [p for p in re.split(r"[\\/]+", name) if p.strip() not in ("", ".", "..")]
    if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):
        parts = parts[1:]
    return parts


def decode_member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its sender saw it.

    The UTF-8 flag (0x800) is trusted; then the Info-ZIP Unicode Path field; else the raw bytes
    are UTF-8 (many tools write it without the flag), Windows-1258 (Explorer on a Vietnamese
    Windows writes the OEM code page, 1258) when that reads as Vietnamese, else cp437 (the
    format's default).
    """
    if info.flag_bits & 0x800:
        return nfc(info.orig_filename)
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:  # zipfile was told another metadata encoding
        return nfc(info.orig_filename)
    unicode_path = _unicode_path_field(info.extra, raw)
    if unicode_path is not None:
        return nfc(unicode_path)
    return decode_legacy_name(raw)


def decode_legacy_name(raw: bytes) -> str:
    """8-bit file-name bytes -> text: UTF-8, else Windows-1258 if it reads as Vietnamese, else cp437."""
    try:
        return nfc(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        vietnamese = nfc(raw.decode("cp1258"))
        if looks_vietnamese(vietnamese):
            return vietnamese
    except UnicodeDecodeError:
        pass
    return nfc(raw.decode("cp437", "replace"))


def looks_vietnamese(text: str) -> bool:
    """True when every non-ASCII letter is a Latin letter with Vietnamese marks (or đ)."""
    seen = False
    for ch in text:
        if ord(ch) < 0x80:
            continue
        if ch in "đĐ":
            seen = True
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        if not (base.isascii() and base.isalpha()) or not marks:
            return False
        if any(ord(m) not in _VIET_MARKS for m in marks):
            return False
        seen = True
    return seen


def _unicode_path_field(extra: bytes, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075), when present and matching the raw name."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4: pos + 4 + size]
        pos += 4 + size
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            if struct.unpack_from("<I", body, 1)[0] == zipfile.crc32(raw) & 0xFFFFFFFF:
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


# -- winmail.dat (TNEF) ------------------------------------------------------------------------
# The attribute and property ids come from tnefparse. Its decoder itself is not used on
# untrusted input: in 1.4.0 it strips trailing NUL bytes from binary attachment data (which
# corrupts .doc files), raises on a file without an OEM code page, and loops over a declared
# property count without bounding it by the data. The framing below is small and bounded.
_TNEF_SIGNATURE = struct.pack("<I", TNEF.TNEF_SIGNATURE)
_IMESSAGE_SIG = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
_MAX_TNEF_OBJECTS = 100_000
_FIXED_SIZES = {0x2: 2, 0xB: 2, 0x3: 4, 0x4: 4, 0xA: 4, 0x5: 8, 0x6: 8, 0x7: 8, 0x14: 8,
                0x40: 8, 0x48: 16, 0x1: 0}
_VARIABLE = {0x0, 0x1E, 0x1F, 0xD, 0x102}


def open_tnef(data: bytes, limits: Limits, budget: Budget | None = None) -> Opened:
    """The attachments (and text body) of a winmail.dat. Never raises. Its files count against
    the same per-message file budget as zip members."""
    budget = budget or Budget.for_message(limits)
    try:
        return _open_tnef(data, limits, budget)
    except Exception as exc:
        return Opened(problem=f"Tệp winmail.dat bị hỏng, không đọc được ({type(exc).__name__}).")


def _open_tnef(data: bytes, limits: Limits, budget: Budget) -> Opened:
    if data[:4] != _TNEF_SIGNATURE:
        return Opened(problem="Tệp winmail.dat không đúng định dạng TNEF; không đọc được.")
    pos, count, codepage = 6, 0, "cp1252"
    found: list[dict] = []
    current: dict | None = None
    body_text, body_html, html_cp = "", b"", None
    notes: list[str] = []
    while pos + 9 <= len(data):
        level = data[pos]
        attr_id, _attr_type, length = struct.unpack_from("<HHI", data, pos + 1)
        start, end = pos + 9, pos + 9 + length
        if end + 2 > len(data):
            notes.append("Tệp winmail.dat bị cắt cụt; chỉ đọc được phần đầu.")
            break
        value = data[start:end]
        pos = end + 2
        count += 1
        if count > _MAX_TNEF_OBJECTS:
            notes.append("Tệp winmail.dat có quá nhiều mục; chỉ đọc phần đầu.")
            break
        if level == TNEF.LVL_ATTACHMENT:
            if attr_id == TNEF.ATTATTACHRENDDATA:
                current = {}
                found.append(current)
            elif current is None:
                continue
            elif attr_id == TNEF.ATTATTACHTITLE:
                current["title"] = value
            elif attr_id == TNEF.ATTATTACHDATA:
                current["data"] = value
            elif attr_id == TNEF.ATTATTACHMENT:
                current["props"] = _mapi_props(value)
        elif attr_id == TNEF.ATTOEMCODEPAGE and len(value) >= 4:
            codepage = _python_codepage(struct.unpack_from("<I", value)[0]) or codepage
        elif attr_id == TNEF.ATTBODY:
            body_text = _decode_8bit(value, codepage)
        elif attr_id == TNEF.ATTMAPIPROPS:
            props = _mapi_props(value)
            if mapi.MAPI_BODY in props:
                body_text = _prop_text(props[mapi.MAPI_BODY], codepage)
            if mapi.MAPI_BODY_HTML in props:
                body_html = _prop_bytes(props[mapi.MAPI_BODY_HTML])
            if mapi.MAPI_INTERNET_CODEPAGE in props:
                raw = _prop_bytes(props[mapi.MAPI_INTERNET_CODEPAGE])
                html_cp = _python_codepage(struct.unpack_from("<I", raw)[0]) if len(raw) >= 4 else None
    members = [_tnef_member(att, index, codepage, limits) for index, att in enumerate(found, 1)]
    members = [m for m in members if m is not None]
    if len(members) > min(limits.zip_max_files, budget.files_left):
        return Opened(problem=(
            f"Tệp winmail.dat chứa {len(members)} tệp, vượt giới hạn {limits.zip_max_files} tệp "
            "của một thư; không mở."))
    budget.files_left -= len(members)
    return Opened(members=tuple(members), notes=tuple(notes),
                  body=body_text.replace("\x00", ""),
                  body_html=_decode_8bit(body_html, html_cp or "utf-8") if body_html else "")


def _tnef_member(att: dict, index: int, codepage: str, limits: Limits) -> Member | None:
    props = att.get("props", {})
    name = ""
    for prop_id in (mapi.MAPI_ATTACH_LONG_FILENAME, mapi.MAPI_DISPLAY_NAME):
        if prop_id in props and not name:
            name = _prop_text(props[prop_id], codepage)
    if not name and "title" in att:
        name = _decode_8bit(att["title"], codepage)
    data = att.get("data")
    if data is None and mapi.MAPI_ATTACH_DATA_OBJ in props:
        data = _prop_bytes(props[mapi.MAPI_ATTACH_DATA_OBJ])
        if data.startswith(_IMESSAGE_SIG):  # an attached Outlook item: its own TNEF stream
            data = data[len(_IMESSAGE_SIG):]
            name = name or f"thu-dinh-kem-{index}.dat"
    if data is None:
        return None  # a rendering-only entry (an OLE picture placeholder), not a file
    name = safe_filename(name.replace("\x00", "").strip(), default=f"tep-dinh-kem-{index}")
    content_type = ""
    if mapi.MAPI_ATTACH_MIME_TAG in props:
        content_type = _prop_text(props[mapi.MAPI_ATTACH_MIME_TAG], codepage).strip().lower()
    content_type = content_type if "/" in content_type else guess_type(name)
    if len(data) > limits.max_attachment_bytes:
        return Member(name, "", content_type, b"", (
            f"Tệp quá lớn ({size_text(len(data))}, giới hạn {size_text(limits.max_attachment_bytes)}); "
            "không đọc.",))
    return Member(name, "", content_type, bytes(data))


def _python_codepage(number: int) -> str | None:
    name = {65001: "utf-8", 20127: "ascii", 28591: "latin-1", 1200: "utf-16-le"}.get(number)
    name = name or f"cp{number}"
    try:
        "".encode(name)
        return name
    except LookupError:
        return None


def _decode_8bit(raw: bytes, codepage: str) -> str:
    raw = raw.rstrip(b"\x00")
    for encoding in ("utf-8", codepage):
        try:
            return nfc(raw.decode(encoding))
        except (UnicodeDecodeError, LookupError):
            continue
    return nfc(raw.decode("cp1258", "replace"))


def _prop_bytes(prop: tuple[int, list[bytes]]) -> bytes:
    return b"".join(prop[1])


def _prop_text(prop: tuple[int, list[bytes]], codepage: str) -> str:
    ptype, values = prop
    raw = b"".join(values)
    if ptype == 0x1F:
        return nfc(raw.decode("utf-16-le", "replace").split("\x00", 1)[0])
    return _decode_8bit(raw.split(b"\x00", 1)[0], codepage)


def _mapi_props(blob: bytes) -> dict[int, tuple[int, list[bytes]]]:
    """MAPI properties of one TNEF attribute: {id: (type, [exact values])}.

    Every declared count is checked against the bytes left, so a crafted count cannot make this
    loop longer than the data; a malformed tail ends the walk and keeps what came before.
    """
    out: dict[int, tuple[int, list[bytes]]] = {}
    size = len(blob)
    if size < 4:
        return out
    (count,), pos = struct.unpack_from("<I", blob, 0), 4
    if count > size // 4:
        return out
    for _ in range(count):
        if pos + 4 > size:
            break
        ptype, pid = struct.unpack_from("<HH", blob, pos)
        pos += 4
        if pid >= 0x8000:  # a named property: GUID, then a number or a name
            if pos + 20 > size:
                break
            kind = struct.unpack_from("<I", blob, pos + 16)[0]
            pos += 20
            if kind == 0:
                pos += 4
            else:
                if pos + 4 > size:
                    break
                name_len = struct.unpack_from("<I", blob, pos)[0]
                pos += 4 + name_len + (-name_len % 4)
        multi = bool(ptype & 0x1000)
        ptype &= ~0x1000
        values_count = 1
        if multi or ptype in _VARIABLE:
            if pos + 4 > size:
                break
            values_count = struct.unpack_from("<I", blob, pos)[0]
            pos += 4
            if values_count > (size - pos) // 2 + 1:
                break
        values: list[bytes] = []
        if ptype in _FIXED_SIZES:
            width = _FIXED_SIZES[ptype]
            for _ in range(values_count):
                values.append(blob[pos:pos + width])
                pos += width
            if width == 2 and values_count % 2:
                pos += 2  # 16-bit values are padded to four bytes
        elif ptype in _VARIABLE:
            for _ in range(values_count):
                if pos + 4 > size:
                    break
                length = struct.unpack_from("<I", blob, pos)[0]
                pos += 4
                if length > size - pos:
                    return out
                values.append(blob[pos:pos + length])
                pos += length + (-length % 4)
        else:
            break  # an unknown type: its size is unknown, so nothing after it can be trusted
        if pos > size:
            break
        out[pid] = (ptype, values)
    return out
