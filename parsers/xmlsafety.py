"""Checks that an OOXML/ODF zip is safe to hand to python-docx, openpyxl or lxml.

Two attacks matter for files that strangers email us:
- XML entity tricks: "billion laughs" (nested entities that expand to gigabytes) and external
  entities (a SYSTEM entity that reads a local file or a URL). Office never writes a DOCTYPE in a
  package part, so any DOCTYPE is refused outright; defusedxml then confirms what it declares so
  the message can say why.
- Zip bombs: member sizes and compression ratios are checked from the central directory. Reading a
  member never yields more than its declared size (zipfile stops there and checks the CRC), so the
  declared sizes are a real bound.

Only the prolog of each XML part is read (a DOCTYPE must come before the root element), so the
check costs a few kilobytes per part, not a second parse. A reader that parses only a few parts
itself (the .docx reader) may instead check each part as it reads it (read_checked): a part
that is never parsed cannot harm us, and inflating the head of every part was a fifth of the
cost of reading a typical report.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from parsers.model import Limits

ENTITY_PROBLEM = (
    "Tệp có cấu trúc XML nguy hiểm (thực thể XML), có thể là tệp độc hại; hệ thống không mở tệp này."
    " Đề nghị đơn vị lưu lại tệp bằng Word/Excel rồi gửi lại."
)
DOCTYPE_PROBLEM = (
    "Tệp có cấu trúc XML bất thường (khai báo DOCTYPE), có thể là tệp độc hại; hệ thống không mở tệp này."
)
PROLOG_PROBLEM = "Tệp có phần XML bất thường (không tìm thấy nội dung chính), hệ thống không mở tệp này."
CORRUPT_ZIP_PROBLEM = "Tệp bị hỏng (cấu trúc nén không hợp lệ), không đọc được; đề nghị đơn vị gửi lại."

# An office package can hold many parts (one per image, sheet, slide); this bounds the directory.
MAX_PARTS = 10_000
# Ratios are only judged on large members: small XML parts legitimately compress 100x and more.
RATIO_MIN_BYTES = 5 * 1024 * 1024
PROLOG_WINDOW = 64 * 1024

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_PROLOG_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)


# What zipfile raises for damaged archives, beyond BadZipFile: corrupt deflate data (zlib.error),
# unknown methods or versions (NotImplementedError), truncation (EOFError), bad offsets
# (ValueError, OSError), undecodable member names (UnicodeDecodeError).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError,
              UnicodeDecodeError, KeyError)


class UnsafePackage(Exception):
    """The package must not be parsed; str(error) is the Vietnamese problem."""


@dataclass(frozen=True)
class PackageInfo:
    names: tuple[str, ...]
    total_size: int


def _prolog_bytes(raw: bytes) -> bytes:
    """The start of an XML part as ASCII-compatible bytes (UTF-16 parts are transcoded)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        enc = "utf-16-le" if raw.startswith(b"\xff\xfe") or raw[:1] == b"<" else "utf-16-be"
        body = raw[2:] if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw
        return body.decode(enc, "replace").encode("utf-8", "replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:]
    return raw


def check_xml_prolog(raw: bytes, complete: bool = True) -> str | None:
    """None when the XML text starts its root element without a DOCTYPE; else a problem.

    `complete` says whether `raw` is the whole part (then a part of only comments is fine).
    """
    data = _prolog_bytes(raw)
    pos = 0
    while True:
        m = _PROLOG_SKIP.match(data, pos)
        if not m:
            break
        pos = m.end()
    rest = data[pos:].lstrip()
    if not rest:
        return None if complete else PROLOG_PROBLEM
    if rest[:9].upper() == b"<!DOCTYPE":
        return classify_doctype(data)
    if rest[:4] == b"<!--" or rest[:2] == b"<?":
        # An unterminated comment or PI: broken XML when complete, else the window ran out.
        return None if complete else PROLOG_PROBLEM
    if rest[:2] == b"<!":
        return classify_doctype(data)
    if rest[:1] == b"<":
        return None
    # Text before the root element: not XML an office program wrote; the parser will say so.
    return None


def classify_doctype(data: bytes) -> str:
    """Which problem a DOCTYPE-bearing part deserves; defusedxml names the forbidden construct."""
    from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import fromstring

    if re.search(rb"<!ENTITY", data, re.I):
        return ENTITY_PROBLEM
    try:
        fromstring(data[:PROLOG_WINDOW], forbid_dtd=True)
    except (EntitiesForbidden, ExternalReferenceForbidden):
        return ENTITY_PROBLEM
    except DTDForbidden:
        return DOCTYPE_PROBLEM
    except Exception:  # truncated window or broken XML: still a DOCTYPE we will not parse
        return DOCTYPE_PROBLEM
    return DOCTYPE_PROBLEM


def open_package(data: bytes, limits: Limits = Limits(), *,
                 xml_heads: bool = True) -> tuple[zipfile.ZipFile, PackageInfo]:
    """An OOXML/ODF package opened and checked (check_package). Raises UnsafePackage with the
    problem for people, a corrupt zip included; the caller closes the ZipFile it gets.
    xml_heads=False leaves the DOCTYPE check to the caller, which then reads every part it
    parses through read_checked()."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as exc:
        raise UnsafePackage(CORRUPT_ZIP_PROBLEM) from exc
    try:
        return zf, check_package(zf, limits, xml_heads=xml_heads)
    except BaseException:
        zf.close()
        raise


def read_checked(zf: zipfile.ZipFile, name: str) -> bytes:
    """A part's bytes, for a reader that opened its package with xml_heads=False: UnsafePackage
    when the part declares a DOCTYPE (the same problems check_package gives)."""
    raw = _read_member(zf, name)
    problem = check_xml_prolog(raw[:PROLOG_WINDOW], complete=len(raw) <= PROLOG_WINDOW)
    if problem:
        raise UnsafePackage(problem)
    return raw


def check_package(zf: zipfile.ZipFile, limits: Limits = Limits(), *, xml_heads: bool = True) -> PackageInfo:
    """Raise UnsafePackage when the zip is a bomb or (xml_heads) any XML part declares a DOCTYPE."""
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise UnsafePackage(f"Tệp có quá nhiều thành phần ({len(infos)}), có thể là tệp độc hại; không mở.")
    total = 0
    for info in infos:
        total += info.file_size
        if total > limits.zip_max_total_bytes:
            raise UnsafePackage(
                "Tệp khi giải nén quá lớn (vượt giới hạn "
                f"{limits.zip_max_total_bytes // (1024 * 1024)} MB), có thể là tệp độc hại; không mở."
            )
        if info.file_size >= RATIO_MIN_BYTES and info.file_size > limits.zip_max_ratio * max(info.compress_size, 1):
            raise UnsafePackage("Tệp có tỉ lệ nén bất thường (nghi là bom nén), hệ thống không mở tệp này.")
    for info in infos if xml_heads else ():
        # not info.is_dir(): it raises IndexError on an empty member name (scripts/fuzz_atheris.py)
        if not info.filename.lower().endswith(_XML_SUFFIXES):
            continue
        head = _member_head(zf, info, 2048)
        if head is not None:
            problem = check_xml_prolog(head, complete=len(head) < 2048 and len(head) >= info.file_size)
            if problem != PROLOG_PROBLEM:
                if problem:
                    raise UnsafePackage(problem)
                continue
        try:
            with zf.open(info) as fh:
                # Most prologs end within the first few hundred bytes; read more only if not.
                head = fh.read(2048)
                problem = check_xml_prolog(head, complete=len(head) < 2048)
                if problem == PROLOG_PROBLEM:
                    head += fh.read(PROLOG_WINDOW - len(head))
                    problem = check_xml_prolog(head, complete=len(head) < PROLOG_WINDOW)
        except (*ZIP_ERRORS, RuntimeError) as exc:
            raise UnsafePackage(CORRUPT_ZIP_PROBLEM) from exc
        if problem:
            raise UnsafePackage(problem)
    return PackageInfo(tuple(i.filename for i in infos), total)


def _member_start(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int | None:
    """Where a stored or deflated member's data begins, from its local header ([APPNOTE]
    4.3.7); None (use zipfile) for encrypted members, other methods or a header that is off."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    fp = zf.fp
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len


def _member_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> bytes | None:
    """The first `size` bytes of a stored or deflated member, inflating only what is needed.

    zipfile.open() sets up a full reader per member, which costs more than the check itself for
    the dozen small parts of a typical document; this inflates one compressed chunk. None (use
    zipfile) for encrypted or other methods.
    """
    try:
        start = _member_start(zf, info)
        if start is None:
            return None
        fp = zf.fp
        fp.seek(start)
        if info.compress_type == zipfile.ZIP_STORED:
            return fp.read(min(size, info.file_size))
        chunk = fp.read(min(info.compress_size, 4 * size + 1024))
        return zlib.decompressobj(-15).decompress(chunk, size)
    except (OSError, ValueError, zlib.error, AttributeError):
        return None


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    """zf.read(name) for the common case, without zipfile's per-member reader (a third of the
    cost of reading a small part). The same guarantees: never more than the declared size, the
    CRC checked; anything irregular is left to zf.read, which raises what it raises."""
    info = zf.getinfo(name)
    try:
        start = _member_start(zf, info)
        if start is not None:
            fp = zf.fp
            fp.seek(start)
            raw = fp.read(info.compress_size)
            if info.compress_type == zipfile.ZIP_DEFLATED:
                inflater = zlib.decompressobj(-15)
                raw = inflater.decompress(raw, info.file_size)
                if not inflater.eof:
                    raw = b""  # longer than declared, or cut short: zipfile says which
            if len(raw) == info.file_size and zlib.crc32(raw) == info.CRC:
                return raw
    except (OSError, ValueError, zlib.error, AttributeError):
        pass
    return zf.read(info)


def safe_xml_parser():
    """An lxml parser that never loads DTDs, resolves entities or touches the network."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)
