"""The clerk's tracking workbook (daemon/report/tracking.py) says, cell by cell, what status --json
says: each unit's status word, number, date and arrival per requirement, in its colour. Built on
the draft's realistic cycle (on time, late, missing, replaced), so a workbook that wrote "đúng hạn"
for every unit, or shifted a column, fails here."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from daemon.report import tracking
from daemon.status import STATUS_WORDS, status_document
from draft_cycle import NOW, build_cycle

W = len(tracking.PER_REQUIREMENT)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    c = build_cycle(tmp_path_factory.mktemp("tracking"))
    yield c
    c.store.close()


def local(ts: str | None, tz) -> datetime | None:
    return datetime.fromisoformat(ts).astimezone(tz).replace(tzinfo=None) if ts else None


@pytest.fixture(scope="module")
def saved(cycle, tmp_path_factory):
    """The workbook as the office opens it: written to disk by tracking.write, read back."""
    cycle.config.storage.root.mkdir(parents=True, exist_ok=True)
    return load_workbook(tracking.write(cycle.config, cycle.store.submissions(), NOW))


def test_every_cell_matches_status_json(cycle, saved):
    rows = cycle.store.submissions()
    doc = status_document(cycle.config, rows, NOW)
    tz = cycle.config.office.timezone
    seen = set()
    for campaign in doc["campaigns"]:
        ws = saved[f"{campaign['id']} {campaign['cycle']}"[:31]]
        for n, unit in enumerate(campaign["units"], 1):
            cells = ws[tracking.FIRST_ROW + n - 1]
            row = [c.value for c in cells]
            assert row[:2] == [n, unit["name"]]
            for k, req in enumerate(campaign["requirements"]):
                sub = unit["submissions"][req["id"]]
                status, number, day, received = row[2 + W * k: 2 + W * (k + 1)]
                assert status == STATUS_WORDS[sub["status"]], (unit["id"], req["id"])
                assert number == sub["doc_number"]
                # real dates, shown as the office writes them: sortable and filterable by date
                want_day = date.fromisoformat(sub["doc_date"]) if sub["doc_date"] else None
                assert (day.date() if day else None) == want_day
                assert received == local(sub["received_at"], tz)
                if sub["received_at"]:
                    assert isinstance(received, datetime) and cells[5 + W * k].number_format == "dd/mm/yyyy hh:mm"
                    assert isinstance(day, datetime) and cells[4 + W * k].number_format == "dd/mm/yyyy"
                fill = cells[2 + W * k].fill.fgColor.rgb
                assert fill.endswith(tracking.FILLS[sub["status"]])
                seen.add(sub["status"])
    assert seen == {"on_time", "late", "missing"}  # the cycle really has all three


def test_late_and_missing_units_are_not_written_on_time(cycle, saved):
    ws = saved["dan-van 2024"]
    by_name = {r[1].value: [c.value for c in r] for r in ws.iter_rows(min_row=tracking.FIRST_ROW) if r[1].value}
    report_col = 2 + W * [r.id for r in cycle.campaign.requirements].index("bao-cao")
    for uid in cycle.late:
        assert by_name[cycle.config.unit(uid).name][report_col] == "trễ hạn"
    for uid in cycle.missing:
        assert by_name[cycle.config.unit(uid).name][report_col] == "chưa nộp"


def test_filter_frozen_header_and_print_setup(cycle, saved):
    ws = saved["dan-van 2024"]
    units = len(cycle.campaign.unit_ids)
    last_col = 2 + W * len(cycle.campaign.requirements)
    last = get_column_letter(last_col)
    assert ws.auto_filter.ref == f"A{tracking.SUBHEAD_ROW}:{last}{tracking.FIRST_ROW + units - 1}"
    assert ws.freeze_panes == f"C{tracking.FIRST_ROW}"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == f"${tracking.HEAD_ROW}:${tracking.SUBHEAD_ROW}"
    assert ws.page_margins.left == ws.page_margins.right == 0.4
    # the title on its own merged row above the header, every header row given its height
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert f"A{tracking.TITLE_ROW}:{last}{tracking.TITLE_ROW}" in merged
    assert f"A{tracking.HEAD_ROW}:A{tracking.SUBHEAD_ROW}" in merged
    assert tracking.TITLE_ROW < tracking.UPDATED_ROW < tracking.HEAD_ROW
    for row in (tracking.TITLE_ROW, tracking.HEAD_ROW, tracking.SUBHEAD_ROW):
        assert ws.row_dimensions[row].height and ws.row_dimensions[row].height >= 30
    heading = ws.cell(row=tracking.HEAD_ROW, column=3).value
    assert heading.endswith("(hạn nộp trước ngày 20/10/2024)"), heading
    assert "KỲ" not in ws.cell(row=1, column=1).value


def test_prints_one_page_wide_with_the_header_on_every_page(cycle, tmp_path):
    """Rendered by LibreOffice: four times the units run over several A4 landscape pages, each
    with the header and every column (one page wide), none cut off on the right."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required by the tests"
    config = cycle.config
    many = [replace(u, id=f"{u.id}-{k}", name=f"{u.name} ({k})") for k in range(4) for u in config.units
            if u.id in cycle.campaign.unit_ids]
    campaign = replace(cycle.campaign, unit_ids=tuple(u.id for u in many))
    big = replace(config, units=tuple(many), campaigns=(campaign,))
    rows = [dict(r, unit_id=f"{r['unit_id']}-{k}") for k in range(4) for r in cycle.store.submissions()]
    path = tmp_path / "bang.xlsx"
    tracking.workbook(big, rows, NOW).save(path)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "bang.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert "841.89 x 595.3" in info  # A4 landscape
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    sheets = text.split("\f")[:pages]
    assert 2 <= pages <= 4, pages  # 112 units: several pages tall, never a page per column strip
    last_name = cycle.campaign.requirements[-1].name
    for n, page in enumerate(sheets, 1):
        assert "STT" in page and "Nhận lúc" in page and last_name in page, (n, page[:400])
        assert f"Trang {n}/{pages}" in page
    assert "BẢNG THEO DÕI" in sheets[0]
    assert f"{many[-1].name}" in sheets[-1]
