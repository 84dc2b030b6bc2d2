"""read_document on files written by python-docx/openpyxl and by hand: structure, legacy fonts,
safety (XML bombs, entities, macros, passwords, broken files), and the JSON the CLI prints.
LibreOffice, PDF and OCR paths are in test_formats.py."""
from __future__ import annotations

import io
import re
import time
import unicodedata
import zipfile

import docx
import pytest

import fixtures_docs as F
from parsers.convert import Converter
from parsers.document import (EMPTY_PROBLEM, ENCRYPTED_PROBLEM, NO_TEXT_PROBLEM, UNKNOWN_PROBLEM,
                              document_to_json, has_nd30_header, read_document, read_file)
from parsers.docx_reader import MACRO_PROBLEM, read_docx
from parsers.model import Attachment, Limits
from parsers.xlsx_reader import format_value
from parsers.xmlsafety import CORRUPT_ZIP_PROBLEM, ENTITY_PROBLEM

# Never reaches LibreOffice or Tesseract: these tests are about the pure readers.
NO_TOOLS = Converter.without_programs()


def read(data: bytes, name: str = "tep.docx", limits: Limits = Limits(), **kw):
    return read_document(Attachment(filename=name, content_type="", data=data, **kw), limits, converter=NO_TOOLS)


# -- .docx ------------------------------------------------------------------------------------
def test_docx_reading_order_tables_header_footer():
    doc = read(F.nd30_report())
    assert doc.kind == "docx" and doc.problems == ()
    lines = list(doc.lines)
    assert lines[0] == "Trang đầu - báo cáo dân vận"  # header first
    assert lines[-1] == "Lưu: VT, NV."  # footer last
    # The header table is flattened row by row, cell by cell; a cell's line breaks split lines.
    assert lines[1:7] == ["ỦY BAN NHÂN DÂN", "XÃ MỸ HÒA", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                          "Độc lập - Tự do - Hạnh phúc", "Số: 45/BC-UBND", "Tháp Mười, ngày 15 tháng 10 năm 2024"]
    assert lines.index("BÁO CÁO") < lines.index("Chỉ tiêu") < lines.index("Đoàn Thanh Bình")
    # The merged cell is read once; its grid column is padded so the columns still line up.
    assert lines.count("Tổng (ô gộp)") == 1
    header_table, figures = doc.tables
    assert header_table[1] == ("Số: 45/BC-UBND", "Tháp Mười, ngày 15 tháng 10 năm 2024")
    assert figures == (("Chỉ tiêu", "Kế hoạch", "Thực hiện"), ("Số cuộc tuyên truyền", "12", "1.234,5"),
                       ("Tổng (ô gộp)", "", "99"))
    assert doc.text == "\n".join(doc.lines)
    assert all(line == line.strip() and line for line in doc.lines)


def test_docx_facts_are_extracted():
    doc = read(F.nd30_report())
    assert doc.facts is not None
    assert doc.facts.number.value == "45/BC-UBND"
    assert doc.facts.signer.value == "Đoàn Thanh Bình"


def test_legacy_runs_decoded_run_by_run():
    doc = read(F.legacy_docx())
    assert doc.lines[0] == F.TCVN3_TITLE_UNICODE
    # One paragraph mixing a TCVN3 run between Unicode runs: only the TCVN3 run is decoded.
    assert doc.lines[1] == "Địa danh: Tháp Mười – tỉnh Đồng Tháp"
    assert doc.lines[2] == "Bộ Tài chính"  # VNI-Times
    assert doc.lines[3] == F.TCVN3_TITLE_UNICODE  # font from the paragraph style, not the run
    assert doc.tables == ((("Tháp Mười", "Unicode"),),)
    assert all(unicodedata.is_normalized("NFC", line) for line in doc.lines)


def test_legacy_title_in_nd30_header_gives_facts():
    doc = read(F.nd30_report(legacy=True))
    assert F.TCVN3_TITLE_UNICODE in doc.lines
    assert "Tháp Mười, ngày 15 tháng 10 năm 2024" in doc.lines
    assert doc.facts.place.value and "Tháp Mười" in doc.facts.place.value


def test_nfd_text_comes_out_nfc():
    d = docx.Document()
    d.add_paragraph(unicodedata.normalize("NFD", "Kế hoạch thực hiện năm 2024"))
    doc = read(F.save_docx(d))
    assert doc.lines == ("Kế hoạch thực hiện năm 2024",)


def test_docx_lines_and_cells_are_clean_even_around_soft_hyphens():
    # The .docx reader promises NFC lines without soft hyphens (Blocks.clean), so read_document
    # does not normalise them again: a soft hyphen between a letter and its accent, in a
    # paragraph and in a table cell, must still leave composed letters.
    nfd = unicodedata.normalize("NFD", "Tháp Mười")
    split = nfd.replace("a\u0301", "a\u00ad\u0301")
    body = (f'<w:p><w:r><w:t>{split}</w:t><w:softHyphen/><w:t> {nfd}</w:t></w:r></w:p>'
            f'<w:tbl><w:tr><w:tc><w:p><w:r><w:t>{split}</w:t></w:r></w:p></w:tc></w:tr></w:tbl>')
    doc = read(F.with_body_xml(F.save_docx(docx.Document()), body))
    assert doc.lines == ("Tháp Mười Tháp Mười", "Tháp Mười")
    assert doc.tables == ((("Tháp Mười",),),)


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_text_boxes_tracked_changes_and_fields():
    body = (
        '<w:p><w:r><w:t xml:space="preserve">Trước </w:t></w:r>'
        '<w:del w:id="1" w:author="a"><w:r><w:delText>đã xoá</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="a"><w:r><w:t>đã thêm</w:t></w:r></w:ins>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>7</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:r><w:tab/><w:t>sau tab</w:t><w:br/><w:t>dòng mới</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>Neo</w:t></w:r><w:r>'
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData>'
        '<wps:wsp xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:txbx>'
        '<w:txbxContent><w:p><w:r><w:t>Chữ trong hộp</w:t></w:r></w:p></w:txbxContent>'
        '</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><v:textbox xmlns:v="urn:schemas-microsoft-com:vml">'
        '<w:txbxContent><w:p><w:r><w:t>Chữ trong hộp</w:t></w:r></w:p></w:txbxContent>'
        '</v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>'
        '<w:r><w:t xml:space="preserve"> hết</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>Cuối</w:t></w:r></w:p>'
    )
    data = F.with_body_xml(F.save_docx(docx.Document()), body)
    doc = read(data)
    assert doc.lines == ("Trước đã thêm7\tsau tab", "dòng mới", "Neo hết", "Chữ trong hộp", "Cuối")


def test_fast_and_walker_paths_agree():
    """The XSLT path (no legacy font) and the run-by-run walk (legacy fonts) read one document
    the same way; a legacy run anywhere switches the paths."""
    plain = F.nd30_report()
    with_legacy = F.with_body_xml(plain, F.document_xml(plain).split("<w:body>")[1].split("<w:sectPr")[0]
                                  + '<w:p><w:r><w:rPr><w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/></w:rPr>'
                                  "<w:t>Th¸p M\u00adêi</w:t></w:r></w:p>")
    fast, walked = read_docx(plain), read_docx(with_legacy)
    assert walked.lines[:-2] == fast.lines[:-1]  # the added paragraph precedes the footer
    assert walked.lines[-2] == "Tháp Mười"
    assert walked.tables == fast.tables


def _legacy_fonts_docx() -> bytes:
    """Every source a run's legacy font can come from, for the transform's run keys: w:rFonts
    (hAnsi, ascii, an empty hAnsi, an explicit Unicode ascii, theme fonts), a character style,
    the paragraph's style; with tabs, breaks, hyphens, a symbol, a hyperlink, a merged cell."""
    data = F.save_docx(docx.Document())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        styles = zf.read("word/styles.xml").decode("utf-8")
        theme = zf.read("word/theme/theme1.xml").decode("utf-8")
    styles = styles.replace("</w:styles>", (
        '<w:style w:type="character" w:styleId="VnChar"><w:name w:val="Vn Char"/>'
        '<w:rPr><w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/></w:rPr></w:style>'
        '<w:style w:type="paragraph" w:styleId="VnHead"><w:name w:val="Vn Head"/><w:basedOn w:val="Normal"/>'
        '<w:rPr><w:rFonts w:ascii=".VnTimeH" w:hAnsi=".VnTimeH"/></w:rPr></w:style></w:styles>'))
    # The heading theme font becomes .VnTimeH; the body one (the template's default run font)
    # stays Unicode, so a run whose own font is missed is left undecoded and the test sees it.
    theme = re.sub(r'(<a:majorFont>\s*<a:latin typeface=")[^"]*', r"\g<1>.VnTimeH", theme)
    tcvn3 = "Th\u00b8p M\u00adêi"  # "Tháp Mười" typed in TCVN3

    def run(rpr: str, text: str = tcvn3) -> str:
        return f'<w:r>{"<w:rPr>" + rpr + "</w:rPr>" if rpr else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'

    body = "".join(f"<w:p>{r}</w:p>" for r in (
        run('<w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime" w:cs="Arial" w:hint="default"/>'),
        run('<w:rFonts w:ascii=".VnTime"/>'),
        run('<w:rFonts w:hAnsi="" w:ascii=".VnTime"/>'),
        run('<w:rFonts w:hAnsiTheme="majorHAnsi"/>', "TH\u00b8P M\u00a6êI"),
        run('<w:rFonts w:hAnsiTheme="" w:asciiTheme="majorHAnsi"/>', "TH\u00b8P M\u00a6êI"),
        run('<w:rStyle w:val="VnChar"/><w:rFonts w:hAnsi=""/>'),
        run('<w:rStyle w:val="VnChar"/>'),
        run('<w:rFonts w:ascii=""/>', "Tháp Mười"),
        run('<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman"/>', "Tháp Mười")
        + run('<w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/>', " \u00ae\u00abng Th\u00b8p"),
    ))
    body += ('<w:p><w:pPr><w:pStyle w:val="VnHead"/></w:pPr>' + run("", "TH\u00b8P M\u00a6êI")
             + '<w:hyperlink r:id="rId99" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             + run('<w:rStyle w:val="VnChar"/>', " - ") + "</w:hyperlink>"
             + '<w:r><w:rPr><w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/></w:rPr><w:t>a</w:t><w:tab/><w:t>b</w:t>'
             '<w:br/><w:t>c</w:t><w:noBreakHyphen/><w:softHyphen/><w:t>d</w:t></w:r>'
             '<w:r><w:rPr><w:rFonts w:ascii="Symbol" w:hAnsi="Symbol"/></w:rPr><w:sym w:font="Symbol" w:char="F0B7"/></w:r></w:p>')
    body += ('<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr>' + "<w:p>" + run('<w:rStyle w:val="VnChar"/>') + "</w:p>"
             '</w:tc></w:tr><w:tr><w:tc><w:p>' + run("", "x") + '</w:p></w:tc><w:tc><w:p>'
             + run('<w:rFonts w:asciiTheme="majorHAnsi"/>', "TH\u00b8P") + "</w:p></w:tc></w:tr></w:tbl>")
    data = F.with_body_xml(data, body)
    return F.rewrite_docx(data, {"word/styles.xml": styles, "word/theme/theme1.xml": theme})


def test_legacy_transform_reads_every_run_font_as_the_walker(monkeypatch):
    """The legacy transform (libxslt writes each run's font key) and the run-by-run walk give
    the same lines and tables, and both decode what must be decoded."""
    import parsers.docx_reader as D

    data = _legacy_fonts_docx()
    through_transform = read_docx(data)
    D._STYLES_MEMO.clear()
    monkeypatch.setattr(D, "_WALKED_ONLY", D._WALKED_ONLY + (b"<w:body>",))  # every part walked
    walked = read_docx(data)
    assert through_transform.lines == walked.lines
    assert through_transform.tables == walked.tables
    # Each of the first eight paragraphs is one run whose font comes from a different place;
    # the fourth and fifth take the theme's heading font (.VnTimeH: capitals), the eighth names
    # a Unicode font.
    assert through_transform.lines[:8] == ["Tháp Mười"] * 3 + ["THÁP MƯỜI"] * 2 + ["Tháp Mười"] * 3
    assert through_transform.lines[8] == "Tháp Mười đông Tháp"  # a Unicode run, then a TCVN3 one
    assert through_transform.lines[9:11] == ["THÁP MƯỜI - a\tb", "c-ưd•"]  # TCVN3 reads U+00AD as "ư"
    assert through_transform.tables[-1] == (("Tháp Mười", ""), ("x", "THÁP"))


def _cell(tcpr: str | None, text: str) -> str:
    """A table cell; tcpr: its w:tcPr's content (or the whole element), "after:" + content for a
    w:tcPr written after the cell's paragraph."""
    after = tcpr is not None and tcpr.startswith("after:")
    if after:
        tcpr = tcpr[len("after:"):]
    pr = "" if tcpr is None else (tcpr if tcpr.startswith("<w:tcPr") else f"<w:tcPr>{tcpr}</w:tcPr>")
    para = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"
    return f"<w:tc>{para}{pr}</w:tc>" if after else f"<w:tc>{pr}{para}</w:tc>"


# w:tcPr as units' files have them: every span and merge form the lines format reads itself...
_CELL_FORMS = (
    None, "<w:tcPr/>", '<w:tcW w:w="1000" w:type="dxa"/>', '<w:gridSpan w:val="2"/>',
    '<w:tcW w:w="2000" w:type="dxa"/><w:gridSpan w:val="3"/><w:vAlign w:val="center"/>',
    '<w:gridSpan w:val="0"/>', '<w:gridSpan w:val="1"/>', '<w:gridSpan w:val="007"/>',
    '<w:gridSpan w:val="99"/>', "<w:gridSpan/>", '<w:gridSpan w:val=""/>',
    '<w:gridSpan/><w:gridSpan w:val="2"/>', '<w:vMerge w:val="restart"/>', "<w:vMerge/>",
    '<w:vMerge w:val="continue"/>', '<w:vMerge w:val=""/>', '<w:vMerge w:val="restart"/><w:vMerge/>',
    '<w:gridSpan w:val="2"/><w:vMerge/>', '<w:gridSpan w:val="2"/><w:vMerge w:val="restart"/>',
    '<w:gridSpan w:val="2"/><w:gridSpan w:val="3"/>',
)
# ...and those odd writers leave, which send the part to the token format.
_ODD_CELL_FORMS = ('<w:gridSpan w:val="abc"/>', '<w:gridSpan w:val=" 2"/>', '<w:gridSpan w:val="123456789"/>')
_LATE_CELL_FORM = ('after:<w:gridSpan w:val="2"/>',)


def _tables_body(forms, run_rpr: str = "", text: str = "ô", nested: str = "") -> str:
    rows = ["<w:tr>" + _cell(form, f"{text} {i}") + _cell(None, f"sau {i}") + "</w:tr>" for i, form in enumerate(forms)]
    body = "<w:tbl>" + "".join(rows) + "</w:tbl>"
    inner = "<w:tbl><w:tr>" + _cell(None, "trong") + "</w:tr></w:tbl>"
    if nested in ("continued", "both"):  # a table inside a continued cell
        body += ("<w:tbl><w:tr>" + _cell('<w:vMerge w:val="restart"/>', "đầu") + "</w:tr><w:tr>"
                 + '<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/>' + inner + "<w:p/></w:tc></w:tr></w:tbl>")
    if nested in ("spanned", "both"):  # and inside a spanned one
        body += ("<w:tbl><w:tr>" + '<w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr>' + inner + "<w:p/></w:tc>"
                 + _cell(None, "cạnh") + "</w:tr></w:tbl>")
    body += "<w:p><w:r><w:t>hết</w:t></w:r></w:p>"
    if run_rpr:
        body = body.replace("<w:r><w:t>", f"<w:r><w:rPr>{run_rpr}</w:rPr><w:t>")
    return body


@pytest.mark.parametrize("forms, nested, lines_format", [
    (_CELL_FORMS, "", True), (_CELL_FORMS[:4] + _ODD_CELL_FORMS, "", False), (_CELL_FORMS[:4] + _LATE_CELL_FORM, "", False),
    (_CELL_FORMS[:4], "continued", False), (_CELL_FORMS[:4], "spanned", False), (_CELL_FORMS[:4], "both", False)])
def test_merged_and_spanned_cells_read_alike_by_every_path(monkeypatch, forms, nested, lines_format):
    """The lines format (cell notes resolved by place_spans), the token format and, with a legacy
    font, the transform and the walker, all give the same lines and tables for every w:tcPr form."""
    import parsers.docx_reader as D

    plain = F.with_body_xml(F.save_docx(docx.Document()), _tables_body(forms, nested=nested))
    took = []
    real = D.read_lines_marked
    with monkeypatch.context() as m:
        m.setattr(D, "read_lines_marked", lambda *a: took.append(real(*a)) or took[-1])
        by_default = read_docx(plain)
        assert took[-1] is lines_format  # the part was read in the format this case is about
        m.setattr(D, "read_lines_marked", lambda *a: False)
        token_format = read_docx(plain)
    assert by_default.lines == token_format.lines
    assert by_default.tables == token_format.tables
    first = by_default.tables[0]
    assert first[3] == ("ô 3", "", "sau 3")
    if forms is _CELL_FORMS:
        assert first[4] == ("ô 4", "", "", "sau 4") and first[7] == ("ô 7",) + ("",) * 6 + ("sau 7",)
        assert first[8] == ("ô 8",) + ("",) * 63 + ("sau 8",) and first[11] == ("ô 11", "", "sau 11")
        assert first[13] == ("", "sau 13") and first[14] == ("", "sau 14") and first[15] == ("ô 15", "sau 15")
        assert first[16] == ("", "sau 16") and first[17] == ("", "", "sau 17") and first[18] == ("ô 18", "", "sau 18")
        assert "ô 13" not in by_default.lines and "ô 12" in by_default.lines
        assert first[19] == ("ô 19", "", "sau 19")  # the first of two spans
    if _ODD_CELL_FORMS[0] in forms:  # a span that is not 1-8 plain digits spans nothing
        assert first[4:7] == (("ô 4", "sau 4"), ("ô 5", "sau 5"), ("ô 6", "sau 6"))
    if nested:  # a continued cell's table is skipped
        assert by_default.lines.count("trong") == (0 if nested == "continued" else 1)

    legacy = F.with_body_xml(F.save_docx(docx.Document()), _tables_body(
        forms, '<w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/>', "\u00ab", nested))
    through_transform = read_docx(legacy)
    D._STYLES_MEMO.clear()
    monkeypatch.setattr(D, "_WALKED_ONLY", D._WALKED_ONLY + (b"<w:body>",))
    walked = read_docx(legacy)
    assert through_transform.lines == walked.lines
    assert through_transform.tables == walked.tables
    assert through_transform.tables[0][3] == ("ô 3", "", "sau 3")
    if forms is _CELL_FORMS:
        assert through_transform.tables == by_default.tables
    assert [len(row) for row in through_transform.tables[0]] == [len(row) for row in first]


@pytest.mark.parametrize("code", range(0xE001, 0xE00A))
@pytest.mark.parametrize("spelling", ["raw", "hex", "decimal"])
def test_marker_code_points_in_the_text_are_read_as_the_token_format_reads_them(monkeypatch, code, spelling):
    """The transforms mark tables and cell notes with U+E001-U+E009; a part whose own text holds
    one (as UTF-8 or a character reference) never reaches the lines format, which would take it
    for structure; and a legacy part with one is walked."""
    import parsers.docx_reader as D

    char = {"raw": chr(code), "hex": f"&#x{code:X};", "decimal": f"&#{code};"}[spelling]
    cells = "".join(_cell(form, f"ô{char}{i}") for i, form in enumerate((None, '<w:gridSpan w:val="2"/>', "<w:vMerge/>")))
    body = f"<w:p><w:r><w:t>a{char}b</w:t></w:r></w:p><w:tbl><w:tr>{cells}</w:tr></w:tbl>"
    data = F.with_body_xml(F.save_docx(docx.Document()), body)
    took = []
    real = D.read_lines_marked
    with monkeypatch.context() as m:
        m.setattr(D, "read_lines_marked", lambda *a: took.append(1) or real(*a))
        by_default = read_docx(data)
        assert not took
        m.setattr(D, "read_lines_marked", lambda *a: False)
        token_format = read_docx(data)
    assert (by_default.lines, by_default.tables) == (token_format.lines, token_format.tables)
    legacy = F.with_body_xml(F.save_docx(docx.Document()), body.replace(
        "<w:r><w:t>", '<w:r><w:rPr><w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/></w:rPr><w:t>'))
    with monkeypatch.context() as m:
        m.setattr(D, "_legacy_transform", lambda: pytest.fail("a part holding a marker went to the transform"))
        read_docx(legacy)


def test_nested_table_and_vertical_merge():
    d = docx.Document()
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "Dọc"
    t.cell(0, 1).text = "A"
    inner = t.cell(1, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "x"
    inner.cell(0, 1).text = "y"
    doc = read(F.save_docx(d))
    assert doc.lines.count("Dọc") == 1
    assert doc.lines == ("Dọc", "A", "x", "y")
    inner_table, outer = doc.tables
    assert inner_table == (("x", "y"),)
    assert outer == (("Dọc", "A"), ("", "x\ny"))


def test_text_is_capped():
    doc = read(F.nd30_report(extra_paragraphs=200), limits=Limits(max_text_chars=500))
    assert len(doc.text) <= 500
    assert any("chỉ đọc 500 ký tự" in p for p in doc.problems)


# -- safety -----------------------------------------------------------------------------------
def test_billion_laughs_is_refused_fast():
    data = F.rewrite_docx(F.nd30_report(), {"word/document.xml": F.BILLION_LAUGHS})
    start = time.perf_counter()
    doc = read(data)
    assert time.perf_counter() - start < 2
    assert doc.problems == (ENTITY_PROBLEM,)
    assert doc.text == "" and "thực thể XML" in doc.problems[0]


def test_external_entity_is_refused_and_not_resolved():
    data = F.rewrite_docx(F.nd30_report(), {"word/document.xml": F.EXTERNAL_ENTITY})
    doc = read(data)
    assert doc.problems == (ENTITY_PROBLEM,)
    assert "root:" not in doc.text


def test_entity_in_any_part_the_reader_parses_is_refused():
    styles = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><w:styles ' + W + "/>"
    doc = read(F.rewrite_docx(F.nd30_report(), {"word/styles.xml": styles}))
    assert doc.problems == (ENTITY_PROBLEM,)
    rels = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><Relationships/>'
    doc = read(F.rewrite_docx(F.nd30_report(), {"word/_rels/document.xml.rels": rels}))
    assert doc.problems == (ENTITY_PROBLEM,) and doc.text == ""


def test_doctype_in_a_part_nobody_parses_does_not_stop_the_reading():
    # The .docx reader checks each part as it reads it: docProps/app.xml is never parsed, so a
    # DOCTYPE there cannot expand anything, and the report is still read.
    app = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><Properties/>'
    doc = read(F.rewrite_docx(F.nd30_report(), {"docProps/app.xml": app}))
    assert doc.problems == () and "BÁO CÁO" in doc.lines


def test_zip_bomb_member_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(F.nd30_report())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("word/media/bomb.bin", b"\x00" * (20 * 1024 * 1024))
    doc = read(out.getvalue(), limits=Limits(zip_max_ratio=100))
    assert doc.text == ""
    assert "bom nén" in doc.problems[0]


def test_docm_is_read_but_macros_flagged():
    doc = read(F.docm(F.nd30_report()), name="bao-cao.docm")
    assert doc.kind == "docm"
    assert "BÁO CÁO" in doc.lines
    assert MACRO_PROBLEM in doc.problems and "không chạy macro" in MACRO_PROBLEM


def test_encrypted_office_file():
    doc = read(F.encrypted_office_file(), name="bao-cao.docx")
    assert doc.kind == "encrypted-office"
    assert doc.problems == (ENCRYPTED_PROBLEM,)
    assert doc.text == ""


def test_zero_bytes_and_whitespace():
    for data in (b"", b"   \r\n"):
        doc = read(data, name="bao-cao.docx")
        assert doc.kind == "empty" and doc.problems == (EMPTY_PROBLEM,) and doc.text == ""


def test_corrupt_zip():
    data = F.nd30_report()
    doc = read(data[: len(data) // 2], name="bao-cao.docx")
    assert doc.text == ""
    assert doc.problems and ("hỏng" in doc.problems[0])
    assert read(b"PK\x03\x04garbage" * 10, name="x.docx").problems == (CORRUPT_ZIP_PROBLEM,)


def test_never_raises_on_garbage():
    samples = [b"\x00\x01\x02" * 50, b"%PDF-1.7\n" + b"\xff" * 300, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
               b"{\\rtf1 {{{{{{", b"<html><body><table><tr><td>x", b"PK\x05\x06" + b"\x00" * 18]
    for data in samples:
        for name in ("a.pdf", "a.doc", "a.docx", "a.xlsx", "a"):
            doc = read(data, name=name)
            assert isinstance(doc.problems, tuple)
            assert doc.text or doc.problems, (name, data[:10])


def test_attachment_problems_are_carried_over():
    doc = read(b"", name="bom.zip", problems=("Tệp nén có tỉ lệ nén bất thường; không mở.",))
    assert doc.problems == ("Tệp nén có tỉ lệ nén bất thường; không mở.",)
    doc = read(F.nd30_report(), name="a.docx", problems=("Tệp nằm trong thư chuyển tiếp.",))
    assert doc.problems == ("Tệp nằm trong thư chuyển tiếp.",) and "BÁO CÁO" in doc.lines
    assert doc.path == ""


def test_too_large_attachment():
    doc = read(F.nd30_report(), limits=Limits(max_attachment_bytes=1000))
    assert doc.text == "" and "quá lớn" in doc.problems[0]


# -- .xlsx ------------------------------------------------------------------------------------
def test_xlsx_sheets_numbers_and_legacy_font():
    doc = read(F.sample_xlsx(legacy=True), name="bieu.xlsx")
    assert doc.kind == "xlsx" and doc.problems == ()
    sheet1, sheet2 = doc.tables
    assert sheet1[0] == ("Chỉ tiêu", "Năm", "Số lượng", "Tỉ lệ", "Ngày")
    assert sheet1[1] == ("Tuyên truyền", "2024", "1234,5", "25,5%", "15/10/2024")
    assert sheet1[2] == ("Hội nghị", "2023", "7", "100%", "05/01/2023")
    assert sheet1[3] == ("Kế hoạch năm 2024",)
    assert sheet2 == (("Đơn vị", "Ghi chú"), ("Phòng Nội vụ", "Đúng hạn"))
    assert doc.facts is None  # no ND30 header: a table, not a document


def test_xlsx_with_nd30_header_gets_facts():
    doc = read(F.sample_xlsx(nd30=True), name="bieu.xlsx")
    assert has_nd30_header(doc.lines)
    assert doc.facts is not None and doc.facts.number.value == "12/BC-UBND"


def test_format_value_is_vietnamese_and_unambiguous():
    from parsers.numbers import parse_number

    assert format_value(2024) == "2024"
    assert format_value(1234567.0) == "1234567"
    assert format_value(1234.5) == "1234,5"
    assert format_value(-0.125) == "-0,125"
    assert format_value(0.255, "0.0%") == "25,5%"
    for value in (2024, 1234.5, 0.001, 1234567.25):
        assert parse_number(format_value(value)) == pytest.approx(value)


def test_xlsm_flags_macros():
    data = F.sample_xlsx()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        types = zf.read("[Content_Types].xml").decode()
    types = types.replace("spreadsheetml.sheet.main+xml", "spreadsheetml.sheet.main+xml").replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    data = F.rewrite_docx(data, {"[Content_Types].xml": types}, add={"xl/vbaProject.bin": b"\x00" * 64})
    doc = read(data, name="bieu.xlsm")
    assert doc.kind == "xlsm" and MACRO_PROBLEM in doc.problems
    assert "Tuyên truyền" in doc.lines


# -- text formats -----------------------------------------------------------------------------
def test_rtf_named_doc_is_read_as_rtf_with_legacy_font():
    doc = read(F.RTF_LEGACY, name="bao-cao.doc")
    assert doc.kind == "rtf"
    assert doc.lines[0] == F.TCVN3_TITLE_UNICODE
    assert doc.lines[1] == "BÁO CÁO kết quả dân vận"
    assert doc.lines[2] == "Số: 45/BC-UBND\tngày 15"
    assert doc.facts.number.value == "45/BC-UBND"
    # No LibreOffice here: the plain-text path says its result is less accurate.
    assert any("LibreOffice" in p for p in doc.problems)


def test_html_named_doc_tables_charset_and_legacy_face():
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1258">'
        "<style>p {color: red}</style><script>var x = 1;</script></head><body>"
        '<p><font face=".VnTime">Céng hoµ x· héi chñ nghÜa ViÖt Nam</font></p>'
        "<p>Số: 7/KH-UBND</p><table><tr><td>Chỉ tiêu</td><td colspan=2>Kết quả</td></tr>"
        "<tr><td>Hội nghị</td><td>3</td><td>4</td></tr></table><p>Hết<br>dòng hai</p></body></html>"
    )
    data = F.cp1258_bytes(html)
    doc = read(data, name="ke-hoach.doc")
    assert doc.kind == "html"
    assert doc.lines == (F.TCVN3_TITLE_UNICODE, "Số: 7/KH-UBND", "Chỉ tiêu", "Kết quả", "Hội nghị", "3", "4",
                         "Hết", "dòng hai")
    assert doc.tables == ((("Chỉ tiêu", "Kết quả", ""), ("Hội nghị", "3", "4")),)
    assert "var x" not in doc.text and "color" not in doc.text


def test_txt_utf8_and_tcvn3_bytes():
    assert read("Kế hoạch\n\n  năm 2024  \n".encode(), name="a.txt").lines == ("Kế hoạch", "năm 2024")
    legacy = (F.TCVN3_TITLE + "\r\nKÕ ho¹ch n¨m 2024\r\n").encode("cp1252")
    doc = read(legacy, name="a.txt")
    assert doc.kind == "txt"
    assert doc.lines == (F.TCVN3_TITLE_UNICODE, "Kế hoạch năm 2024")


def test_pptx_slide_text():
    doc = read(F.minimal_pptx([["Báo cáo", "Trang một"], ["Trang hai"]]), name="a.pptx")
    assert doc.kind == "pptx" and doc.lines == ("Báo cáo", "Trang một", "Trang hai")


def test_image_without_ocr_says_so():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    doc = read(png, name="scan.png")
    assert doc.kind == "png" and doc.scanned
    assert "OCR" in doc.problems[0] and doc.text == ""


def test_unknown_and_blank_documents():
    assert read(b"\x00\x9f\x92\x96" * 100, name="x.bin").problems == (UNKNOWN_PROBLEM,)
    blank = read(F.save_docx(docx.Document()))
    assert blank.text == "" and blank.problems == (NO_TEXT_PROBLEM,)


# -- JSON and files on disk -----------------------------------------------------------------------
def test_document_to_json_contract():
    entry = document_to_json(read(F.nd30_report(), name="bao-cao.docx"))
    for key in ("file", "kind", "text", "facts", "problems"):
        assert key in entry
    assert entry["file"] == "bao-cao.docx" and entry["kind"] == "docx"
    assert set(entry["facts"]) >= {"issuer", "number", "date", "type", "title", "place", "authority",
                                   "signer_title", "signer"}
    assert entry["facts"]["number"] == "45/BC-UBND"
    assert entry["facts"]["date"] == "2024-10-15"
    assert entry["problems"] == []
    failed = document_to_json(read(b"", name="rong.docx"))
    assert failed["text"] == "" and failed["problems"] == [EMPTY_PROBLEM]
    assert all(value is None for value in failed["facts"].values())


def test_read_file_plain_file(tmp_path):
    path = tmp_path / "bao-cao.docx"
    path.write_bytes(F.nd30_report())
    (doc,) = read_file(path)
    assert doc.filename == "bao-cao.docx" and doc.kind == "docx" and "BÁO CÁO" in doc.lines
    (missing,) = read_file(tmp_path / "khong-co.docx")
    assert missing.text == "" and missing.problems


def test_read_file_opens_mail_and_zip(tmp_path):
    from corpus import submission

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        zf.writestr("bao-cao.docx", F.nd30_report())
        zf.writestr("bieu.xlsx", F.sample_xlsx())
    (tmp_path / "goi.zip").write_bytes(packed.getvalue())
    (tmp_path / "thu.eml").write_bytes(
        submission("xa.myhoa@thapmuoi.example", "Báo cáo dân vận",
                   [("bao-cao.docx", F.nd30_report()), ("goi.zip", packed.getvalue())]))
    (tmp_path / "trong.eml").write_bytes(submission("xa.myhoa@thapmuoi.example", "Hỏi", []))

    from_zip = read_file(tmp_path / "goi.zip")
    assert [(d.filename, d.kind, d.path) for d in from_zip] == [("bao-cao.docx", "docx", "goi.zip"),
                                                              ("bieu.xlsx", "xlsx", "goi.zip")]
    from_mail = read_file(tmp_path / "thu.eml")
    assert [(d.filename, d.path) for d in from_mail] == [("bao-cao.docx", ""), ("bao-cao.docx", "goi.zip"),
                                                          ("bieu.xlsx", "goi.zip")]
    assert from_mail[0].facts.number.value == "45/BC-UBND"
    (bare,) = read_file(tmp_path / "trong.eml")
    assert bare.kind == "eml" and "Thư không có tệp đính kèm." in bare.problems


@pytest.mark.parametrize("line, header", [
    ("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", True), ("Độc lập – Tự do – Hạnh phúc", True),
    ("Độc lập-Tự do-Hạnh phúc", True), ("Số: 45/BC-UBND", True), ("Số 45 hồ sơ tiếp nhận", False),
    ("Biểu số liệu công tác dân vận", False)])
def test_a_sheet_header_is_known_by_title_motto_or_number(line, header):
    assert has_nd30_header(["", line]) is header
