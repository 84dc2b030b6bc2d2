"""PDF text from glyph positions (issue 11): lines that mix fonts, the ND30 header's two columns,
legacy runs beside Unicode runs, garbage text layers and their fallbacks, the OCR page limit.

The proofs are real PDF files: written by hand with two fonts on one line, the second font drawn
after the line as font fallback and overlays do (tests/pdf_samples.py: no font needed on the
machine), and made by LibreOffice from .docx files whose runs alternate between two fonts.
"""
from __future__ import annotations

import shutil

import docx
import pytest
from docx.shared import Cm, Pt

import fixtures_docs as F
import pdf_samples as P
from parsers.convert import ConversionError, Converter
from parsers.document import read_document
from parsers.garbled import is_garbage, measure
from parsers.model import Attachment, Limits
from parsers.pdf_reader import (
    GARBAGE_FALLBACK_PROBLEM, GARBAGE_OCR_PROBLEM, GARBAGE_PROBLEM, SCAN_OCR_PROBLEM, ocr_pages_problem,
)

POPPLER = Converter(soffice="/nonexistent/soffice", tesseract="/nonexistent/tesseract",
                    pdftoppm="/nonexistent/pdftoppm")  # pdftotext only
NO_POPPLER = Converter(pdftotext="/nonexistent/pdftotext")  # pypdf for text, OCR still there
NO_TOOLS = Converter.without_programs()

TITLE = "Kết quả thực hiện công tác dân vận năm 2024"


def read(data: bytes, converter: Converter, limits: Limits = Limits(), name: str = "bao-cao.pdf"):
    return read_document(Attachment(filename=name, content_type="", data=data), limits, converter=converter)


@pytest.fixture(scope="session")
def lo() -> Converter:
    converter = Converter()
    assert converter.has_office and converter.has_pdf_text and converter.has_ocr
    return converter


@pytest.fixture(scope="session")
def fallback_report() -> bytes:
    """The ND30 report of issue 11, the Vietnamese-block letters drawn after the page."""
    return P.fallback_pdf([P.nd30_cells()])


def _pypdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# -- the defect, reproduced ---------------------------------------------------------------------
@pytest.mark.parametrize("overlay_last", [True, False])
def test_content_stream_order_scrambles_mixed_font_lines(overlay_last):
    """The file really reproduces issue 11: in content-stream order the second font's letters
    leave their words, and that text is garbage."""
    text = _pypdf_text(P.fallback_pdf([P.nd30_cells()], overlay_last=overlay_last))
    assert "K t qu  th c hi n công tác dân v n năm 2024" in text
    assert TITLE not in text
    assert is_garbage(text)


# -- glyph positions ------------------------------------------------------------------------------
@pytest.mark.parametrize("overlay_last", [True, False])
def test_mixed_font_line_reads_as_printed(overlay_last):
    doc = read(P.fallback_pdf([P.nd30_cells()], overlay_last=overlay_last), POPPLER)
    assert doc.problems == () and not doc.scanned
    assert TITLE in doc.lines
    assert "Đơn vị đã quán triệt Chỉ thị số 33/CT-TTg đến toàn thể cán bộ, công chức." in doc.lines
    facts = doc.facts
    assert facts.number.value == "37/BC-UBND"
    assert facts.date.value == "2024-10-15"
    assert facts.title.value == TITLE
    assert facts.signer.value == "Đoàn Thanh Bình"


def test_nd30_header_columns_stay_apart(fallback_report):
    """The issuer (left) and the national title (right) share a baseline: they come out on one
    line with a column break (3+ spaces) between them, and the issuer never takes the title."""
    doc = read(fallback_report, POPPLER)
    first = next(line for line in doc.lines if line.startswith("ỦY BAN NHÂN DÂN"))
    left, right = first.split("   ", 1)
    assert left == "ỦY BAN NHÂN DÂN" and right.strip() == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert doc.facts.issuer.value == "ỦY BAN NHÂN DÂN XÃ MỸ HÒA"
    assert doc.facts.place.value == "Mỹ Hòa"
    assert doc.facts.authority.value == "TM. ỦY BAN NHÂN DÂN"


def _alternating_fonts(paragraph, text: str) -> None:
    """One run per word, alternating DejaVu Serif and DejaVu Sans (on every Debian box), and the
    Vietnamese-block letters of each word in the other font: two fonts inside one line."""
    fonts = ("DejaVu Serif", "DejaVu Sans")
    for k, word in enumerate(text.split(" ")):
        for ch in word + (" " if k < len(text.split(" ")) - 1 else ""):
            run = paragraph.add_run(ch)
            run.font.name = fonts[(k + P.vietnamese_block(ch)) % 2]
            run.font.size = Pt(10)  # DejaVu is wide: keep the place-date on one line of its cell


@pytest.fixture(scope="session")
def libreoffice_mixed(lo) -> bytes:
    """An ND30 header table and a title, every line in two fonts, exported by LibreOffice."""
    d = docx.Document()
    d.sections[0].left_margin = d.sections[0].right_margin = Cm(1.5)  # DejaVu is wide
    head = d.add_table(rows=2, cols=2)
    for cell, texts in ((head.cell(0, 0), ("ỦY BAN NHÂN DÂN", "XÃ MỸ HÒA")),
                        (head.cell(0, 1), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")),
                        (head.cell(1, 0), ("Số: 37/BC-UBND",)),
                        (head.cell(1, 1), ("Mỹ Hòa, ngày 15 tháng 10 năm 2024",))):
        _alternating_fonts(cell.paragraphs[0], texts[0])
        for text in texts[1:]:
            _alternating_fonts(cell.add_paragraph(), text)
    for text in ("BÁO CÁO", TITLE, "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Đoàn Thanh Bình"):
        _alternating_fonts(d.add_paragraph(), text)
    return lo.convert(F.save_docx(d), ".docx", "pdf")


@pytest.mark.parametrize("converter", [POPPLER, NO_POPPLER], ids=["pdftotext", "pypdf"])
def test_libreoffice_pdf_in_two_fonts(libreoffice_mixed, converter):
    doc = read(libreoffice_mixed, converter)
    assert not doc.scanned and doc.problems == ()
    assert TITLE in doc.lines
    assert doc.facts.number.value == "37/BC-UBND"
    assert doc.facts.date.value == "2024-10-15"
    assert doc.facts.signer.value == "Đoàn Thanh Bình"


def test_header_table_columns_from_libreoffice(libreoffice_mixed):
    """pdftotext keeps the header table's columns apart; pypdf joins them with one space,
    which is how "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" got glued to issuers (issue 11)."""
    doc = read(libreoffice_mixed, POPPLER)
    first = next(line for line in doc.lines if line.startswith("ỦY BAN"))
    assert first.split("   ")[0] == "ỦY BAN NHÂN DÂN"
    assert first.split("   ")[-1].strip() == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert doc.facts.issuer.value == "ỦY BAN NHÂN DÂN XÃ MỸ HÒA"
    assert doc.facts.place.value == "Mỹ Hòa"


# -- legacy text layers -------------------------------------------------------------------------
def _legacy_beside_unicode() -> bytes:
    """One line: a TCVN3 run in .VnTime (its 8-bit codes shown as Latin-1), then a Unicode run."""
    legacy = F.TCVN3_TITLE  # "Cộng hoà xã hội chủ nghĩa Việt Nam"
    cells = [P.Cell(60, 80, legacy, font="F3"),
             P.Cell(60 + (len(legacy) + 1) * 6, 80, "- Phòng Nội vụ tổng hợp"),
             P.Cell(60, 100, F.TCVN3_PLAN, font="F3"),
             P.Cell(60, 120, "Báo cáo kết quả thực hiện công tác dân vận tháng 10 của đơn vị")]
    return P.fallback_pdf([cells], fallback=lambda ch: False)


@pytest.mark.parametrize("converter", [POPPLER, NO_TOOLS], ids=["pdftotext", "pypdf"])
def test_legacy_run_beside_unicode_run_on_one_line(converter):
    doc = read(_legacy_beside_unicode(), converter)
    assert doc.problems == ()
    assert doc.lines[0] == "Cộng hoà xã hội chủ nghĩa Việt Nam - Phòng Nội vụ tổng hợp"
    assert "Kế hoạch năm 2024" in doc.lines


def test_legacy_font_names_decode_upper_case_runs():
    """.VnTimeH is an upper-case TCVN3 font: its lower-case codes are capitals."""
    cells = [P.Cell(60, 80, "quyÕt §Þnh", font="F3"), P.Cell(60, 100, "Về việc tổ chức hội nghị")]
    doc = read(P.fallback_pdf([cells], fallback=lambda ch: False, legacy_font="ABCDEF+.VnTimeH"), POPPLER)
    assert doc.lines[0] == "QUYẾT ĐỊNH"


@pytest.mark.parametrize("converter", [POPPLER, NO_POPPLER], ids=["pdftotext", "pypdf"])
def test_libreoffice_legacy_run_beside_unicode_run(lo, converter):
    """LibreOffice without .VnTime embeds a substitute font under its own name: the legacy
    words are then recognised by their letters (txt_reader.fix_legacy)."""
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("Tæng hîp b¸o c¸o").font.name = ".VnTime"  # "Tổng hợp báo cáo"
    p.add_run(" - Phòng Nội vụ tháng 10").font.name = "Times New Roman"
    d.add_paragraph().add_run(F.TCVN3_TITLE).font.name = ".VnTime"
    d.add_paragraph("Kết quả thực hiện công tác dân vận của các xã, thị trấn trong tháng 10")
    doc = read(lo.convert(F.save_docx(d), ".docx", "pdf"), converter)
    assert "Tổng hợp báo cáo - Phòng Nội vụ tháng 10" in doc.lines
    assert F.TCVN3_TITLE_UNICODE in doc.lines


# -- garbage and its fallbacks -----------------------------------------------------------------
def test_garbage_in_both_readers_goes_to_ocr(lo):
    """A scan whose invisible text layer is garbage by position too (a bad scanner layer):
    pdftotext, then pypdf, then OCR of the image."""
    scrambled = _pypdf_text(P.fallback_pdf([P.nd30_cells()])).splitlines()
    layer = P.fallback_pdf([[P.Cell(40, 60 + 14 * k, line) for k, line in enumerate(scrambled)]],
                           fallback=lambda ch: False, invisible=True)
    image = F.image_pdf(F.render_gray(lo.convert(F.nd30_report(), ".docx", "pdf"), 100), 100)
    doc = read(P.with_text_layer(image, layer), lo)
    assert doc.scanned
    assert GARBAGE_OCR_PROBLEM in doc.problems
    assert "Số: 45/BC-UBND" in doc.text and "K t qu" not in doc.text
    assert not is_garbage(doc.text)


def test_garbage_layer_without_any_tool_is_kept_with_a_problem(fallback_report):
    doc = read(fallback_report, NO_TOOLS)
    assert doc.problems == (GARBAGE_PROBLEM,)
    assert "K t qu  th c hi n công tác dân v n năm 2024" in doc.lines


class _ScramblingPdftotext(Converter):
    """pdftotext returning a scrambled layer: the one way to see pypdf take over from it (a
    poppler that reads a file as garbage is rare, but the order of the fallbacks must hold)."""

    def pdf_text_pages(self, data: bytes, last_page: int, max_bytes: int) -> list[str]:
        return [_pypdf_text(P.fallback_pdf([P.nd30_cells()]))]


class _BrokenPdftotext(Converter):
    def pdf_text_pages(self, data: bytes, last_page: int, max_bytes: int) -> list[str]:
        raise ConversionError("pdftotext không đọc được lớp chữ của tệp PDF (mã lỗi 1).")


def test_garbage_from_pdftotext_falls_back_to_pypdf(report_pdf_two_fonts_in_order):
    doc = read(report_pdf_two_fonts_in_order, _ScramblingPdftotext())
    assert doc.problems == (GARBAGE_FALLBACK_PROBLEM,)
    assert TITLE in doc.lines


def test_failing_pdftotext_falls_back_to_pypdf_quietly(report_pdf_two_fonts_in_order):
    doc = read(report_pdf_two_fonts_in_order, _BrokenPdftotext())
    assert doc.problems == () and TITLE in doc.lines


@pytest.fixture(scope="session")
def report_pdf_two_fonts_in_order() -> bytes:
    """Two fonts, each letter drawn in its place in the stream: both readers read it right."""
    return P.fallback_pdf([P.nd30_cells()], fallback=lambda ch: False)


# -- the garbage test itself (pure) ---------------------------------------------------------------
def test_scrambled_lines_of_issue_11_are_garbage():
    text = ("K t qu th c hi n công tác dân v n năm 2024ế ả ự ệ ậ\n"
            "S : 37/BC-UBNDố\nTháp Mư i, ngày 15 tháng 10 năm 2024ờ\n"
            "Đơn v đã quán tri t Ch th s 33/CT-TTg đ n toàn th cán b .ị ệ ỉ ị ố ế ể ộ")
    assert is_garbage(text)
    assert measure(text).share > 0.3


def test_vietnamese_text_is_not_garbage():
    text = ("Ủy ban nhân dân xã Mỹ Hòa báo cáo kết quả thực hiện công tác dân vận năm 2024 như sau: "
            "tổ chức 12 cuộc tuyên truyền ở các ấp, 1.234 lượt người dự; đường giao thông nông thôn 12 km, "
            "kinh phí 1.500.000 đ; a) tiếp công dân; b) giải quyết khiếu nại. V/v tiếp tục triển khai "
            "Chỉ thị số 33/CT-TTg. Ý kiến của nhân dân được ghi nhận đầy đủ.")
    assert measure(text).broken <= 1
    assert not is_garbage(text)


def test_detached_tone_marks_and_spaced_letters_are_garbage():
    assert is_garbage("Vie \u0323t Nam co \u0301 ca \u0301c xa \u0303 thi \u0323 trâ \u0301n " * 3)
    assert is_garbage("B Á O C Á O K Ế T Q U Ả T H Ự C H I Ệ N")


def test_short_text_is_never_garbage():
    assert not is_garbage("S : 37/BC-UBNDố")  # a stamp or one line says too little
    assert not is_garbage("")


# -- OCR page limit -----------------------------------------------------------------------------
def test_ocr_page_limit_from_limits_is_said_in_the_problem(lo):
    page = F.render_gray(lo.convert(F.nd30_report(), ".docx", "pdf"), 100)[0]
    scan = F.image_pdf([page] * 3, 100)
    doc = read(scan, lo, Limits(ocr_max_pages=2))
    assert doc.scanned and SCAN_OCR_PROBLEM in doc.problems
    assert ocr_pages_problem(2, 3, complete=True) in doc.problems
    assert "đã nhận dạng chữ 2/3 trang đầu" in ocr_pages_problem(2, 3, complete=True)
    assert doc.text.count("BÁO CÁO") == 2


def test_ocr_page_limit_comes_from_settings(tmp_path):
    from test_config import EXAMPLE

    from daemon.config_toml import load_config

    assert load_config(EXAMPLE).limits.ocr_max_pages == Limits().ocr_max_pages == 30
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE, target)
    shutil.copytree(EXAMPLE.parent / "templates", tmp_path / "templates")
    settings = target / "settings.toml"
    settings.write_text(settings.read_text().replace("ocr_max_pages = 30", "ocr_max_pages = 45"))
    assert load_config(target).limits.ocr_max_pages == 45


# -- the converter's bounds ---------------------------------------------------------------------
def test_pdftotext_output_is_capped(fallback_report):
    with pytest.raises(ConversionError) as info:
        Converter().pdf_text_pages(P.fallback_pdf([P.nd30_cells()] * 40), 40, max_bytes=2000)
    assert "quá nhiều chữ" in str(info.value)


def test_pdftotext_pages_are_split_on_form_feeds():
    pages = Converter().pdf_text_pages(P.fallback_pdf([P.nd30_cells(number=f"{k}/BC-UBND") for k in (1, 2, 3)]),
                                       2, max_bytes=1 << 20)
    assert len(pages) == 2 and "Số: 2/BC-UBND" in pages[1]
