"""The tracking workbook ("Bảng theo dõi"): the status table as an .xlsx the office can open at
any time, rewritten after each recorded submission. It is made from `status_document`, so it
always says what `tonghop status` says.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from daemon.clock import local_text
from daemon.config import Config
from daemon.durable import save_in_memory, write_with
from daemon.status import STATUS_WORDS, status_document

FILE_NAME = "bang-theo-doi.xlsx"
FILLS = {"on_time": "C6EFCE", "late": "FFEB9C", "missing": "FFC7CE"}


def _local(ts: str | None, config: Config) -> str:
    return local_text(ts, config.office.timezone)


def workbook(config: Config, rows: list[dict], now: datetime) -> Workbook:
    doc = status_document(config, rows, now)
    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(name="Times New Roman", size=12, bold=True)
    plain = Font(name="Times New Roman", size=12)
    for campaign in doc["campaigns"]:
        ws = wb.create_sheet(f"{campaign['id']} {campaign['cycle']}"[:31])
        ws["A1"] = f"BẢNG THEO DÕI: {campaign['title'].upper()} (KỲ {campaign['cycle']})"
        ws["A1"].font = Font(name="Times New Roman", size=13, bold=True)
        ws["A2"] = f"Cập nhật lúc {_local(doc['generated_at'], config)}"
        ws["A2"].font = Font(name="Times New Roman", size=12, italic=True)
        heads = ["STT", "Đơn vị"]
        for req in campaign["requirements"]:
            deadline = _local(req["deadline"], config)
            heads += [f"{req['name']} (hạn {deadline})", "Số, ký hiệu", "Ngày văn bản", "Nhận lúc"]
        for col, head in enumerate(heads, 1):
            cell = ws.cell(row=4, column=col, value=head)
            cell.font, cell.border = bold, box
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for n, unit in enumerate(campaign["units"], 1):
            values = [n, unit["name"]]
            statuses = []
            for req in campaign["requirements"]:
                sub = unit["submissions"][req["id"]]
                doc_date = datetime.fromisoformat(sub["doc_date"]).strftime("%d/%m/%Y") if sub["doc_date"] else ""
                values += [STATUS_WORDS[sub["status"]], sub["doc_number"] or "", doc_date, _local(sub["received_at"], config)]
                statuses.append(sub["status"])
            for col, value in enumerate(values, 1):
                cell = ws.cell(row=4 + n, column=col, value=value)
                cell.font, cell.border = plain, box
            for k, status in enumerate(statuses):
                ws.cell(row=4 + n, column=3 + 4 * k).fill = PatternFill("solid", fgColor=FILLS[status])
        ws.column_dimensions["A"].width = 6
        ws.column_dimensions["B"].width = 44
        for col in range(3, len(heads) + 1):
            ws.column_dimensions[get_column_letter(col)].width = 18
        ws.freeze_panes = "C5"
    return wb


def write(config: Config, rows: list[dict], now: datetime) -> Path:
    """Write the workbook atomically (a reader never sees half a file)."""
    target = config.storage.root / FILE_NAME
    book = workbook(config, rows, now)
    write_with(target, lambda path: save_in_memory(path, book.save))
    return target
