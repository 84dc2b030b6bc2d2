"""Legacy Vietnamese text in every office format, decoded run by run from each run's own font.

The files are made here (tests/legacy_samples.py) with legacy-encoded runs in legacy fonts:
TCVN3 (.VnTime) with upper-case .VnTimeH/.VnArialH headings typed in either case, VNI, lines
mixing TCVN3, VNI and Unicode runs, and symbol-font bullets; written as .docx, .rtf, .html,
and as .doc/.xls by LibreOffice. Each is read with LibreOffice and without it (the .doc binary
path, the RTF font table, xlrd), and must read as the Unicode text it was made from.
"""
from __future__ import annotations

import io
import re
import zipfile

import docx
import pytest

import fixtures_docs as F
import legacy_samples as S
from parsers import document as document_module
from parsers import xls_reader
from parsers.convert import Converter
from parsers.document import read_document
from parsers.model import Attachment
from parsers.html_reader import read_html
from parsers.rtf_reader import read_rtf
from parsers.txt_reader import fix_legacy
from parsers.text import (decode_legacy, decode_run, decode_runs, encode_legacy, font_kind,
                          legacy_encoding_for_font, legacy_readings, symbol_text)

NO_TOOLS = Converter.without_programs()
# What the reported failures looked like: none of these may ever come out.
WRONG = ("caực", "vaứ", "thoõng", "MụC", "LụC", "PHầN", "THứ", "NHấT", "ưcác", "ưvà", "tµi", "tæng")


@pytest.fixture(scope="session")
def lo() -> Converter:
    converter = Converter()
    assert converter.has_office
    return converter


FALLBACK = document_module.FALLBACK_PROBLEM.format(reason=" (máy chủ chưa cài LibreOffice)")


def read(data: bytes, name: str, converter: Converter = NO_TOOLS):
    return read_document(Attachment(filename=name, content_type="", data=data), converter=converter)


def squashed(lines) -> list[str]:
    return [" ".join(line.split()) for line in lines]


def assert_reads_as(doc, paragraphs, fallback: bool = False) -> None:
    # Without LibreOffice an .rtf or .doc is read by the fallback path, which says so.
    assert doc.problems == ((FALLBACK,) if fallback else ())
    assert squashed(doc.lines) == S.expected_lines(paragraphs)
    assert not [w for w in WRONG if w in doc.text]


# -- every sample in every format ------------------------------------------------------------------
@pytest.mark.parametrize("sample", sorted(S.SAMPLES))
@pytest.mark.parametrize("fmt", ["docx", "rtf", "html"])
def test_sample_reads_as_its_unicode_text_without_libreoffice(sample, fmt):
    paragraphs = S.SAMPLES[sample]
    data = {"docx": S.to_docx, "rtf": S.to_rtf, "html": S.to_html}[fmt](paragraphs)
    assert_reads_as(read(data, f"{sample}.{fmt}"), paragraphs, fallback=fmt == "rtf")


@pytest.mark.parametrize("sample", sorted(S.SAMPLES))
def test_rtf_through_libreoffice(sample, lo):
    paragraphs = S.SAMPLES[sample]
    assert_reads_as(read(S.to_rtf(paragraphs), f"{sample}.rtf", lo), paragraphs)


@pytest.fixture(scope="session")
def doc_files(lo) -> dict[str, bytes]:
    return {name: lo.convert(S.to_docx(p), ".docx", "doc") for name, p in S.SAMPLES.items()}


@pytest.mark.parametrize("sample", sorted(S.SAMPLES))
@pytest.mark.parametrize("with_office", [True, False], ids=["libreoffice", "binary"])
def test_doc_mixing_encodings_reads_by_each_runs_font(sample, with_office, doc_files, lo):
    # With LibreOffice the .doc becomes a .docx whose runs keep their fonts; without it the
    # binary reader finds each run's font in the file's own character properties.
    doc = read(doc_files[sample], f"{sample}.doc", lo if with_office else NO_TOOLS)
    assert doc.kind == "doc"
    assert_reads_as(doc, S.SAMPLES[sample], fallback=not with_office)


@pytest.fixture(scope="session")
def xls_files(lo) -> dict[str, bytes]:
    return {name: lo.convert(S.to_xlsx(p), ".xlsx", "xls") for name, p in S.SAMPLES.items()}


@pytest.mark.parametrize("sample", sorted(S.SAMPLES))
def test_xls_cells_decode_by_each_cells_font(sample, xls_files):
    doc = read(xls_files[sample], f"{sample}.xls")  # xlrd: no LibreOffice needed
    assert doc.kind == "xls" and doc.problems == ()
    cells = [" ".join(c.split()) for table in doc.tables for row in table for c in row if c]
    assert cells == S.expected_cells(S.SAMPLES[sample])
    assert not [w for w in WRONG if w in doc.text]


def test_tcvn3_xls_totals_row(xls_files):
    doc = read(xls_files["tcvn3"], "bieu.xls")
    assert "Tổng số cuộc tuyên truyền: 125 cuộc, với 4.320 lượt người tham dự." in doc.lines
    assert "PHẦN THỨ NHẤT" in doc.lines and "BỘ TÀI CHÍNH" in doc.lines


def test_xls_that_xlrd_refuses_goes_to_libreoffice(xls_files, lo, monkeypatch):
    def refuse(data, limits):
        raise xls_reader.XlsUnreadable("not BIFF")

    monkeypatch.setattr(xls_reader, "read_xls", refuse)
    doc = read(xls_files["mixed"], "bieu.xls", lo)
    assert doc.problems == ()
    cells = [" ".join(c.split()) for table in doc.tables for row in table for c in row if c]
    assert cells == S.expected_cells(S.SAMPLES["mixed"])
    without = read(xls_files["mixed"], "bieu.xls", NO_TOOLS)
    assert any("LibreOffice" in p for p in without.problems)
    assert document_module.FALLBACK_PROBLEM.split("{")[0] in without.problems[-1]


def test_xls_rich_text_cell_mixing_fonts(lo):
    from openpyxl import Workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    wb = Workbook()
    wb.active["A1"] = CellRichText(
        TextBlock(InlineFont(rFont=".VnTime"), encode_legacy("Tổng tài sản ", "tcvn3")),
        TextBlock(InlineFont(rFont="VNI-Times"), encode_legacy("của các xã", "vni")),
    )
    out = io.BytesIO()
    wb.save(out)
    xls = lo.convert(out.getvalue(), ".xlsx", "xls")
    assert read(xls, "bieu.xls").tables[0][0][0] == "Tổng tài sản của các xã"


def test_broken_xls_is_a_problem_never_a_crash():
    doc = read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "bieu.xls")
    assert doc.text == "" and doc.problems


# -- upper-case TCVN3 fonts ----------------------------------------------------------------------
@pytest.mark.parametrize("font", [
    ".VnTimeH", ".VnArialH", ".VnCentury SchoolbookH", ".VnTimeH Bold", ".VnTimeH,Bold",
    ".VnTimeH:Bold", ".VnTimeHBold", "ABCDEF+.VnTimeH-BoldItalic", ".VnTimeH#20Bold", "\\.VnTimeH",
    '"\\.VnArialH"', "VnTimeH", ".VnTimeH (TCVN3)", ".VnArial NarrowH",
])
def test_every_spelling_of_an_h_font_is_upper_case(font):
    assert legacy_encoding_for_font(font) == "tcvn3h"
    assert decode_run("Bé tµi chÝnh", font) == "BỘ TÀI CHÍNH"


@pytest.mark.parametrize("font", [".VnTime", ".VnTime Bold", "\\.VnTime", "VnTime", ".VnTimeBold"])
def test_lower_case_abc_fonts_stay_tcvn3(font):
    assert legacy_encoding_for_font(font) == "tcvn3"


def test_h_mode_words_read_through_a_lower_case_font_are_upper_cased():
    # Typed with caps lock: upper-case ASCII, lower-case codes (TCVN3 has no toned capitals).
    assert decode_legacy("MôC LôC - PHÇN THø NHÊT", "tcvn3") == "MỤC LỤC - PHẦN THỨ NHẤT"
    # A capitalised word has one upper-case letter: it keeps its case.
    assert decode_legacy("Cã Tµi UBND", "tcvn3") == "Có Tài UBND"


def _docx_with(style_font=None, default_font=None, theme_font=None) -> bytes:
    """One paragraph typed in mixed case, its .VnTimeH font given by a style, the document
    defaults or the theme (the run itself has no w:rFonts)."""
    d = docx.Document()
    if style_font:
        style = d.styles.add_style("Legacy Heading", 1)
        style.font.name = style_font
        d.add_paragraph("Bé tµi chÝnh", style="Legacy Heading")
    else:
        d.add_paragraph("Bé tµi chÝnh")
    data = F.save_docx(d)
    if default_font:
        xml = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml").decode()
        xml = re.sub(r'(<w:rPrDefault><w:rPr>)<w:rFonts [^>]*/>',
                     r'\1<w:rFonts w:ascii="%s" w:hAnsi="%s"/>' % (default_font, default_font), xml)
        data = F.rewrite_docx(data, {"word/styles.xml": xml})
    if theme_font:
        xml = zipfile.ZipFile(io.BytesIO(data)).read("word/theme/theme1.xml").decode()
        xml = re.sub(r'(<a:minorFont>\s*<a:latin typeface=")[^"]*', r"\g<1>" + theme_font, xml)
        data = F.rewrite_docx(data, {"word/theme/theme1.xml": xml})
    return data


@pytest.mark.parametrize("where", ["paragraph style", "document defaults", "theme"])
def test_h_font_inherited_by_a_run_without_rfonts(where):
    data = _docx_with(style_font=".VnTimeH" if where == "paragraph style" else None,
                      default_font=".VnTimeH" if where == "document defaults" else None,
                      theme_font=".VnTimeH" if where == "theme" else None)
    assert read(data, "a.docx").lines == ("BỘ TÀI CHÍNH",)


@pytest.mark.parametrize("where", ["paragraph style", "document defaults", "theme"])
def test_h_font_inherited_in_a_doc_read_without_libreoffice(where, lo):
    # The binary reader follows the paragraph's style and the style sheet's default font.
    data = _docx_with(style_font=".VnTimeH" if where == "paragraph style" else None,
                      default_font=".VnTimeH" if where == "document defaults" else None,
                      theme_font=".VnTimeH" if where == "theme" else None)
    doc = read(lo.convert(data, ".docx", "doc"), "a.doc")
    assert doc.lines == ("BỘ TÀI CHÍNH",) and doc.problems == (FALLBACK,)


def test_docx_run_with_ascii_font_only():
    body = ('<w:p><w:r><w:rPr><w:rFonts w:ascii=".VnTimeH" w:cs="Times New Roman"/></w:rPr>'
            '<w:t>PHÇN THø NHÊT</w:t></w:r></w:p>')
    assert read(F.with_body_xml(F.save_docx(docx.Document()), body), "a.docx").lines == ("PHẦN THỨ NHẤT",)


# -- symbol fonts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("font", ["Symbol", "Wingdings", "Wingdings 2", "Webdings", ".VnSymbol", "Marlett",
                                  "MT Extra", "ZapfDingbats"])
def test_symbol_fonts_give_bullets_never_letters(font):
    assert font_kind(font) == "symbol" and legacy_encoding_for_font(font) is None
    for code in ("\xb7", "\xad", "\xa7", "\xd8", "\uf0b7", "n"):
        assert decode_run(code, font) == "\u2022"
    assert decode_runs([("\xb7", font), ("c¸c", ".VnTime")]) == "\u2022 các"
    assert decode_runs([("\xad", font), ("\t", None), ("vaø", "VNI-Times")]) == "\u2022\tvà"


def test_symbol_text_keeps_spacing_and_collapses_repeats():
    assert symbol_text("\xb7\xb7 \t\xa7") == "\u2022 \t\u2022"
    assert symbol_text("") == ""


def test_docx_w_sym_is_a_bullet():
    body = ('<w:p><w:r><w:sym w:font="Symbol" w:char="F0B7"/></w:r><w:r><w:tab/></w:r>'
            '<w:r><w:rPr><w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/></w:rPr><w:t>c¸c x·</w:t></w:r></w:p>'
            '<w:p><w:r><w:sym w:font="Wingdings" w:char="F0A7"/><w:t xml:space="preserve"> Unicode</w:t></w:r></w:p>')
    doc = read(F.with_body_xml(F.save_docx(docx.Document()), body), "a.docx")
    assert squashed(doc.lines) == ["\u2022 các xã", "\u2022 Unicode"]


def test_minus_glyph_before_a_word_is_no_letter():
    # In PDF text layers of .VnTime documents U+2212 is "ư" inside words; a Symbol bullet "−"
    # glued to a word is not.
    assert decode_legacy("\u2212c¸c \u2212vµ n\u2212íc \u2212íc", "tcvn3") == "\u2212các \u2212và nước ước"
    assert "ưcác" not in fix_legacy("C¸c ®¬n vÞ\n\u2212c¸c x· vµ thÞ trÊn")


# -- mixed encodings without font information --------------------------------------------------------
def test_fix_legacy_decodes_each_word_by_the_table_that_reads_it():
    text = (encode_legacy("Các đơn vị của huyện ", "tcvn3") + encode_legacy("và thông tin các xã", "vni")
            + "\n" + encode_legacy("Cộng hoà xã hội chủ nghĩa Việt Nam", "tcvn3"))
    assert fix_legacy(text) == "Các đơn vị của huyện và thông tin các xã\nCộng hoà xã hội chủ nghĩa Việt Nam"


def test_legacy_readings():
    assert legacy_readings("caùc") == ("vni",)
    assert legacy_readings("c¸c") == ("tcvn3",)
    assert set(legacy_readings("thoâng", ("tcvn3", "vni"))) == {"tcvn3", "vni"}
    assert legacy_readings("các") == () and legacy_readings("Phòng") == () and legacy_readings("UBND") == ()


def test_unicode_runs_beside_legacy_runs_are_left_as_they_are():
    runs = [("Phòng Nội vụ ", "Times New Roman"), ("C¸c ", ".VnTime"), ("Ủy ban", ".VnTime"),
            (" vaø ", "VNI-Times"), ("chính phủ", "VNI-Times"), (" tháng 10", None)]
    assert decode_runs(runs) == "Phòng Nội vụ Các Ủy ban và chính phủ tháng 10"


def test_legacy_run_read_through_windows_1258():
    # LibreOffice reads an RTF .VnTime font declared \fcharset163 through Windows-1258: the
    # byte 0xDE (TCVN3 "ị") arrives as a combining tilde.
    assert decode_run("C¸c ®¬n v\u0303", ".VnTime") == "Các đơn vị"
    assert decode_run("chi\u0301nh phu\u0309", ".VnTime") == "chính phủ"  # real Unicode stays


def test_rtf_font_table_with_vietnamese_charset(lo):
    rtf = S.to_rtf(S.SAMPLES["mixed"]).replace(b"\\fcharset0 .VnTime", b"\\fcharset163 .VnTime")
    assert b"fcharset163" in rtf
    for converter in (lo, NO_TOOLS):
        assert_reads_as(read(rtf, "a.rtf", converter), S.SAMPLES["mixed"], fallback=converter is NO_TOOLS)


def test_html_as_word_writes_it():
    page = ("<html><head><style>p.MsoTitle {font-family:\"\\.VnTimeH\";}</style></head><body>"
            "<p class=MsoTitle>MôC lôc</p><p><span style='font-family:Symbol'>\xb7</span>"
            "<span style='font-family:\"\\.VnTime\"'>c¸c x·</span></p></body></html>")
    assert read_html(page.encode("utf-8")).lines == ["MỤC LỤC", "\u2022 các xã"]


def test_rtf_symbol_inserted_as_unicode_private_use():
    rtf = (b"{\\rtf1\\ansi{\\fonttbl{\\f0 Times New Roman;}{\\f1\\fcharset2 Symbol;}{\\f2 .VnTime;}}"
           b"{\\f1 \\u-3913?}{\\f2 c\\'b8c x\\'b7}\\par}")
    assert read_rtf(rtf).lines == ["\u2022 các xã"]
