"""Real files and hand-built containers for the message, sniff and container tests.

Office files are written by python-docx/openpyxl (and LibreOffice for .doc/.xls/.odt/.ods, once
per test session). OLE2 and TNEF files that no tool here can write are built by the small
writers below, following [MS-CFB] and [MS-OXTNEF]; the TNEF writer is checked against the
independent tnefparse reader in the tests.
"""
from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

import docx
import openpyxl

from parsers.text import encode_legacy

def cp1258_bytes(text: str) -> bytes:
    """Text as Windows-1258 bytes (tones as combining marks), the way Vietnamese Windows writes it."""
    return encode_legacy(text, "cp1258").encode("cp1252")


TEXT = "BÁO CÁO Kết quả thực hiện công tác dân vận năm 2024 của Ủy ban nhân dân xã Mỹ Hòa"


def docx_bytes(text: str = TEXT) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "Chỉ tiêu"
    book.active["B1"] = 1234
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_macros(ooxml: bytes, part_dir: str, macro_type: str, main_type: str) -> bytes:
    """The same package turned macro-enabled: a vbaProject.bin part and the main part's type."""
    src = zipfile.ZipFile(io.BytesIO(ooxml))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(main_type.encode(), macro_type.encode())
            dst.writestr(info, data)
        dst.writestr(f"{part_dir}/vbaProject.bin", make_ole({"PROJECT": b"ID=x"}))
    return out.getvalue()


def docm_bytes() -> bytes:
    return with_macros(
        docx_bytes(), "word", "application/vnd.ms-word.document.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")


def xlsm_bytes() -> bytes:
    return with_macros(
        xlsx_bytes(), "xl", "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")


def pptx_bytes() -> bytes:
    """A minimal presentation package (no pptx writer is installed): the parts sniff looks at."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Override PartName="/ppt/presentation.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>'
            '</Types>'))
        z.writestr("ppt/presentation.xml", "<p:presentation/>")
    return out.getvalue()


def zip_bytes(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            z.writestr(info, data)
    raw = out.getvalue()
    return raw


def zip_with_raw_names(members: list[tuple[bytes, bytes]]) -> bytes:
    """A stored zip whose member names are the given bytes, without the UTF-8 flag (as Windows
    Explorer or old WinZip write them)."""
    out = io.BytesIO()
    central = b""
    for name, data in members:
        crc = zipfile.crc32(data) & 0xFFFFFFFF
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(data), len(data),
                              len(name), 0) + name + data)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, len(data),
                               len(data), len(name), 0, 0, 0, 0, 0, offset) + name
    start = out.tell()
    out.write(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                          start, 0))
    return out.getvalue()


def encrypted_zip(name: str, data: bytes) -> bytes:
    """A zip whose one member has the "encrypted" flag set (ZipCrypto header + scrambled data);
    zipfile cannot write encrypted members, so the flag is set on a stored member."""
    plain = zip_with_raw_names([(name.encode(), b"\x00" * 12 + data)])
    # flag bit 0 in the local header (offset 6) and in the central header (offset 8)
    buf = bytearray(plain)
    buf[6] |= 1
    central = buf.index(b"PK\x01\x02")
    buf[central + 8] |= 1
    return bytes(buf)


# -- OLE2 compound files ([MS-CFB], version 3) --------------------------------------------------
_FREE, _END, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def make_ole(streams: dict[str, bytes]) -> bytes:
    """A minimal compound file with up to three streams at the root. Streams are padded to 4096
    bytes so they live in regular sectors (no mini stream is needed)."""
    assert 1 <= len(streams) <= 3
    sector = 512
    fat = {0: _FATSECT, 1: _END}  # sector 0: the FAT, sector 1: the directory
    blobs, entries, next_sector = [], [], 2
    for name, content in streams.items():
        content = content.ljust(4096, b"\0")
        count = -(-len(content) // sector)
        for i in range(count):
            fat[next_sector + i] = next_sector + i + 1 if i < count - 1 else _END
        entries.append((name, next_sector, len(content)))
        blobs.append(content.ljust(count * sector, b"\0"))
        next_sector += count
    assert next_sector <= 128

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name.encode("utf-16-le") + b"\0\0") if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1 if kind else 0)
                + struct.pack("<III", _FREE, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
                + struct.pack("<IQ", start, size))

    directory = entry("Root Entry", 5, _FREE, 1, _END, 0)
    for index, (name, start, size) in enumerate(entries, 1):
        right = index + 1 if index < len(entries) else _FREE
        directory += entry(name, 2, right, _FREE, start, size)
    directory = directory.ljust(sector, b"\0")
    # unused directory slots must say "no siblings"
    for slot in range(len(entries) + 1, 4):
        at = slot * 128
        directory = directory[:at] + entry("", 0, _FREE, _FREE, 0, 0) + directory[at + 128:]
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108)
    fat_sector = b"".join(struct.pack("<I", fat.get(i, _FREE)) for i in range(128))
    return header + fat_sector + directory + b"".join(blobs)


# -- TNEF (winmail.dat, [MS-OXTNEF]) -------------------------------------------------------------
def _tnef_attr(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
    return (struct.pack("<BHHI", level, attr_id, attr_type, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))


def _mapi_unicode(prop_id: int, text: str) -> bytes:
    raw = text.encode("utf-16-le") + b"\0\0"
    return struct.pack("<HHII", 0x001F, prop_id, 1, len(raw)) + raw + b"\0" * (-len(raw) % 4)


def _mapi_binary(prop_id: int, data: bytes) -> bytes:
    return struct.pack("<HHII", 0x0102, prop_id, 1, len(data)) + data + b"\0" * (-len(data) % 4)


def make_tnef(files: list[tuple[str, bytes]], *, data_in_props: bool = False,
              body: str | None = None, oem_codepage: int = 1252) -> bytes:
    """A winmail.dat as Outlook writes it: message attributes, then per attachment its rendering
    data, 8.3 title, data, and MAPI properties with the long (Unicode) file name. With
    data_in_props the data travels only as PR_ATTACH_DATA_OBJ, as some Outlook versions do."""
    out = struct.pack("<IH", 0x223E9F78, 0x1234)
    out += _tnef_attr(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += _tnef_attr(1, 0x9007, 0x0006, struct.pack("<II", oem_codepage, 0))  # attOemCodepage
    out += _tnef_attr(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\0")  # attMessageClass
    if body is not None:
        props = struct.pack("<I", 1) + _mapi_unicode(0x1000, body)  # PR_BODY
        out += _tnef_attr(1, 0x9003, 0x0006, props)  # attMsgProps
    for name, data in files:
        out += _tnef_attr(2, 0x9002, 0x0006, struct.pack("<HIIIHI", 1, 0xFFFFFFFF, 0, 0, 0, 0))
        short = "".join(c for c in name if c.isascii())[:12] or "FILE.DAT"
        out += _tnef_attr(2, 0x8010, 0x0001, short.encode("ascii") + b"\0")  # attAttachTitle
        props = [_mapi_unicode(0x3707, name)]  # PR_ATTACH_LONG_FILENAME
        if data_in_props:
            props.append(_mapi_binary(0x3701, data))  # PR_ATTACH_DATA_OBJ
        else:
            out += _tnef_attr(2, 0x800F, 0x0006, data)  # attAttachData
        out += _tnef_attr(2, 0x9005, 0x0006, struct.pack("<I", len(props)) + b"".join(props))
    return out


# -- LibreOffice, once per session ---------------------------------------------------------------
@lru_cache(maxsize=None)
def libreoffice_files() -> dict[str, bytes]:
    """{"doc", "xls", "odt", "ods"}: real legacy/ODF files converted by LibreOffice."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required by the tests"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bc.docx").write_bytes(docx_bytes())
        (work / "bieu.xlsx").write_bytes(xlsx_bytes())
        profile = (work / "profile").as_uri()
        for target, source in (("doc", "bc.docx"), ("odt", "bc.docx"), ("xls", "bieu.xlsx"),
                               ("ods", "bieu.xlsx")):
            subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless",
                            "--convert-to", target, "--outdir", str(work / "out"), str(work / source)],
                           check=True, capture_output=True, timeout=120)
        return {ext: (work / "out" / f"{stem}.{ext}").read_bytes()
                for ext, stem in (("doc", "bc"), ("odt", "bc"), ("xls", "bieu"), ("ods", "bieu"))}
