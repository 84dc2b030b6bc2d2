"""Every sheet of an .xlsx/.xlsm as a table of text, read with openpyxl in read-only mode.

read_only streams rows instead of building the whole workbook (a unit's table can be large);
data_only gives the values Excel last computed rather than formulas. The package is checked by
parsers.xmlsafety before openpyxl sees it (openpyxl also parses through defusedxml when present).

Cell values become text as a Vietnamese reader writes them, so that parsers.numbers.parse_number
reads them back unambiguously:
- integers (and floats with no fraction) without grouping: 2024 -> "2024", 1234567 -> "1234567"
  (grouping with "." would turn a year into "2.024");
- other floats with a decimal comma and at most 10 decimals: 1234.5 -> "1234,5";
- cells formatted as percent: 0.255 -> "25,5%";
- dates "dd/mm/yyyy" (with " HH:MM" when the time is not midnight), times "HH:MM";
- booleans "TRUE"/"FALSE" as Excel shows them; text NFC, legacy fonts decoded by the cell's font.
Each sheet is one table (rows with no value dropped, trailing empty cells trimmed); lines are the
non-empty cell values row by row, cell by cell.
"""
from __future__ import annotations

import datetime as dt
import io

from parsers.docx_reader import MACRO_PROBLEM, Blocks, truncated_problem
from parsers.model import Limits
from parsers.text import decode_run, nfc
from parsers.xmlsafety import UnsafePackage, open_package

MAX_ROWS_PER_SHEET = 20_000
MAX_COLS = 200
MAX_CELLS = 1_000_000  # over the whole workbook


def format_value(value, number_format: str = "General") -> str:
    """A cell value as text in Vietnamese notation (see module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        if "%" in (number_format or ""):
            return _format_number(value * 100) + "%"
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if "%" in (number_format or ""):
            return _format_number(value * 100) + "%"
        return _format_number(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _format_number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def read_xlsx(data: bytes, limits: Limits = Limits()) -> Blocks:
    try:
        zf, info = open_package(data, limits)
    except UnsafePackage as exc:
        return Blocks(problems=[str(exc)])
    zf.close()  # checked; openpyxl opens the package itself
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        return Blocks(problems=[f"Tệp Excel bị hỏng, không đọc được ({type(exc).__name__})."])
    out = Blocks()
    try:
        _read_sheets(wb, out, limits)
    except Exception as exc:  # read-only mode parses a sheet while it is read: a broken one fails here
        out.problems.append(f"Tệp Excel bị hỏng, không đọc được hết ({type(exc).__name__}).")
    finally:
        wb.close()
    if any(name.lower().endswith("vbaproject.bin") for name in info.names):
        out.problems.append(MACRO_PROBLEM)
    return out


def _read_sheets(wb, out: Blocks, limits: Limits) -> None:
    font_names: dict[int, str | None] = {}
    cells_seen = 0
    chars = 0
    for ws in wb.worksheets:
        rows: list[tuple[str, ...]] = []
        cut_rows = False
        for index, row in enumerate(ws.iter_rows(max_col=MAX_COLS)):
            if index >= MAX_ROWS_PER_SHEET:
                cut_rows = True
                break
            values: list[str] = []
            for cell in row:
                cells_seen += 1
                value = getattr(cell, "value", None)
                if value is None:
                    values.append("")
                    continue
                if isinstance(value, str):
                    text = value
                    font = _font_name(cell, font_names)
                    if font:
                        text = decode_run(text, font)
                    text = nfc(text).strip()
                else:
                    text = format_value(value, getattr(cell, "number_format", "General"))
                values.append(text)
            chars = keep_row(values, rows, out, limits, chars)
            if chars < 0:
                return
            if cells_seen > MAX_CELLS:
                break
        end_sheet(ws.title, rows, cut_rows, out)
        if cells_seen > MAX_CELLS:
            out.problems.append("Bảng tính quá lớn; hệ thống chỉ đọc một phần đầu.")
            return


def keep_row(values: list[str], rows: list, out: Blocks, limits: Limits, chars: int) -> int:
    """A sheet row into the table and the reader's lines (xlsx and xls alike): the characters
    used so far, or -1 when the text limit is reached (the table so far kept, a problem said)."""
    while values and not values[-1]:
        values.pop()
    if not values:
        return chars
    rows.append(tuple(values))
    for text in values:
        for piece in text.split("\n"):
            piece = piece.strip()
            if piece:
                chars += len(piece) + 1
                if chars > limits.max_text_chars:
                    out.problems.append(truncated_problem(limits))
                    out.tables.append(tuple(rows))
                    return -1
                out.lines.append(piece)
    return chars


def end_sheet(name: str, rows: list, cut_rows: bool, out: Blocks) -> None:
    if rows:
        out.tables.append(tuple(rows))
    if cut_rows:
        out.problems.append(
            f"Trang tính \u201c{name}\u201d có quá nhiều dòng; hệ thống chỉ đọc {MAX_ROWS_PER_SHEET:,} dòng đầu."
            .replace(",", ".")
        )


def _font_name(cell, cache: dict[int, str | None]) -> str | None:
    style_id = getattr(cell, "_style_id", None)
    if style_id is None:
        return None
    if style_id not in cache:
        try:
            cache[style_id] = cell.font.name
        except (AttributeError, IndexError, TypeError):
            cache[style_id] = None
    return cache[style_id]
