"""The tracking workbook ("Bảng theo dõi"): the status table as an .xlsx the office can open at
any time, rewritten after each recorded submission. It is made from `status_document`, so it
always says what `tonghop status` says.

Made to be worked with and printed: dates are real date cells (sortable, filterable), the header
has a filter and stays in view, and each sheet prints on A4 landscape, one page wide, with the
header rows repeated on every page and the title on its own rows above the header.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from daemon.clock import deadline_words, local_text
from daemon.config import Config
from daemon.durable import save_in_memory, write_with
from daemon.status import STATUS_WORDS, status_document

FILE_NAME = "bang-theo-doi.xlsx"
FILLS = {"on_time": "C6EFCE", "late": "FFEB9C", "missing": "FFC7CE"}
# Layout: title (row 1), update time (row 2), a blank row, the two header rows (requirement
# names above, the columns of each below: the filter row), then one row per unit.
TITLE_ROW, UPDATED_ROW, HEAD_ROW, SUBHEAD_ROW, FIRST_ROW = 1, 2, 4, 5, 6
PER_REQUIREMENT = ("Tình trạng", "Số, ký hiệu", "Ngày văn bản", "Nhận lúc")
WIDTHS = (11, 16, 12, 17)  # of the PER_REQUIREMENT columns
DATE_FORMAT = "dd/mm/yyyy"
MOMENT_FORMAT = "dd/mm/yyyy hh:mm"
FONT = "Times New Roman"
NAME_WIDTH_MAX = 50  # the unit name column; a longer name wraps
ROW_HEIGHT = 18  # points, one line of 12 pt text


def _local(ts: str | None, config: Config) -> str:
    return local_text(ts, config.office.timezone)


def _moment(ts: str | None, config: Config) -> datetime | None:
    """A recorded timestamp as a date-time cell holds it: office local time, without an offset
    (spreadsheets have no time zones)."""
    if not ts:
        return None
    return datetime.fromisoformat(ts).astimezone(config.office.timezone).replace(tzinfo=None)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def workbook(config: Config, rows: list[dict], now: datetime) -> Workbook:
    doc = status_document(config, rows, now)
    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(name=FONT, size=12, bold=True)
    plain = Font(name=FONT, size=12)
    head_align = Alignment(horizontal="center", vertical="center", wrap_text=True)
    tz = config.office.timezone
    for campaign in doc["campaigns"]:
        ws = wb.create_sheet(f"{campaign['id']} {campaign['cycle']}"[:31])
        reqs = campaign["requirements"]
        last_col = 2 + len(PER_REQUIREMENT) * len(reqs)
        last = get_column_letter(last_col)
        name_width = min(max([len(u["name"]) for u in campaign["units"]] or [20]) + 3, NAME_WIDTH_MAX)

        ws.cell(row=TITLE_ROW, column=1, value=f"BẢNG THEO DÕI: {campaign['title'].upper()}, NĂM {campaign['cycle']}")
        ws.cell(row=TITLE_ROW, column=1).font = Font(name=FONT, size=13, bold=True)
        ws.cell(row=TITLE_ROW, column=1).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=last_col)
        ws.row_dimensions[TITLE_ROW].height = 36
        ws.cell(row=UPDATED_ROW, column=1, value=f"Cập nhật lúc {_local(doc['generated_at'], config)}")
        ws.cell(row=UPDATED_ROW, column=1).font = Font(name=FONT, size=12, italic=True)
        ws.cell(row=UPDATED_ROW, column=1).alignment = Alignment(horizontal="center", vertical="center")
        ws.merge_cells(start_row=UPDATED_ROW, start_column=1, end_row=UPDATED_ROW, end_column=last_col)
        ws.row_dimensions[UPDATED_ROW].height = 20

        def head(row: int, col: int, text: str) -> None:
            cell = ws.cell(row=row, column=col, value=text)
            cell.font, cell.border, cell.alignment = bold, box, head_align

        for col, text in ((1, "STT"), (2, "Đơn vị")):
            head(HEAD_ROW, col, text)
            head(SUBHEAD_ROW, col, None)
            ws.merge_cells(start_row=HEAD_ROW, start_column=col, end_row=SUBHEAD_ROW, end_column=col)
        for k, req in enumerate(reqs):
            first = 3 + len(PER_REQUIREMENT) * k
            deadline = deadline_words(datetime.fromisoformat(req["deadline"]).astimezone(tz))
            for j, text in enumerate(PER_REQUIREMENT):
                head(HEAD_ROW, first + j, f"{req['name']} (hạn nộp {deadline})" if j == 0 else None)
                head(SUBHEAD_ROW, first + j, text)
            ws.merge_cells(start_row=HEAD_ROW, start_column=first, end_row=HEAD_ROW,
                           end_column=first + len(PER_REQUIREMENT) - 1)
        ws.row_dimensions[HEAD_ROW].height = 36  # two lines of a wrapped requirement name
        ws.row_dimensions[SUBHEAD_ROW].height = 36

        for n, unit in enumerate(campaign["units"], 1):
            row = FIRST_ROW + n - 1
            values = [n, unit["name"]]
            formats = ["0", "@"]
            statuses = []
            for req in reqs:
                sub = unit["submissions"][req["id"]]
                values += [STATUS_WORDS[sub["status"]], sub["doc_number"] or None, _day(sub["doc_date"]),
                           _moment(sub["received_at"], config)]
                formats += ["@", "@", DATE_FORMAT, MOMENT_FORMAT]
                statuses.append(sub["status"])
            for col, (value, fmt) in enumerate(zip(values, formats), 1):
                cell = ws.cell(row=row, column=col, value=value)
                cell.font, cell.border, cell.number_format = plain, box, fmt
                centred = col == 1 or (col > 2 and (col - 3) % len(PER_REQUIREMENT) != 1)
                cell.alignment = Alignment(vertical="center", wrap_text=col == 2, indent=0 if centred else 1,
                                           horizontal="center" if centred else "left")
            # a name longer than its column wraps onto a second line: the row is made that tall
            ws.row_dimensions[row].height = ROW_HEIGHT * (2 if len(unit["name"]) > name_width else 1)
            for k, status in enumerate(statuses):
                ws.cell(row=row, column=3 + len(PER_REQUIREMENT) * k).fill = PatternFill("solid", fgColor=FILLS[status])

        ws.column_dimensions["A"].width = 6
        ws.column_dimensions["B"].width = name_width
        numbers = [len(u["submissions"][r["id"]]["doc_number"] or "") for u in campaign["units"] for r in reqs]
        for k in range(len(reqs)):
            for j, width in enumerate(WIDTHS):
                if j == 1:  # "Số, ký hiệu": as wide as the longest number
                    width = min(max([width - 3, *numbers]) + 3, 26)
                ws.column_dimensions[get_column_letter(3 + len(PER_REQUIREMENT) * k + j)].width = width
        last_row = max(FIRST_ROW, FIRST_ROW + len(campaign["units"]) - 1)
        ws.auto_filter.ref = f"A{SUBHEAD_ROW}:{last}{last_row}"
        ws.freeze_panes = f"C{FIRST_ROW}"

        # Printing: A4 landscape, every column on one page wide, as many pages tall as it takes,
        # the two header rows on top of each page, page numbers in the footer.
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{HEAD_ROW}:{SUBHEAD_ROW}"
        ws.print_area = f"A{TITLE_ROW}:{last}{last_row}"
        ws.print_options.horizontalCentered = True
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
        ws.oddFooter.center.text = "Trang &P/&N"
        ws.oddFooter.center.font = FONT
    return wb


def write(config: Config, rows: list[dict], now: datetime) -> Path:
    """Write the workbook atomically (a reader never sees half a file)."""
    target = config.storage.root / FILE_NAME
    book = workbook(config, rows, now)
    write_with(target, lambda path: save_in_memory(path, book.save))
    return target
