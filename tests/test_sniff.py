"""parsers.sniff: the kind comes from the bytes; the name only breaks ties."""
from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from email.message import EmailMessage

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from message_samples import (cp1258_bytes, docm_bytes, docx_bytes, libreoffice_files, make_ole, make_tnef,
                             pptx_bytes, xlsm_bytes, xlsx_bytes, zip_bytes)
from parsers.sniff import KINDS, sniff


def pdf_bytes() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def eml_bytes() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Xã Mỹ Hòa <vanthu@myhoa.gov.vn>"
    msg["To"] = "phongnoivu@thapmuoi.gov.vn"
    msg["Subject"] = "Báo cáo"
    msg.set_content("Kính gửi")
    return msg.as_bytes()


WORD_HTML = ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta charset="utf-8">'
             '</head><body><p>BÁO CÁO</p></body></html>').encode()


@pytest.fixture(scope="module")
def office() -> dict[str, bytes]:
    return libreoffice_files()


@pytest.mark.parametrize("kind,make", [
    ("docx", docx_bytes), ("docm", docm_bytes), ("xlsx", xlsx_bytes), ("xlsm", xlsm_bytes),
    ("pptx", pptx_bytes), ("pdf", pdf_bytes), ("png", png_bytes), ("eml", eml_bytes),
])
def test_generated_files(kind, make):
    assert sniff(make(), "x.bin") == kind


@pytest.mark.parametrize("kind", ["doc", "xls", "odt", "ods"])
def test_libreoffice_files(office, kind):
    assert sniff(office[kind], "tep") == kind
    # renamed files: the bytes win
    assert sniff(office[kind], "bao-cao.pdf") == kind


@pytest.mark.parametrize("streams,kind", [
    ({"WordDocument": b"x", "1Table": b"y"}, "doc"),
    ({"Workbook": b"x"}, "xls"),
    ({"Book": b"x"}, "xls"),  # Excel 5/95
    ({"PowerPoint Document": b"x", "Current User": b"y"}, "ppt"),
    ({"EncryptionInfo": b"x", "EncryptedPackage": b"y"}, "encrypted-office"),
    ({"__substg1.0_0037001F": b"x"}, "ole"),  # an Outlook .msg
])
def test_ole_kinds_from_directory(streams, kind):
    assert sniff(make_ole(streams), "a.docx") == kind


def test_damaged_ole_falls_back_to_name_family():
    broken = make_ole({"WordDocument": b"x"})[:600]  # header survives, directory is gone
    assert sniff(broken, "bao-cao.xls") == "xls"
    assert sniff(broken, "bao-cao.docx") == "ole"  # a name never claims more than OLE here


def test_doc_that_is_rtf_or_html():
    assert sniff(b"{\\rtf1\\ansi\\deff0 {\\fonttbl}B\\'c1O C\\'c1O}", "bao-cao.doc") == "rtf"
    assert sniff(b"\xef\xbb\xbf  {\\rtf1 x}", "bao-cao.doc") == "rtf"
    assert sniff(WORD_HTML, "bao-cao.doc") == "html"
    assert sniff(b"<!DOCTYPE html><html><body>x</body></html>", "a.doc") == "html"
    assert sniff("<html><body>Báo cáo</body></html>".encode("utf-16"), "a.doc") == "html"
    assert sniff(b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"></html>', "a") == "html"


def test_xml_and_word_2003_xml():
    assert sniff(b'<?xml version="1.0" encoding="UTF-8"?><root/>', "a.doc") == "xml"
    word2003 = (b'<?xml version="1.0"?><?mso-application progid="Word.Document"?>'
                b'<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml">'
                b'<html></html></w:wordDocument>')
    assert sniff(word2003, "a.doc") == "xml"


def test_tnef_and_images():
    assert sniff(make_tnef([("a.docx", b"x")]), "winmail.dat") == "tnef"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "scan") == "jpeg"
    assert sniff(b"II*\x00\x08\x00\x00\x00", "scan") == "tiff"
    assert sniff(b"MM\x00*\x00\x00\x00\x08", "scan") == "tiff"
    assert sniff(b"GIF89a\x01\x00\x01\x00", "logo") == "gif"


def test_pdf_with_junk_before_signature():
    assert sniff(b"\r\n\x00garbage" + pdf_bytes(), "x") == "pdf"


@pytest.mark.parametrize("data", [
    "Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo.\r\n".encode("utf-8"),
    "Kính gửi Phòng Nội vụ".encode("utf-16"),  # with BOM
    "Kính gửi Phòng Nội vụ".encode("utf-16-le"),  # without BOM (Windows tools)
    "Céng hoµ x· héi chñ nghÜa ViÖt Nam".encode("cp1252"),  # TCVN3 text seen as 8-bit
    cp1258_bytes("Kính gửi Phòng Nội vụ"),
    b"STT;Don vi;So lieu\n1;Xa My Hoa;1.234\n",
])
def test_text(data):
    assert sniff(data, "a.txt") == "txt"


def test_text_cut_in_a_utf8_character_is_still_text():
    data = ("Báo cáo " * 20000).encode()  # longer than the probe, cut inside "á"
    assert sniff(data) == "txt"


def test_empty_and_unknown():
    assert sniff(b"") == "empty"
    assert sniff(b"  \r\n\t ") == "empty"
    assert sniff(bytes(range(256)) * 4) == "unknown"
    assert sniff(b"\x00\x01\x02\x03" * 100) == "unknown"


def test_plain_zip_and_odf_presentation():
    assert sniff(zip_bytes({"a.txt": b"x", "b/c.pdf": b"%PDF-"}), "bao-cao.docx") == "zip"
    odp = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.presentation"},
                    method=zipfile.ZIP_STORED)
    assert sniff(odp) == "odp"


def test_ooxml_by_part_names_without_content_types():
    assert sniff(zip_bytes({"word/document.xml": b"<w/>"})) == "docx"
    assert sniff(zip_bytes({"word/document.xml": b"<w/>", "word/vbaProject.bin": b"x"})) == "docm"
    assert sniff(zip_bytes({"xl/workbook.xml": b"<w/>"})) == "xlsx"


def test_truncated_docx_is_still_a_docx():
    data = docx_bytes()
    cut = data[: len(data) // 2]  # no central directory any more
    assert sniff(cut, "x") == "docx"
    assert sniff(zip_bytes({"a.txt": b"x" * 100})[:40], "bao-cao.xlsx") == "xlsx"
    assert sniff(zip_bytes({"a.txt": b"x" * 100})[:40], "bao-cao.zip") == "zip"


def test_eml_needs_real_header_lines():
    assert sniff(eml_bytes(), "thu") == "eml"
    assert sniff(b"From vanthu@x.vn Mon Jan  1 00:00:00 2024\nFrom: a@b\nSubject: x\n\nbody") == "eml"
    assert sniff(b"Ghi chu: mot dong\nKet luan: hai dong\n") == "txt"  # header-like, not mail


def test_bounded_on_a_zip_bomb():
    """A 50 MB [Content_Types].xml of zeros: sniff reads only a small prefix of one member."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"\x00" * (50 * 1024 * 1024))
    data = out.getvalue()
    started = time.perf_counter()
    assert sniff(data) == "zip"
    assert time.perf_counter() - started < 2


def test_kinds_are_listed():
    assert {"encrypted-office", "tnef", "eml", "unknown", "empty"} <= set(KINDS)


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096), st.text(max_size=20))
def test_never_raises_on_random_bytes(data, name):
    assert sniff(data, name) in KINDS


_SEEDS = [docx_bytes(), make_ole({"WordDocument": b"x"}), make_tnef([("a.pdf", b"%PDF")]),
          zip_bytes({"a.txt": b"x"}), eml_bytes()]


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(_SEEDS))), st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)),
                                                    max_size=20), st.integers(0, 1 << 20))
def test_never_raises_on_mutated_files(seed, flips, cut):
    data = bytearray(_SEEDS[seed])
    for pos, value in flips:
        data[pos % len(data)] = value
    assert sniff(bytes(data[: max(cut % (len(data) + 1), 1)])) in KINDS


def _streamed(data: bytes) -> bytes:
    """The same package written to a pipe-like stream: sizes follow each member (bit 3)."""
    class Unseekable(io.RawIOBase):
        def __init__(self):
            self.buf = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.buf += b
            return len(b)

    out = Unseekable()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    assert out.buf[6] & 0x8  # the data descriptor flag is really set
    return bytes(out.buf)


@pytest.mark.parametrize("kind,make,shortcut", [
    ("docx", docx_bytes, True), ("docm", docm_bytes, True), ("pptx", pptx_bytes, True),
    ("docx", lambda: _streamed(docx_bytes()), True),
    ("xlsx", xlsx_bytes, False), ("xlsm", xlsm_bytes, False),  # openpyxl writes content types last
])
def test_first_member_shortcut_agrees_with_the_directory(kind, make, shortcut):
    # sniff reads the kind from the first member's local header when it is [Content_Types].xml;
    # otherwise (None) it asks the central directory, as it always did.
    from parsers import sniff as sniff_module

    data = make()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert (zf.infolist()[0].filename == "[Content_Types].xml") == shortcut
    assert sniff_module._sniff_first_member(data) == (kind if shortcut else None)
    assert sniff(data) == kind


def test_first_member_shortcut_on_libreoffice_files(office):
    from parsers import sniff as sniff_module

    for name, data in office.items():
        first = sniff_module._sniff_first_member(data)
        assert first is None or first == sniff(data, name), name
    odt = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
                    method=zipfile.ZIP_STORED)
    assert sniff_module._sniff_first_member(odt) == "odt"
