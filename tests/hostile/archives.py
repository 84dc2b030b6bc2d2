"""Hostile zip files: ratio and nested bombs, a bomb whose entries overlap, names that climb out of
the folder, and damaged archives. Built in memory with zipfile (streaming writes, so a 100 MB
member never sits in this process's memory), or byte by byte where zipfile refuses to write one."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib


def ratio_bomb(megabytes: int = 200, name: str = "bao-cao.docx") -> bytes:
    """One member of `megabytes` MB of zeros: about 1000:1, 200 KB on the wire."""
    out = io.BytesIO()
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w") as zf:
        with zf.open(info, "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(megabytes):
                fh.write(chunk)
    return out.getvalue()


def nested_bomb(report: bytes, depth: int = 5, copies: int = 16) -> bytes:
    """42.zip's shape: at the bottom 10 MB of zeros, at each level `copies` copies of the level
    below (identical, so they compress against each other): 16 ** 5 x 10 MB = 10 TB unpacked from
    a few tens of KB. The report sits at the top, beside the bomb, and must still be read."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("rong.bin", b"\0" * (10 << 20))
    level = out.getvalue()
    for k in range(depth):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for c in range(copies):
                zf.writestr(f"lop-{k}-{c}.zip", level)
            if k == depth - 1:
                zf.writestr("Bao cao dan van 2024.docx", report)
        level = out.getvalue()
    return level


def overlapping_bomb(entries: int = 150, kernel_mb: int = 2) -> bytes:
    """Fifield's non-recursive idea: one compressed kernel, many central directory entries that
    all point at it (same name, same local header): `entries` x `kernel_mb` MB declared, from a
    few KB. zipfile cannot write this; the format is [APPNOTE] 4.3."""
    data = b"\0" * (kernel_mb << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    crc, name = zlib.crc32(data), b"bao-cao.docx"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), len(data), len(name), 0) + name
    central = b""
    for _ in range(entries):
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(body), len(data),
                               len(name), 0, 0, 0, 0, 0, 0) + name
    start = len(local) + len(body)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(central), start, 0)
    return local + body + central + end


def traversal(report: bytes) -> bytes:
    """Member names that would climb out of an extraction folder, or name an absolute path, with
    forward and back slashes; the report is real, so it must still be read."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")
        zf.writestr("/etc/cron.d/tonghop", b"* * * * * root rm -rf /\n")
        zf.writestr("..\\..\\Windows\\System32\\bao-cao.docx", report)
        zf.writestr("C:\\Users\\Public\\..\\..\\ke-hoach.txt", "Kế hoạch".encode())
    return out.getvalue()


def truncated(data: bytes) -> bytes:
    """The first half: the central directory is gone."""
    return data[: len(data) // 2]


def bad_crc(data: bytes, member: str = "word/document.xml") -> bytes:
    """The same package with one member's stored CRC-32 changed (its bytes are intact)."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    wrong = struct.pack("<I", (info.CRC ^ 0xDEADBEEF) & 0xFFFFFFFF)
    raw[info.header_offset + 14: info.header_offset + 18] = wrong  # local header
    central = raw.find(b"PK\x01\x02")
    while central >= 0:  # the central directory entry of that member: zipfile checks this one
        name_len = struct.unpack_from("<H", raw, central + 28)[0]
        if bytes(raw[central + 46: central + 46 + name_len]) == member.encode():
            raw[central + 16: central + 20] = wrong
            break
        central = raw.find(b"PK\x01\x02", central + 4)
    assert central >= 0, member
    return bytes(raw)
