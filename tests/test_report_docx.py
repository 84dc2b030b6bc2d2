"""The written draft: the .docx itself (ND30 page, margins, fonts and sizes, header table, signing
block, page numbers), its PDF rendered by LibreOffice headless (text, pages), and the .xlsx,
whose numbers agree with the model and with status --json. LibreOffice runs once per module."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import zipfile
from dataclasses import replace
from datetime import datetime

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from openpyxl import load_workbook

from daemon.report.model import Para, build_model
from daemon.report.writers import BUILTIN_TEMPLATE, write_draft
from daemon.status import status_document
from draft_cycle import FLAGGED, NOW, TZ, build_cycle
from parsers.convert import Converter

JINJA = re.compile(r"\{\{|\{%|%\}|\}\}")


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("draft")
    cycle = build_cycle(tmp)
    rows = cycle.rows()
    model = build_model(cycle.config, cycle.campaign, "2024", rows, NOW)
    docx_path, xlsx_path = write_draft(cycle.config, model, tmp / "v1", version=1)
    pdf = Converter(timeout=120).docx_to_pdf(docx_path, tmp / "pdf")
    yield cycle, rows, model, docx_path, xlsx_path, pdf
    cycle.store.close()


def pdftotext(pdf, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run(args + [str(pdf), "-"], check=True, capture_output=True, timeout=60).stdout.decode()


def flat(text: str) -> str:
    return " ".join(text.split())


def runs_of(paragraph):
    return [r for r in paragraph.runs if r.text.strip()]


def size_of(run, paragraph) -> float:
    size = run.font.size or paragraph.style.font.size
    return size.pt


def test_file_names_follow_the_version_folder(drafted):
    _, _, _, docx_path, xlsx_path, _ = drafted
    assert docx_path.name == "du-thao-bao-cao-dan-van-2024-v1.docx"
    assert xlsx_path.name == "du-thao-bao-cao-dan-van-2024-v1.xlsx"


def test_page_setup_is_nd30(drafted):
    doc = Document(drafted[3])
    first = doc.sections[0]
    assert abs(first.page_width - Mm(210)) < Mm(0.5) and abs(first.page_height - Mm(297)) < Mm(0.5)
    for margin, (low, high) in ((first.top_margin, (20, 25)), (first.bottom_margin, (20, 25)),
                                (first.left_margin, (30, 35)), (first.right_margin, (15, 20))):
        assert Mm(low) - Mm(0.1) <= margin <= Mm(high) + Mm(0.1)
    assert doc.sections[-1].orientation == WD_ORIENT.LANDSCAPE  # Phụ lục II's wide table
    # Page numbers: centred in the top margin, none on page 1.
    assert first.different_first_page_header_footer
    assert first.first_page_header.paragraphs[0].text.strip() == ""
    header_xml = first.header._element.xml
    assert "PAGE" in header_xml and first.header.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)
    for p in doc.paragraphs:
        for r in p.runs:
            assert r.font.name in (None, "Times New Roman")
        assert not JINJA.search(p.text), p.text


def test_header_table_cells_fonts_and_sizes(drafted):
    doc = Document(drafted[3])
    table = doc.tables[0]
    left = [p for p in table.cell(0, 0).paragraphs if p.text.strip()]
    assert [p.text for p in left] == ["ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI"]
    for p in left:  # the issuer itself: upper case, bold, 13 pt
        assert all(r.bold and size_of(r, p) == 13 for r in runs_of(p))
    right = [p for p in table.cell(0, 1).paragraphs if p.text.strip()]
    assert [p.text for p in right] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert [size_of(runs_of(p)[0], p) for p in right] == [13, 14] and all(runs_of(p)[0].bold for p in right)
    number = table.cell(1, 0).paragraphs[0]
    assert number.text == "Số:      /BC-UBND" and size_of(runs_of(number)[0], number) == 13
    assert not runs_of(number)[0].bold
    date = table.cell(1, 1).paragraphs[0]
    assert date.text == "Tháp Mười, ngày    tháng    năm 2024"
    assert runs_of(date)[0].italic and size_of(runs_of(date)[0], date) == 14
    assert 'w:val="nil"' in table._tbl.tblPr.xml  # borderless
    # The rules under the issuer and the motto.
    assert all("w:pBdr" in table.cell(0, c).paragraphs[-1]._p.xml for c in (0, 1))


def test_title_body_and_signing_block(drafted):
    doc = Document(drafted[3])
    paras = doc.paragraphs
    kind = next(p for p in paras if p.text == "BÁO CÁO")
    summary = paras[paras.index(kind) + 1]
    assert summary.text == "Kết quả thực hiện công tác dân vận năm 2024"
    for p in (kind, summary):
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER and runs_of(p)[0].bold and size_of(runs_of(p)[0], p) == 14
    assert any(p.text == "Kính gửi: Ban Thường vụ Huyện ủy Tháp Mười." for p in paras)
    body = [p for p in paras if p.style.name == "Dự thảo - Nội dung"]
    assert len(body) > 20
    for p in body:
        fmt = p.style.paragraph_format
        assert fmt.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY and abs(fmt.first_line_indent - Cm(1.27)) < Cm(0.01)
        assert fmt.space_after >= Pt(6) and p.style.font.size == Pt(14)
    headings = [p.text for p in paras if p.style.name == "Dự thảo - Đề mục 1"]
    assert headings[0] == "I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI THỰC HIỆN" and headings[-1] == "V. KIẾN NGHỊ, ĐỀ XUẤT"
    # A unit's name leads its own contributions in italics.
    own = next(p for s in drafted[2].sections for a in s.areas for p in a.paragraphs if p.lead)
    lead = next(p for p in body if p.text.startswith(own.lead))
    assert runs_of(lead)[0].italic and not runs_of(lead)[-1].italic
    sign = next(t for t in doc.tables if "Nơi nhận:" in t.cell(0, 0).text)
    recipients = [p for p in sign.cell(0, 0).paragraphs if p.text.strip()]
    assert recipients[0].text == "Nơi nhận:"
    head = runs_of(recipients[0])[0]
    assert head.bold and head.italic and size_of(head, recipients[0]) == 12
    assert [p.text for p in recipients[1:]][-1] == "- Lưu: VT, NV."
    assert all(size_of(runs_of(p)[0], p) == 11 for p in recipients[1:])
    signing = [p for p in sign.cell(0, 1).paragraphs if p.text.strip()]
    assert [p.text for p in signing] == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Đoàn Thanh Bình"]
    assert all(runs_of(p)[0].bold and size_of(runs_of(p)[0], p) == 14 for p in signing)


def test_rendered_pdf_reads_as_the_report(drafted):
    cycle, rows, model, _, _, pdf = drafted
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True,
                          timeout=60).stdout.decode()
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 6 <= pages <= 16
    sizes = {int(n): (float(w), float(h)) for n, w, h in re.findall(r"Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", info)}
    assert sizes[1] == pytest.approx((595.3, 841.9), abs=1)  # A4 portrait, in points
    assert sizes[pages] == pytest.approx((841.9, 595.3), abs=1)  # Phụ lục II, landscape
    page1 = pdftotext(pdf, 1)
    first_line = next(line for line in page1.splitlines() if line.strip())
    assert "ỦY BAN NHÂN DÂN" in first_line and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first_line
    assert re.search(r"Số:\s+/BC-UBND", page1) and "BÁO CÁO" in page1 and "Kính gửi" in page1
    page2 = pdftotext(pdf, 2)
    assert next(line for line in page2.splitlines() if line.strip()).strip() == "2"  # numbered from page 2
    text = flat(pdftotext(pdf))
    for needle in ("Kết quả thực hiện công tác dân vận năm 2024", "I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI",
                   "II. KẾT QUẢ THỰC HIỆN", "“Dân vận khéo”", "Bài học kinh nghiệm",
                   "III. ĐÁNH GIÁ CHUNG", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", "V. KIẾN NGHỊ, ĐỀ XUẤT",
                   "TM. ỦY BAN NHÂN DÂN", "Đoàn Thanh Bình", "Nơi nhận:", "Phụ lục I", "Phụ lục II",
                   "Chưa đúng yêu cầu Chủ tịch trực tiếp phụ trách (1 đơn vị)"):
        assert needle in text, needle
    counts = model.counts["bao-cao"]
    assert f"{counts['on_time']} đơn vị gửi đúng hạn; {counts['late']} đơn vị gửi trễ hạn" in text
    for uid in cycle.missing:
        assert cycle.config.unit(uid).name in text
    assert cycle.config.unit(FLAGGED).name + ": phân công Nguyễn Văn Tám, Phó Chủ tịch" in text


def test_appendices_are_numbered_each_on_its_own(drafted):
    """ND30, Phụ lục I, Mục III khoản 1 điểm đ: each appendix's pages are numbered on their own,
    from 1 (page 1 without a number, as for the document); the body's numbering stops before."""
    _, _, _, docx_path, _, pdf = drafted
    doc = Document(docx_path)
    sections = doc.sections
    assert len(sections) == 3
    for section in sections[1:]:
        number = section._sectPr.find(qn("w:pgNumType"))
        assert number is not None and number.get(qn("w:start")) == "1"
        assert section.different_first_page_header_footer
    assert sections[1].orientation == WD_ORIENT.PORTRAIT and sections[2].orientation == WD_ORIENT.LANDSCAPE
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, timeout=60).stdout.decode()
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    heads = [[ln.strip() for ln in pdftotext(pdf, k).splitlines() if ln.strip()][:1] for k in range(1, pages + 1)]
    firsts = {k for k, h in enumerate(heads, 1) if h and h[0] in ("Phụ lục I", "Phụ lục II")}
    assert len(firsts) == 2, heads
    one, two = sorted(firsts)
    assert [h[0] for h in heads[1:one - 1]] == [str(k) for k in range(2, one)]  # the body: 2, 3, ...
    assert [h[0] for h in heads[one:two - 1]] == [str(k) for k in range(2, two - one + 1)]  # Phụ lục I: 2, ...
    assert [h[0] for h in heads[two:]] == [str(k) for k in range(2, pages - two + 2)]  # Phụ lục II: 2, ...


def test_appendix_numbers_right_aligned_headers_named_quotes_typographic(drafted):
    _, _, model, docx_path, _, _ = drafted
    doc = Document(docx_path)
    per_unit = next(t for t in doc.tables if t.rows[0].cells[0].text == "STT" and t.rows[-1].cells[1].text == "Tổng hợp"
                    and len(t.columns) == 2 + len(model.indicators))
    head = [c.text for c in per_unit.rows[0].cells[2:]]
    for text, ind in zip(head, model.indicators):  # the name, then the code on a second line
        assert text == f"{ind.name}\n{ind.code}".replace('"Dân vận khéo"', "“Dân vận khéo”")

    def align(cell):
        p = cell.paragraphs[0]
        return p.alignment if p.alignment is not None else p.style.paragraph_format.alignment

    for row in per_unit.rows[1:]:
        assert all(align(c) == WD_ALIGN_PARAGRAPH.RIGHT for c in row.cells[2:]), row.cells[1].text
    by_code = next(t for t in doc.tables if t.rows[0].cells[0].text == "Mã số")
    assert all(align(r.cells[3]) == align(r.cells[4]) == WD_ALIGN_PARAGRAPH.RIGHT for r in by_code.rows[1:])
    text = "\n".join(p.text for p in doc.paragraphs)
    assert '"' not in text and "“Dân vận khéo”" in text
    intro = next(p.text for p in doc.paragraphs if p.text.startswith("Thực hiện Chỉ thị số 33/CT-TTg"))
    assert f"tính đến ngày {NOW:%d/%m/%Y}," in intro and not re.search(r"\d{2}:\d{2}", intro)


def _unit_table(sheet):
    data = list(sheet.iter_rows(values_only=True))
    start = next(k for k, r in enumerate(data) if r[:2] == ("STT", "Đơn vị"))
    units = [r for r in data[start + 1:] if isinstance(r[0], int)]
    total = next(r for r in data[start + 1:] if r[1] == "Tổng hợp")
    return start + 1, data[start], units, total


def test_xlsx_tables_agree_with_status_json_and_the_model(drafted):
    cycle, rows, model, _, xlsx_path, _ = drafted
    wb = load_workbook(xlsx_path)
    assert wb.sheetnames == ["Phụ lục I", "Phụ lục II", "Tổng hợp theo chỉ tiêu", "Cần kiểm tra"]
    status = status_document(cycle.config, rows, NOW, "dan-van", "2024")["campaigns"][0]
    want = {(u["name"], req): sub["status"] for u in status["units"] for req, sub in u["submissions"].items()}
    words = {"đúng hạn": "on_time", "trễ hạn": "late", "chưa nộp": "missing"}
    got = {}
    sheet = wb["Phụ lục I"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "STT")
    assert header == ("STT", "Đơn vị", "Văn bản", "Số, ký hiệu", "Ngày văn bản", "Thời điểm nhận", "Tình trạng")
    for row in sheet.iter_rows(values_only=True):
        if isinstance(row[0], int):
            got[(row[1], "ke-hoach" if row[2] == "Kế hoạch" else "bao-cao")] = words[row[6]]
    assert got == want
    # Real dates: date cells with a number format, not text.
    received = [c for c in sheet["F"] if isinstance(c.value, datetime)]
    dated = [c for c in sheet["E"] if isinstance(c.value, datetime)]
    assert len(received) == sum(1 for v in want.values() if v != "missing") == len(dated)
    assert all(c.number_format.endswith("DD/MM/YYYY HH:MM") for c in received)
    assert all(c.number_format.endswith("DD/MM/YYYY") for c in dated)
    assert not any(isinstance(c.value, str) and re.fullmatch(r"[\d/: ]+", c.value) for c in sheet["E"] + sheet["F"])

    sheet = wb["Phụ lục II"]
    first, head, units, total_row = _unit_table(sheet)
    assert len(units) == len(model.figure_lines) == 25
    for n, ind in enumerate(model.indicators):  # the indicator's name, its code on a second line
        assert head[2 + n].endswith("\n" + ind.code) and head[2 + n].startswith(ind.name)
        assert all(isinstance(r[2 + n], (int, float)) or r[2 + n] is None for r in units)
        assert [r[2 + n] for r in units] == [f.values[n] for f in model.figure_lines]
    # Totals are formulas over the units' rows, never typed-in numbers.
    last = first + len(units) - 1
    formulas = dict(zip((i.code for i in model.indicators), total_row[2:]))
    assert formulas["DV01"] == f'=IF(COUNT(C{first + 1}:C{last + 1})=0,"",SUM(C{first + 1}:C{last + 1}))'
    assert formulas["DV05"].startswith("=IFERROR(ROUND(SUMPRODUCT(G") and "SUMIFS(F" in formulas["DV05"]
    totals = wb["Tổng hợp theo chỉ tiêu"]
    cells = {r[0]: r for r in totals.iter_rows(values_only=True) if isinstance(r[0], str) and r[0].startswith("DV")}
    assert set(cells) == {i.code for i in model.indicators}
    assert all(r[3].startswith("='Phụ lục II'!") for r in cells.values())
    assert cells["DV05"][4] == "bình quân theo DV04" and cells["DV01"][4] == "tổng"


def test_xlsx_prints_on_few_pages_and_its_formulas_compute_the_models_totals(drafted, tmp_path):
    cycle, rows, model, _, xlsx_path, _ = drafted
    wb = load_workbook(xlsx_path)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9, ws.title  # 9: A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1 and setup.fitToHeight == 0
        header = next(c.row for c in ws["A"] if c.value == "STT" or c.value == "Mã số")
        assert ws.print_title_rows == f"${header}:${header}", ws.title
        assert ws.freeze_panes is not None and int(ws.freeze_panes.lstrip("ABCDEFGH")) == header + 1
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{header}:")
    assert wb["Phụ lục I"].freeze_panes.startswith("C") and wb["Phụ lục II"].freeze_panes.startswith("C")
    # LibreOffice computes the formulas (a recalculated copy) to the model's totals, and prints it.
    office = Converter(timeout=120)
    computed = tmp_path / "computed.xlsx"
    computed.write_bytes(office.convert(xlsx_path.read_bytes(), ".xlsx", "xlsx"))
    values = load_workbook(computed, data_only=True)
    _, _, _, total_row = _unit_table(values["Phụ lục II"])
    for n, ind in enumerate(model.indicators):
        assert total_row[2 + n] == pytest.approx(ind.total), ind.code
    by_code = {r[0]: r for r in values["Tổng hợp theo chỉ tiêu"].iter_rows(values_only=True) if r and r[0] in
               {i.code for i in model.indicators}}
    for ind in model.indicators:
        assert by_code[ind.code][3] == pytest.approx(ind.total) and by_code[ind.code][5] == ind.reported
    pdf = tmp_path / "xlsx.pdf"
    pdf.write_bytes(office.convert(xlsx_path.read_bytes(), ".xlsx", "pdf"))
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, timeout=60).stdout.decode()
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages <= 6  # was over 7 with the totals typed in and no print setup (issue 13)
    text = flat(pdftotext(pdf))
    assert "Phụ lục I" in text and "Tổng hợp" in text and "CẦN KIỂM TRA" in text


def test_xlsx_lists_the_figures_to_check(drafted, tmp_path):
    cycle, rows, model, _, _, _ = drafted
    checks = ("Phòng Lao động - Thương binh và Xã hội: DV04 (Số hồ sơ thủ tục hành chính tiếp nhận): biểu số liệu "
              "ghi 612, nội dung báo cáo ghi 500; dự thảo dùng số liệu của biểu số liệu, đề nghị đơn vị xác nhận.",)
    _, path = write_draft(cycle.config, replace(model, figure_checks=checks), tmp_path)
    sheet = load_workbook(path)["Cần kiểm tra"]
    lines = [r for r in sheet.iter_rows(values_only=True) if isinstance(r[0], int)]
    assert lines == [(1, checks[0])]
    _, path = write_draft(cycle.config, replace(model, figure_checks=()), tmp_path / "none")
    texts = [r[1] for r in load_workbook(path)["Cần kiểm tra"].iter_rows(values_only=True)]
    assert "Không có số liệu nào cần kiểm tra." in texts


def test_preview_and_escaping(drafted, tmp_path):
    cycle, rows, _, _, _, _ = drafted
    model = build_model(cycle.config, cycle.campaign, "2024", rows, datetime(2024, 10, 15, 9, 0, tzinfo=TZ))
    odd = Para(lead="Phòng Văn hóa & Thông tin <thử>:", text="Câu có ký tự & và < > \"\".\nDòng hai.")
    model = replace(model, sections=(replace(model.sections[0], paragraphs=model.sections[0].paragraphs + (odd,)),)
                    + model.sections[1:])
    docx_path, _ = write_draft(cycle.config, model, tmp_path, version=3)
    assert docx_path.name == "du-thao-bao-cao-dan-van-2024-v3-xem-truoc.docx"
    doc = Document(docx_path)
    assert doc.paragraphs[0].text.startswith("BẢN XEM TRƯỚC: chưa hết hạn nộp (trước ngày 20/10/2024)")
    # Escaped, and a line break inside a text stays a line break.
    assert any(p.text == "Phòng Văn hóa & Thông tin <thử>: Câu có ký tự & và < > “”.\nDòng hai."
               for p in doc.paragraphs)


def test_template_is_regenerated_by_its_script(tmp_path):
    script = BUILTIN_TEMPLATE.parents[2] / "scripts" / "make_report_template.py"
    spec = importlib.util.spec_from_file_location("make_report_template", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.build(tmp_path / "t.docx")
    with zipfile.ZipFile(fresh) as a, zipfile.ZipFile(BUILTIN_TEMPLATE) as b:
        names = [n for n in a.namelist() if n.startswith("word/") and n.endswith(".xml")]
        assert names and sorted(names) == sorted(n for n in b.namelist() if n.startswith("word/") and n.endswith(".xml"))
        for name in names:
            assert a.read(name) == b.read(name), f"{name} differs: run scripts/make_report_template.py"
