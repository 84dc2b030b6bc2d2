"""Formats that need LibreOffice, poppler or Tesseract: PDFs (text layer, legacy text layer,
scans, 300 pages, passwords, signatures), legacy .doc/.xls/.odt/.ods/.rtf through LibreOffice and
without it, and the converter's time limit. Files LibreOffice makes are cached per session."""
from __future__ import annotations

import subprocess
import time

import docx
import pytest

import fixtures_docs as F
from parsers.convert import ConversionError, Converter
from parsers.document import FALLBACK_PROBLEM, read_document
from parsers.model import Attachment, Limits
from parsers.pdf_reader import PASSWORD_PROBLEM, SCAN_NO_OCR_PROBLEM, SCAN_OCR_PROBLEM, certificate_cn

NO_TOOLS = Converter.without_programs()


@pytest.fixture(scope="session")
def lo() -> Converter:
    converter = Converter()
    assert converter.available() == {"office": True, "ocr": True, "pdf_render": True, "pdf_text": True}
    return converter


@pytest.fixture(scope="session")
def report_pdf(lo) -> bytes:
    return lo.convert(F.nd30_report(), ".docx", "pdf")


@pytest.fixture(scope="session")
def legacy_report_docx() -> bytes:
    return F.nd30_report(legacy=True)


@pytest.fixture(scope="session")
def legacy_doc(lo, legacy_report_docx) -> bytes:
    return lo.convert(legacy_report_docx, ".docx", "doc")


@pytest.fixture(scope="session")
def sheet_xls(lo) -> bytes:
    return lo.convert(F.sample_xlsx(nd30=True, legacy=True), ".xlsx", "xls")


def read(data: bytes, name: str, converter: Converter, limits: Limits = Limits()):
    return read_document(Attachment(filename=name, content_type="", data=data), limits, converter=converter)


# -- PDF --------------------------------------------------------------------------------------
def test_pdf_text_layer(report_pdf, lo):
    doc = read(report_pdf, "bao-cao.pdf", lo)
    assert doc.kind == "pdf" and not doc.scanned and doc.problems == ()
    assert "BÁO CÁO" in doc.lines and "Đoàn Thanh Bình" in doc.lines
    assert doc.facts.number.value == "45/BC-UBND"


def test_pdf_named_doc_is_still_a_pdf(report_pdf, lo):
    assert read(report_pdf, "bao-cao.doc", lo).kind == "pdf"


def test_pdf_legacy_text_layer_is_decoded_word_by_word(lo):
    d = docx.Document()
    for text, font in ((F.TCVN3_TITLE, ".VnTime"), (F.TCVN3_PLAN, ".VnTime"),
                       ("Phòng Nội vụ tổng hợp báo cáo tháng 10", "Times New Roman")):
        d.add_paragraph().add_run(text).font.name = font
    pdf = lo.convert(F.save_docx(d), ".docx", "pdf")
    doc = read(pdf, "cu.pdf", lo)
    assert not doc.scanned
    joined = " ".join(doc.lines)
    assert "Cộng hoà xã hội chủ nghĩa Việt Nam" in joined
    assert "Kế hoạch năm 2024" in joined
    assert "Phòng Nội vụ tổng hợp báo cáo tháng 10" in joined  # Unicode text left alone


def test_300_page_pdf_is_bounded(report_pdf, lo):
    long_pdf = F.repeat_pages(report_pdf, 300)
    start = time.monotonic()
    doc = read(long_pdf, "dai.pdf", lo, Limits(max_pdf_pages=200))
    elapsed = time.monotonic() - start
    assert elapsed < 30
    assert "Tệp PDF có 300 trang; hệ thống chỉ đọc 200 trang đầu." in doc.problems
    assert doc.lines.count("BÁO CÁO") == 200


def test_scanned_pdf_is_read_by_ocr(report_pdf, lo):
    scan = F.image_pdf(F.render_gray(report_pdf, 100), 100)
    doc = read(scan, "scan.pdf", lo)
    assert doc.scanned
    assert SCAN_OCR_PROBLEM in doc.problems
    assert "BÁO CÁO" in doc.lines
    assert "Số: 45/BC-UBND" in doc.text
    assert doc.facts.number.value == "45/BC-UBND"


def test_scanned_pdf_without_ocr_asks_a_person(report_pdf):
    scan = F.image_pdf(F.render_gray(report_pdf, 50), 50)
    doc = read(scan, "scan.pdf", NO_TOOLS)
    assert doc.scanned and doc.text == ""
    assert doc.problems == (SCAN_NO_OCR_PROBLEM,)


def test_image_is_read_by_ocr(report_pdf, lo):
    doc = read(F.render_png(report_pdf, 150), "anh.png", lo)
    assert doc.kind == "png" and doc.scanned
    assert "Độc lập - Tự do - Hạnh phúc" in doc.lines


def test_pdf_with_owner_password_only_opens(report_pdf, lo):
    doc = read(F.encrypted_pdf(report_pdf, user_password=""), "khoa.pdf", lo)
    assert doc.problems == () and "BÁO CÁO" in doc.lines


def test_pdf_with_user_password_is_a_problem(report_pdf, lo):
    doc = read(F.encrypted_pdf(report_pdf, user_password="bi-mat"), "khoa.pdf", lo)
    assert doc.text == "" and doc.problems == (PASSWORD_PROBLEM,)


def test_pdf_signer_from_name(report_pdf, lo):
    doc = read(F.signed_pdf(report_pdf, name="Trần Thị Bích", contents=F.pkcs7_signature("Ai đó")), "ky.pdf", lo)
    assert doc.signed_by == ("Trần Thị Bích",)
    assert "BÁO CÁO" in doc.lines


def test_pdf_signer_from_certificate(report_pdf, lo):
    doc = read(F.signed_pdf(report_pdf, name=None, contents=F.pkcs7_signature("Nguyễn Văn An")), "ky.pdf", lo)
    assert doc.signed_by == ("Nguyễn Văn An",)
    assert certificate_cn(b"\x30\x03\x02\x01\x01" + b"\x00" * 10) is None  # not a PKCS#7: no name


def test_unsigned_pdf_has_no_signer(report_pdf, lo):
    assert read(report_pdf, "a.pdf", lo).signed_by == ()


# -- LibreOffice conversions --------------------------------------------------------------------
def test_legacy_doc_through_libreoffice_keeps_fonts(legacy_doc, lo):
    doc = read(legacy_doc, "bao-cao.doc", lo)
    assert doc.kind == "doc" and doc.problems == ()
    assert "Cộng hoà xã hội chủ nghĩa Việt Nam" in doc.lines
    assert "Tháp Mười, ngày 15 tháng 10 năm 2024" in doc.lines  # "ư" came back as w:softHyphen
    assert ("Số cuộc tuyên truyền", "12", "1.234,5") in doc.tables[1]
    assert doc.facts.number.value == "45/BC-UBND"


def test_legacy_doc_without_libreoffice_reads_word_binary(legacy_doc):
    doc = read(legacy_doc, "bao-cao.doc", NO_TOOLS)
    assert FALLBACK_PROBLEM.format(reason=" (máy chủ chưa cài LibreOffice)") in doc.problems
    assert "Cộng hoà xã hội chủ nghĩa Việt Nam" in doc.lines
    assert "Tháp Mười, ngày 15 tháng 10 năm 2024" in doc.lines
    assert "Đoàn Thanh Bình" in doc.lines
    assert doc.tables == ()


def test_xls_through_libreoffice(sheet_xls, lo):
    doc = read(sheet_xls, "bieu.xls", lo)
    assert doc.kind == "xls" and doc.problems == ()
    sheet = doc.tables[0]
    assert ("Tuyên truyền", "2024", "1234,5", "25,5%", "15/10/2024") in sheet
    assert ("Kế hoạch năm 2024",) in sheet
    assert doc.facts is not None and doc.facts.number.value == "12/BC-UBND"


def test_xls_without_libreoffice_is_read_whole_by_xlrd(sheet_xls):
    # xlrd reads .xls in-process, cell fonts included: LibreOffice is only its fallback.
    doc = read(sheet_xls, "bieu.xls", NO_TOOLS)
    assert doc.problems == ()
    assert ("Tuyên truyền", "2024", "1234,5", "25,5%", "15/10/2024") in doc.tables[0]


@pytest.mark.parametrize("target", ["odt", "ods"])
def test_opendocument_with_and_without_libreoffice(lo, target):
    source = F.nd30_report() if target == "odt" else F.sample_xlsx(nd30=True)
    data = lo.convert(source, ".docx" if target == "odt" else ".xlsx", target)
    with_lo = read(data, f"tep.{target}", lo)
    without = read(data, f"tep.{target}", NO_TOOLS)
    assert with_lo.kind == without.kind == target
    assert with_lo.problems == ()
    assert any("LibreOffice" in p for p in without.problems)
    expected = "BÁO CÁO" if target == "odt" else "Tuyên truyền"
    assert expected in with_lo.lines and expected in without.lines
    assert with_lo.tables and without.tables


def test_rtf_through_libreoffice(lo):
    doc = read(F.RTF_LEGACY, "bao-cao.rtf", lo)
    assert doc.kind == "rtf" and doc.problems == ()
    assert doc.lines[:2] == (F.TCVN3_TITLE_UNICODE, "BÁO CÁO kết quả dân vận")


def test_docx_to_pdf_renders_a_draft(lo, tmp_path):
    src = tmp_path / "du-thao.docx"
    src.write_bytes(F.nd30_report())
    pdf_path = lo.docx_to_pdf(src, tmp_path / "out")
    assert pdf_path == tmp_path / "out" / "du-thao.pdf"
    assert "BÁO CÁO" in read(pdf_path.read_bytes(), "du-thao.pdf", lo).lines


# -- time limits ----------------------------------------------------------------------------
def _sleepers(tag: str) -> str:
    return subprocess.run(["pgrep", "-f", f"sleep {tag}"], capture_output=True, text=True).stdout.strip()


def test_hanging_converter_is_killed_with_its_children(legacy_doc):
    # sh starts a background sleep and waits: killing only sh would leave the sleep behind.
    hang = Converter(command=["sh", "-c", "sleep 31.7 & sleep 31.7; wait"], timeout=1)
    start = time.monotonic()
    with pytest.raises(ConversionError) as info:
        hang.to_docx(b"{\\rtf1 x}", ".rtf")
    assert time.monotonic() - start < 5
    assert "Quá thời gian" in str(info.value)
    time.sleep(0.2)
    assert _sleepers("31.7") == ""


def test_read_document_falls_back_when_conversion_times_out(legacy_doc):
    hang = Converter(command=["sh", "-c", "sleep 32.3"], timeout=1)
    start = time.monotonic()
    doc = read(legacy_doc, "bao-cao.doc", hang)
    assert time.monotonic() - start < 6
    assert any("Quá thời gian" in p and "LibreOffice" in p for p in doc.problems)
    assert "Đoàn Thanh Bình" in doc.lines  # the Word-binary reader still got the text
    time.sleep(0.2)
    assert _sleepers("32.3") == ""


def test_failed_conversion_is_a_clear_error(lo):
    broken = Converter(command=["true"], timeout=5)
    with pytest.raises(ConversionError) as info:
        broken.to_xlsx(b"not a spreadsheet", ".xls")
    assert "LibreOffice không chuyển đổi được" in str(info.value)


def test_libreoffice_rtf_and_web_page_read_without_libreoffice(lo, legacy_report_docx):
    """Real RTF and HTML (as LibreOffice writes them: style sheets, optional hyphens, CSS classes
    naming .VnTime) read by the plain readers, the legacy text decoded."""
    expected = ["Cộng hoà xã hội chủ nghĩa Việt Nam", "Tháp Mười, ngày 15 tháng 10 năm 2024", "Đoàn Thanh Bình"]
    rtf = read(lo.convert(legacy_report_docx, ".docx", "rtf"), "bao-cao.rtf", NO_TOOLS)
    assert rtf.kind == "rtf" and all(line in rtf.lines for line in expected)
    web = read(lo.convert(legacy_report_docx, ".docx", "html:XHTML Writer File:UTF8"), "bao-cao.doc", NO_TOOLS)
    assert web.kind == "html" and web.problems == ()
    assert all(line in web.lines for line in expected)
    assert web.tables[0][1] == ("Số: 45/BC-UBND", "Tháp Mười, ngày 15 tháng 10 năm 2024")
    assert web.facts.number.value == "45/BC-UBND"


def test_ocr_time_limit(report_pdf):
    scan = F.image_pdf(F.render_gray(report_pdf, 50), 50)
    hurried = Converter(ocr_timeout=0.3)
    start = time.monotonic()
    doc = read(scan, "scan.pdf", hurried)
    assert time.monotonic() - start < 5
    assert doc.scanned and doc.text == ""
    assert doc.problems[0].startswith(SCAN_NO_OCR_PROBLEM) and "Quá thời gian" in doc.problems[0]
