"""The clerk's notes: a third file beside each draft (…-ghi-chu.docx) saying what the program decided
and what a person should check before the Chairman signs.

Why a separate .docx and not a sheet of the .xlsx: the notes are sentences to read and tick off
(whose words each sentence of the draft is, which units to phone), printed and kept with the
draft's file like any working paper; a spreadsheet cell is a poor place for a paragraph, and the
.xlsx stays the tables the clerk corrects. The notes are never sent to anyone outside the office.

`notes_lines` is pure (ReportModel in, typed lines out, tested without Word); `write_notes`
lays them out with python-docx. Figure conflicts come from daemon/report/figures.py through the
model's figure_checks (one Vietnamese line each), so this module does not reconcile anything.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from daemon.clock import moment_words

from daemon.durable import save_in_memory, write_with
from daemon.report.model import ReportModel, changes_note
from daemon.status import STATUS_WORDS

NOTES_SUFFIX = "-ghi-chu"  # du-thao-bao-cao-dan-van-2024-v2-ghi-chu.docx


@dataclass(frozen=True)
class SourceRow:
    """One sentence of the draft and where it comes from."""

    part: str  # "II.3" or "IV"
    sentence: str
    sources: str  # "mục «2. Cải cách hành chính»: UBND xã Mỹ Hòa (Báo cáo số 45/BC-UBND ngày 15/10/2024); ..."


@dataclass(frozen=True)
class Notes:
    title: str
    changes: str
    missing: tuple[str, ...]  # "Báo cáo ...: UBND xã A; Phòng B"
    checks: tuple[str, ...]  # units whose documents need a look
    conflicts: tuple[str, ...]
    sources: tuple[SourceRow, ...]


def _sources_words(sources) -> str:
    """ "mục «2. Cải cách hành chính»: UBND xã A (Báo cáo số 12/BC-UBND ngày ...); Phòng B (...)"
    grouped by the units' heading, which recurs when units follow the district's outline."""
    by_heading: dict[str, list[str]] = {}
    for src in sources:
        by_heading.setdefault(src.heading, []).append(f"{src.unit} ({src.document})" if src.document else src.unit)
    parts = []
    for heading, units in by_heading.items():
        parts.append((f"mục «{heading}»: " if heading else "") + "; ".join(units))
    return ". ".join(parts) + "."


def notes_lines(model: ReportModel, previous: ReportModel | dict | None = None,
                conflicts: Sequence[str] = ()) -> Notes:
    """What the notes say, from the draft's model, the previous version's (or None for the first)
    and the figure conflicts found by the figures' reconciliation (lines, as they are printed)."""
    missing = []
    units = [line.unit for line in model.submission_lines if line.unit]  # a unit's name is on its first row
    for req in model.requirements:
        sent = {d.unit for d in model.documents if d.requirement == req["id"]}
        absent = [u for u in units if u not in sent]
        if absent:
            missing.append(f"{req['name']} ({len(absent)} đơn vị {STATUS_WORDS['missing']}): " + "; ".join(absent) + ".")
        else:
            missing.append(f"{req['name']}: tất cả các đơn vị đã gửi.")
    checks = list(model.checks)
    for x in model.leaders:
        if x.ok is False:
            checks.append(f"{x.unit}: phân công {', '.join(x.leaders)} phụ trách, chưa đúng yêu cầu người đứng đầu "
                          f"trực tiếp phụ trách.")
        elif x.ok is None:
            checks.append(f"{x.unit}: văn bản không nêu lãnh đạo được phân công phụ trách.")
    if model.unplaced:
        checks.append(f"{model.unplaced} câu trong báo cáo của các đơn vị không thuộc mục nào của đề cương nên "
                      f"không đưa vào dự thảo (xem lại đề mục, từ khóa trong campaigns/{model.campaign}.toml).")
    rows = []
    for s in model.sections:
        parts = [(s.number, p) for p in s.paragraphs] + [(f"{s.number}.{a.number}", p) for a in s.areas
                                                          for p in a.paragraphs]
        for part, para in parts:
            for trace in para.traces:
                rows.append(SourceRow(part, trace.sentence, _sources_words(trace.sources)))
    title = f"Ghi chú cho cán bộ tổng hợp: {model.summary}"
    return Notes(title=title, changes=changes_note(previous, model), missing=tuple(missing), checks=tuple(checks),
                 conflicts=tuple(conflicts), sources=tuple(rows))


def notes_path(docx_path: Path) -> Path:
    return docx_path.with_name(docx_path.stem + NOTES_SUFFIX + ".docx")


def write_notes(model: ReportModel, docx_path: Path, previous: ReportModel | dict | None = None,
                conflicts: Sequence[str] | None = None, tz=None) -> Path:
    """Write the notes beside the draft's .docx (atomically); returns their path. conflicts: the
    figure checks to list (default: the model's own, from the figures' reconciliation). tz: the
    office's timezone, for when the notes were written (default: the offset the model carries)."""
    notes = notes_lines(model, previous, model.figure_checks if conflicts is None else conflicts)
    out = notes_path(Path(docx_path))
    written = datetime.fromisoformat(model.generated_at)
    written = written.astimezone(tz) if tz is not None else written
    write_with(out, lambda p: _render(notes, model, moment_words(written), p))
    return out


def _bullets(doc, lines: list[str]) -> None:
    """One "List Bullet" paragraph per line. python-docx's add_paragraph looks for the body's
    sectPr among all its children on every call, so 18,000 figure checks (2,000 units) took 18 s;
    copying the first paragraph and chaining the copies after it is linear."""
    import copy

    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    first = doc.add_paragraph(lines[0], style="List Bullet")
    blank = copy.deepcopy(first._p)
    for r in blank.findall(qn("w:r")):
        blank.remove(r)
    last = first._p
    for line in lines[1:]:
        p = copy.deepcopy(blank)
        Paragraph(p, first._parent).add_run(line)
        last.addnext(p)
        last = p


def _render(notes: Notes, model: ReportModel, written: str, out: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    style = doc.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(12)
    style.element.rPr.rFonts.set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia",
                                 "Times New Roman")
    for name in ("Heading 1", "Heading 2"):
        doc.styles[name].font.name = "Times New Roman"
        doc.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    doc.add_heading(notes.title, level=1)
    doc.add_paragraph(f"Tệp làm việc của cán bộ tổng hợp, không gửi kèm báo cáo. Viết lúc {written}"
                      + (" (bản xem trước)." if model.preview else "."))

    def block(title: str, lines, empty: str) -> None:
        doc.add_heading(title, level=2)
        _bullets(doc, list(lines) or [empty])

    block("1. Thay đổi so với phiên bản trước", [notes.changes], "")
    block("2. Số liệu chênh lệch cần kiểm tra", notes.conflicts, "Không phát hiện chênh lệch số liệu.")
    block("3. Văn bản của đơn vị cần xem lại", notes.checks, "Không có.")
    block("4. Đơn vị chưa gửi văn bản", notes.missing, "Không có.")
    doc.add_heading("5. Nguồn của từng câu trong dự thảo", level=2)
    doc.add_paragraph("Câu mở đầu các mục (in từ cấu hình của chiến dịch) không có trong bảng này; mọi câu khác "
                      "lấy từ văn bản của các đơn vị dưới đây.")
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Mục", "Câu trong dự thảo", "Đơn vị, văn bản, đề mục")):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in notes.sources:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = row.part, row.sentence, row.sources
    # Word reads the cells' widths, LibreOffice the grid's: set both.
    table.autofit = False
    for column, width in zip(table.columns, (Cm(1.6), Cm(11.0), Cm(13.0))):
        column.width = width
        for cell in column.cells:
            cell.width = width
    doc.core_properties.title = notes.title
    save_in_memory(out, doc.save)
