"""Every sheet of an Excel 97-2003 workbook (.xls, BIFF) as a table of text, read with xlrd.

Why xlrd and not LibreOffice first: legacy workbooks are where TCVN3/VNI text lives, and it can
only be decoded by each cell's own font (a .VnTime cell beside a Times New Roman one, a cell
whose rich text mixes fonts). xlrd's formatting_info gives every cell's XF record and font, and
the font runs of rich-text cells; it is pure Python, needs no subprocess and no profile, and
reads a unit's table in milliseconds. LibreOffice stays the fallback for what xlrd refuses.

Output has the shape of parsers.xlsx_reader.read_xlsx (one table per sheet, rows with no value
dropped, trailing empty cells trimmed; lines are the non-empty cells row by row) and the same
cell notation (xlsx_reader.format_value) and limits.
"""
from __future__ import annotations

from parsers.docx_reader import Blocks
from parsers.model import Limits
from parsers.text import decode_runs, font_kind, nfc
from parsers.xlsx_reader import MAX_CELLS, MAX_COLS, MAX_ROWS_PER_SHEET, end_sheet, format_value, keep_row

ENCRYPTED_PROBLEM = "Tệp được đặt mật khẩu, không đọc được; đề nghị đơn vị gửi lại bản không đặt mật khẩu."

# cp1252 where defined, Latin-1 for its five holes: how a legacy font's bytes look as text.
_CP1252 = "".join(
    (bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)) for b in range(256)
)
_WESTERN = {"cp1252", "latin_1", "iso8859_1", "utf_16_le", "ascii", "mac_roman"}


class XlsUnreadable(Exception):
    """xlrd cannot read this file; str() says why, for the fallback's problem."""


def read_xls(data: bytes, limits: Limits = Limits()) -> Blocks:
    """Lines, tables and problems of a BIFF workbook. Raises XlsUnreadable when xlrd cannot
    open it (the caller then tries LibreOffice); a file xlrd opens but cannot finish reading
    gives what was read and a problem."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True,
                                  logfile=_Silent(), ragged_rows=True)
    except Exception as exc:  # xlrd raises many kinds (XLRDError, CompDocError, struct.error...)
        if "encrypt" in str(exc).lower():
            return Blocks(problems=[ENCRYPTED_PROBLEM])
        raise XlsUnreadable(str(exc)[:200] or type(exc).__name__) from None
    out = Blocks()
    try:
        _read_sheets(book, out, limits)
    except Exception as exc:
        out.problems.append(f"Tệp Excel bị hỏng, không đọc được hết ({type(exc).__name__}).")
    finally:
        book.release_resources()
    return out


class _Silent:
    """xlrd writes warnings about odd records to a log file; a service has no use for them."""

    def write(self, _text: str) -> None:
        pass


class _Fonts:
    """Font names of a workbook, and how a cell's text is decoded by them."""

    def __init__(self, book) -> None:
        self.book = book
        self.names = [font.name for font in book.font_list]
        # BIFF5 (Excel 95) keeps 8-bit strings that xlrd decodes by the workbook's code page:
        # a legacy font's codes must be seen as cp1252 again (a Vietnamese Windows wrote 1258).
        recode = book.biff_version < 80 and (book.encoding or "").lower() not in _WESTERN
        self.recode = book.encoding if recode else None

    def of_xf(self, xf_index: int) -> str | None:
        try:
            return self.names[self.book.xf_list[xf_index].font_index]
        except (IndexError, AttributeError):
            return None

    def name(self, font_index: int) -> str | None:
        return self.names[font_index] if 0 <= font_index < len(self.names) else None

    def text(self, value: str, font: str | None, runs=None) -> str:
        """A text cell's value, decoded run by run when rich text gives runs [(offset, font)]."""
        if not runs:
            if font_kind(font) is None:
                return nfc(value)
            return decode_runs([(self._seen_as_cp1252(value), font)])
        pieces = []
        bounds = [(0, font)] + [(offset, self.name(index)) for offset, index in runs]
        for k, (start, run_font) in enumerate(bounds):
            end = bounds[k + 1][0] if k + 1 < len(bounds) else len(value)
            if end > start:
                piece = value[start:end]
                pieces.append((self._seen_as_cp1252(piece) if font_kind(run_font) else piece, run_font))
        return decode_runs(pieces)

    def _seen_as_cp1252(self, value: str) -> str:
        if not self.recode:
            return value
        try:
            return "".join(_CP1252[b] for b in value.encode(self.recode))
        except (UnicodeEncodeError, LookupError):
            return value


def _cell_text(book, sheet, fonts: _Fonts, row: int, col: int) -> str:
    import xlrd

    cell = sheet.cell(row, col)
    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    if kind == xlrd.XL_CELL_TEXT:
        runs = sheet.rich_text_runlist_map.get((row, col))
        return fonts.text(value, fonts.of_xf(cell.xf_index), runs).strip()
    if kind == xlrd.XL_CELL_BOOLEAN:
        return format_value(bool(value))
    if kind == xlrd.XL_CELL_DATE:
        try:
            return format_value(xlrd.xldate_as_datetime(value, book.datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return format_value(value)
    return format_value(value, _number_format(book, cell.xf_index))


def _number_format(book, xf_index: int) -> str:
    try:
        return book.format_map[book.xf_list[xf_index].format_key].format_str
    except (KeyError, IndexError, AttributeError):
        return "General"


def _read_sheets(book, out: Blocks, limits: Limits) -> None:
    fonts = _Fonts(book)
    cells_seen = 0
    chars = 0
    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        rows: list[tuple[str, ...]] = []
        cut_rows = sheet.nrows > MAX_ROWS_PER_SHEET
        for r in range(min(sheet.nrows, MAX_ROWS_PER_SHEET)):
            width = min(sheet.row_len(r), MAX_COLS)
            values = [_cell_text(book, sheet, fonts, r, c) for c in range(width)]
            cells_seen += width
            chars = keep_row(values, rows, out, limits, chars)
            if chars < 0:
                return
            if cells_seen > MAX_CELLS:
                break
        end_sheet(sheet.name, rows, cut_rows, out)
        book.unload_sheet(index)
        if cells_seen > MAX_CELLS:
            out.problems.append("Bảng tính quá lớn; hệ thống chỉ đọc một phần đầu.")
            return
