#!/usr/bin/env python3
"""Writes templates/report/du-thao-bao-cao.docx, the Word template of the consolidated draft.

The binary template is generated so that it is reproducible and reviewable as code; an admin may
still open the generated file in Word and restyle it (fonts, spacing, the "Dự thảo - ..." styles)
as long as the {{ ... }} and {%p ... %} tags stay. docxtpl (Jinja2 over the document XML) fills
it from daemon.draft.ReportModel; every text comes from the model, the template only lays out.

Layout follows Nghị định 30/2020/NĐ-CP (see shared DOMAIN.md): A4 portrait; margins top/bottom
20 mm, left 30 mm, right 15 mm; Times New Roman; the header as a borderless two-column table
(issuer left, national title and motto right; number left, place and date right); page numbers
centred in the top margin from page 2 (a different, empty first-page header).

Usage: python scripts/make_report_template.py [OUT.docx]
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from daemon.report.word import no_borders  # noqa: E402
from parsers.text import ascii_key  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "templates" / "report" / "du-thao-bao-cao.docx"
FONT = "Times New Roman"
CENTER, JUSTIFY, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.LEFT

BODY, HEAD1, HEAD2, CELL, CELL_HEAD = ("Dự thảo - Nội dung", "Dự thảo - Đề mục 1", "Dự thảo - Đề mục 2",
                                       "Dự thảo - Bảng", "Dự thảo - Tiêu đề bảng")
CELL_NUM = "Dự thảo - Bảng số"  # numbers in the appendices' tables, right-aligned
CELL_MID = "Dự thảo - Bảng giữa"  # order numbers and dates, centred


def _fonts(element, size: float | None = None) -> None:
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    _fonts(normal.element)
    pf = normal.paragraph_format
    pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(0), 1.0

    def para_style(name, size, *, bold=False, italic=False, align=JUSTIFY, indent=True, after=6, before=0):
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        # Word shows the Vietnamese name; the id stays ASCII for every reader of the XML.
        st.style_id = "".join(w.capitalize() for w in re.findall(r"[a-z0-9]+", ascii_key(name)))
        st.base_style = normal
        st.font.name, st.font.size, st.font.bold, st.font.italic = FONT, Pt(size), bold, italic
        _fonts(st.element)
        f = st.paragraph_format
        f.alignment = align
        f.first_line_indent = Cm(1.27) if indent else Cm(0)
        f.space_after, f.space_before, f.line_spacing = Pt(after), Pt(before), 1.0
        return st

    para_style(BODY, 14)
    para_style(HEAD1, 14, bold=True)
    para_style(HEAD2, 14, bold=True)
    para_style(CELL, 11, align=LEFT, indent=False, after=0)
    para_style(CELL_HEAD, 11, bold=True, align=CENTER, indent=False, after=0)
    para_style(CELL_NUM, 11, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, after=0)
    para_style(CELL_MID, 11, align=CENTER, indent=False, after=0)


def _para(container, text="", *, style=None, size=14, bold=False, italic=False, align=CENTER, after=0, before=0,
          runs=None):
    p = container.add_paragraph(style=style)
    if style is None:
        p.alignment = align
        p.paragraph_format.space_after, p.paragraph_format.space_before = Pt(after), Pt(before)
        p.paragraph_format.first_line_indent = Cm(0)
    for run_text, run_bold, run_italic in (runs or ([(text, bold, italic)] if text else [])):
        r = p.add_run(run_text)
        # Only set what differs, so a paragraph style (bold headings) is not overridden.
        r.bold, r.italic = (True if run_bold else None), (True if run_italic else None)
        # Fonts come from the styles (Normal is Times New Roman): runs stay lean, so a table of
        # thousands of rows renders fast, and restyling the template in Word changes everything.
        if style is None:
            r.font.size = Pt(size)
    return p


def _tag(container, tag: str):
    """A paragraph holding only a docxtpl paragraph tag ({%p ... %}); it disappears on render."""
    return _para(container, tag, size=14)


def _rule(container, indent_cm: float, *, top: bool = True):
    """A short horizontal rule: an empty paragraph with a border, narrowed by indents."""
    p = container.add_paragraph()
    p.alignment = CENTER
    f = p.paragraph_format
    f.left_indent = f.right_indent = Cm(indent_cm)
    f.space_before, f.space_after = Pt(3), Pt(0)  # a gap, so the rule does not read as an underline
    f.line_spacing = Pt(4)
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    edge = OxmlElement("w:top" if top else "w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        edge.set(qn(k), v)
    borders.append(edge)
    # OOXML fixes the order of pPr children; Word refuses a file that breaks it.
    ppr.insert_element_before(borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                              "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                              "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                              "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
                              "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
                              "w:rPr", "w:sectPr", "w:pPrChange")
    r = p.add_run("")
    r.font.size = Pt(4)
    return p


def _widths(table, widths_cm) -> None:
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm):
            cell.width = Cm(w)


def _clear(cell):
    """A new cell has one empty paragraph; return the cell emptied so our paragraphs come first."""
    for p in list(cell.paragraphs):
        p._element.getparent().remove(p._element)
    return cell


def _cell_margins(table, cm: float = 0.1) -> None:
    """Narrow left/right cell margins: numbers in narrow columns must not wrap."""
    mar = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(int(Cm(cm).twips)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    table._tbl.tblPr.insert_element_before(mar, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def _page_number_header(section) -> None:
    section.different_first_page_header_footer = True  # ND30: no number on page 1
    p = section.header.paragraphs[0]
    p.alignment = CENTER
    run = p.add_run()
    run.font.size, run.font.name = Pt(13), FONT
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text.strip() == "PAGE":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def _row_cells(table, texts, style):
    """A row; `style` is one paragraph style for all its cells or one per cell."""
    row = table.add_row()
    styles = style if isinstance(style, (list, tuple)) else [style] * len(texts)
    for cell, text, st in zip(row.cells, texts, styles):
        _clear(cell)
        _para(cell, text, style=st, size=11)
    return row


def _appendix_section(doc, *, landscape: bool):
    """Each appendix on its own pages, numbered on its own: Nghị định 30/2020/NĐ-CP, Phụ lục I,
    Mục III khoản 1 điểm đ ("Số trang của Phụ lục được đánh số riêng theo từng Phụ lục"). Its
    numbering restarts at 1 and, as for the document itself, page 1 shows no number."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
    section.different_first_page_header_footer = True
    number = OxmlElement("w:pgNumType")
    number.set(qn("w:start"), "1")
    # OOXML fixes the order of sectPr children: pgNumType comes after pgMar and before cols.
    section._sectPr.insert_element_before(number, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote",
                                          "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter",
                                          "w:docGrid", "w:printerSettings", "w:sectPrChange")
    return section


def _grid_table(doc, headers, loop_open, cells, loop_close, widths, styles=CELL):
    """A bordered table: a header row, then a {%tr for %} row, the data row and {%tr endfor %}."""
    table = doc.add_table(rows=0, cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell_margins(table)
    head = _row_cells(table, headers, CELL_HEAD)
    tr_pr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    tr_pr.append(repeat)
    _row_cells(table, [loop_open] + [""] * (len(widths) - 1), CELL)
    _row_cells(table, cells, styles)
    _row_cells(table, [loop_close] + [""] * (len(widths) - 1), CELL)
    _widths(table, widths)
    return table


def build(out: Path = OUT) -> Path:
    doc = Document()
    _styles(doc)
    # Fixed properties, so regenerating gives the same document.
    from datetime import datetime
    props = doc.core_properties
    props.author = props.last_modified_by = "tonghop"
    props.title = "Mẫu dự thảo báo cáo tổng hợp"
    props.created = props.modified = datetime(2024, 1, 1)
    props.revision = 1
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    _page_number_header(section)

    # A preview says so at the top of page 1.
    _tag(doc, "{%p if preview %}")
    _para(doc, "{{ preview_note }}", size=12, bold=True, italic=True, after=6)
    _rule(doc, 0, top=False)
    _tag(doc, "{%p endif %}")

    # The ND30 header: issuer | national title and motto; number | place and date.
    header = doc.add_table(rows=2, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    no_borders(header)
    c = _clear(header.cell(0, 0))
    _tag(c, "{%p for line in parent_lines %}")
    _para(c, "{{ line }}", size=13)
    _tag(c, "{%p endfor %}")
    _tag(c, "{%p for line in issuer_lines %}")
    _para(c, "{{ line }}", size=13, bold=True)
    _tag(c, "{%p endfor %}")
    _rule(c, 1.9)
    c = _clear(header.cell(0, 1))
    _para(c, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=13, bold=True)
    _para(c, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True)
    _rule(c, 1.9)
    c = _clear(header.cell(1, 0))
    _para(c, "{{ number_line }}", size=13, before=4)
    c = _clear(header.cell(1, 1))
    _para(c, "{{ place_date }}", size=14, italic=True, before=4)
    _widths(header, (6.0, 10.5))

    # Type, summary, addressee.
    _para(doc, "{{ type_name }}", size=14, bold=True, before=18)
    _para(doc, "{{ summary }}", size=14, bold=True)
    _rule(doc, 6.5)
    _tag(doc, "{%p for line in addressee_lines %}")
    _para(doc, "{{ line }}", size=14, before=6)
    _tag(doc, "{%p endfor %}")
    _para(doc, "", size=6)

    # The body: every word comes from the model.
    _para(doc, "{{ intro }}", style=BODY)
    lead_runs = [("{% if p.flag %}{{ p.lead }}{% endif %}", True, True),
                 ("{% if not p.flag %}{{ p.lead }}{% endif %}", False, True),
                 ("{% if p.lead %} {% endif %}{{ p.text }}", False, False)]
    _tag(doc, "{%p for s in sections %}")
    _para(doc, "{{ s.number }}. {{ s.title }}", style=HEAD1)
    _tag(doc, "{%p for p in s.paragraphs %}")
    _para(doc, style=BODY, runs=lead_runs)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p for a in s.areas %}")
    _para(doc, "{{ a.number }}. {{ a.title }}", style=HEAD2)
    _tag(doc, "{%p for p in a.paragraphs %}")
    _para(doc, style=BODY, runs=lead_runs)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endfor %}")
    _para(doc, "{{ closing }}", style=BODY)

    # Signing block: recipients left, authority and signer right.
    sign = doc.add_table(rows=1, cols=2)
    no_borders(sign)
    c = _clear(sign.cell(0, 0))
    _para(c, "", size=12)
    _para(c, "Nơi nhận:", size=12, bold=True, italic=True, align=LEFT)
    _tag(c, "{%p for r in recipients %}")
    _para(c, "{{ r }}", size=11, align=LEFT)
    _tag(c, "{%p endfor %}")
    c = _clear(sign.cell(0, 1))
    _para(c, "", size=14)
    _tag(c, "{%p for line in authority %}")
    _para(c, "{{ line }}", size=14, bold=True)
    _tag(c, "{%p endfor %}")
    _para(c, "{{ signer_title }}", size=14, bold=True)
    for _ in range(4):
        _para(c, "", size=14)
    _para(c, "{{ signer }}", size=14, bold=True)
    _widths(sign, (8.0, 8.5))

    # Phụ lục I: who sent what, when.
    _appendix_section(doc, landscape=False)
    _para(doc, "Phụ lục I", size=14, bold=True)
    _para(doc, "{{ appendix1_title }}", size=13, bold=True)
    _para(doc, "{{ appendix_ref }}", size=13, italic=True, after=8)
    _grid_table(doc, ["STT", "Đơn vị", "Văn bản", "Số, ngày văn bản", "Thời điểm nhận", "Tình trạng"],
                "{%tr for r in submission_lines %}",
                ["{{ r.stt }}", "{{ r.unit }}", "{{ r.document }}", "{{ r.number_date }}", "{{ r.received }}",
                 "{{ r.status_word }}"],
                "{%tr endfor %}", (1.0, 5.2, 2.1, 3.6, 2.6, 2.0),
                styles=[CELL_MID, CELL, CELL, CELL, CELL_MID, CELL])

    # Phụ lục II: the figures, totals by indicator and per unit (indicator columns are dynamic), on
    # landscape pages so that a campaign's nine or more indicator columns stay readable.
    _appendix_section(doc, landscape=True)
    wide = 29.7 - 3.0 - 1.5
    _para(doc, "Phụ lục II", size=14, bold=True)
    _para(doc, "{{ appendix2_title }}", size=13, bold=True)
    _para(doc, "{{ appendix_ref }}", size=13, italic=True, after=8)
    _tag(doc, "{%p if indicators %}")
    _para(doc, "A. Tổng hợp theo chỉ tiêu", size=13, bold=True, align=LEFT, after=4)
    _grid_table(doc, ["Mã số", "Chỉ tiêu", "Đơn vị tính", "Tổng hợp", "Số đơn vị có số liệu"],
                "{%tr for i in indicators %}",
                ["{{ i.code }}", "{{ i.name }}", "{{ i.unit }}", "{{ i.total_text }}", "{{ i.reported }}"],
                "{%tr endfor %}", (1.8, wide - 1.8 - 2.8 - 4.0 - 2.8, 2.8, 4.0, 2.8),
                styles=[CELL_MID, CELL, CELL, CELL_NUM, CELL_NUM])
    _para(doc, "B. Số liệu của từng đơn vị (theo mã số chỉ tiêu)", size=13, bold=True, align=LEFT, before=10, after=4)
    units = doc.add_table(rows=0, cols=5)
    units.style = "Table Grid"
    units.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell_margins(units)
    head = _row_cells(units, ["STT", "Đơn vị", "{%tc for i in indicators %}", "", "{%tc endfor %}"], CELL_HEAD)
    # Each indicator's column is headed by its name, its code on a second line (a line break in
    # one paragraph: docxtpl's "\n" handling would cost seconds at 2,000 units).
    named = head.cells[3].paragraphs[0]
    small = named.add_run("{{ i.name }}")
    small.bold, small.font.size = False, Pt(9)
    small.add_break()
    named.add_run("{{ i.code }}")
    head._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    _row_cells(units, ["{%tr for f in figure_lines %}", "", "", "", ""], CELL)
    _row_cells(units, ["{{ f.stt }}", "{{ f.unit }}", "{%tc for t in f.texts %}", "{{ t }}", "{%tc endfor %}"],
               [CELL_MID, CELL, CELL, CELL_NUM, CELL])
    _row_cells(units, ["{%tr endfor %}", "", "", "", ""], CELL)
    _row_cells(units, ["", "Tổng hợp", "{%tc for i in indicators %}", "{{ i.value_text }}", "{%tc endfor %}"],
               CELL_HEAD)
    totals = units.rows[-1].cells[3].paragraphs[0]
    totals.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _widths(units, (1.2, 6.0, 0.1, wide - 7.4, 0.1))
    _tag(doc, "{%p else %}")
    _para(doc, "Chưa có đơn vị nào gửi số liệu theo biểu mẫu.", style=BODY)
    _tag(doc, "{%p endif %}")

    # Keep typed spaces ("Số:      /BC-UBND") exactly as the model writes them.
    for t in doc.element.body.iter(qn("w:t")):
        t.set(qn("xml:space"), "preserve")
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
