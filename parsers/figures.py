"""Numbers out of tables: the figures of a report, and a campaign's indicators ("biểu mẫu").

A table arrives as rows of cell texts (docx, xlsx or PDF reader; merged cells already padded).
Vietnamese tables have a recognisable shape: an optional title row, a header row ("STT | Nội dung
| Đơn vị tính | Kết quả | Ghi chú"), sometimes a row numbering the columns ("(1) (2) (3)"), then
data rows whose first cell is a code ("1", "1.2", "II", "DV01", "a)") and whose label is the
first cell that is not a number. We find that shape by header words first and by cell contents
second, so a table typed without a header still gives its numbers.

Pure: no IO. Numbers are read with parsers.numbers.parse_number ("1.234" is 1234, "1.234,5").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Sequence

from parsers.model import Figure, Indicator  # noqa: F401  (Indicator: its readers import it from here too)
from parsers.numbers import parse_number
from parsers.text import ascii_key, fold_key, letters_key, nfc, squash

Table = Sequence[Sequence[str]]


# Header words, compared on _header_key() (diacritic-free, lower case, punctuation as spaces).
_CODE_HEADERS = frozenset({
    "stt", "tt", "so tt", "so thu tu", "ma", "ma so", "ma chi tieu", "ma so chi tieu", "code", "ky hieu",
})
_NAME_HEADERS = ("chi tieu", "noi dung", "ten chi tieu", "danh muc", "hang muc", "linh vuc", "nhiem vu",
                 "ten", "dien giai")
_UNIT_HEADERS = ("don vi tinh", "dvt")
_NOTE_HEADERS = ("ghi chu",)
# In order of preference when a table has several numeric columns and we need one value per row.
_VALUE_HEADERS = ("so lieu", "ket qua", "thuc hien", "so luong", "gia tri", "tong so", "tong")

_ROMAN = frozenset("I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX".split())
_CODE_RE = re.compile(
    r"^(?:[IVX]{1,5}|\d{1,3}(?:\.\d{1,3}){0,3}|[A-ZĐ]{1,4}[-.]?\d{1,4}(?:\.\d{1,3})*|[a-zđ])[.)]?$"
)
_COLUMN_NUMBER_RE = re.compile(r"^\(?(?:\d{1,2}|[A-Z])\)?(?:\s*=\s*.*)?$")
_NO_VALUE = frozenset({"", "-", "–", "—", "x", "X", "/"})
_LEADING_NUMBERING_RE = re.compile(r"^\s*(?:[IVX]{1,5}|\d{1,3}(?:\.\d{1,3})*|[a-zđ])\s*[.)]\s+")


def _header_key(text: str) -> str:
    """A column header's words for the vocabularies above ("Ký hiệu" -> "ky hieu"). Headers
    are matched on how they start (_header_match), so a long cell's first 60 characters do."""
    return letters_key(text[:60] if text else "").lower()


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    """An indicator name's key: ascii_key (no diacritics, one spelling), lower case, words only."""
    return re.sub(r"[^a-z0-9]+", " ", ascii_key(text or "").lower()).strip()


def _clean(cell: object) -> str:
    if cell is None:
        return ""
    return squash(nfc(str(cell)))


@lru_cache(maxsize=8192)
def cell_number(cell: str) -> float | None:
    """The number a cell holds, or None: Vietnamese format, a trailing % or unit-less dash refused.

    Cached: finding a table's header, each row's label and its figures ask about the same cells,
    and short numbers repeat across documents."""
    text = _clean(cell)
    if text in _NO_VALUE:
        return None
    if text.endswith("%"):
        text = text[:-1].strip()
    return parse_number(text)


def _is_code(text: str) -> bool:
    return bool(_CODE_RE.match(text))


def _normal_code(code: str) -> str:
    return re.sub(r"\s+", "", code).rstrip(".)").upper()


@dataclass
class _Layout:
    start: int  # first data row
    labels: list[str]  # column labels (header text), "" where the header says nothing
    code_col: int | None
    name_col: int | None
    unit_col: int | None
    note_col: int | None
    value_col: int | None  # the preferred value column, when the header names one


def _is_title_row(row: list[str]) -> bool:
    """A merged title across the table ("BIỂU MẪU SỐ LIỆU ..."): one distinct non-empty text."""
    texts = [c for c in row if c]
    return len(texts) >= 1 and len(set(texts)) == 1 and len(row) > 1 and not _is_code(texts[0]) \
        and cell_number(texts[0]) is None


def _is_column_numbering(row: list[str]) -> bool:
    texts = [c for c in row if c]
    return len(texts) >= 2 and all(_COLUMN_NUMBER_RE.match(c) for c in texts) and any("(" in c for c in texts) \
        or (len(texts) >= 3 and [c for c in texts] == [str(i) for i in range(1, len(texts) + 1)])


def _header_match(key: str, words: tuple[str, ...]) -> bool:
    """The key is one of the words, or starts with one of them as a whole word."""
    return key in words or key.startswith(_word_prefixes(words))


@lru_cache(maxsize=None)
def _word_prefixes(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(w + " " for w in words)


def _layout(rows: list[list[str]]) -> _Layout:
    width = max((len(r) for r in rows), default=0)
    header_idx = None
    for i, row in enumerate(rows[:8]):
        keys = [_header_key(c) for c in row]
        if any(k in _CODE_HEADERS for k in keys) or any(_header_match(k, _NAME_HEADERS) for k in keys):
            header_idx = i
            break
    header_rows: list[int] = []
    start = 0
    if header_idx is not None:
        header_rows = [header_idx]
        start = header_idx + 1
        # Further header rows (a two-level header) have no number and no code in the first cell.
        while start < len(rows) and start < header_idx + 3:
            row = rows[start]
            if _is_column_numbering(row):
                start += 1
                break
            if any(cell_number(c) is not None for c in row) or (row and _is_code(row[0])):
                break
            if all(not c for c in row):
                start += 1
                continue
            header_rows.append(start)
            start += 1
    else:
        # No header words: leading rows without any number are headers (title rows are skipped).
        while start < len(rows) and start < 4:
            row = rows[start]
            if any(cell_number(c) is not None for c in row):
                break
            if not _is_title_row(row):
                header_rows.append(start)
            start += 1
        if start >= len(rows):  # no numbers at all: treat nothing as header
            header_rows, start = [], 0
        elif start < len(rows) and _is_column_numbering(rows[start]):
            start += 1

    labels = []
    for col in range(width):
        parts: list[str] = []
        for h in header_rows:
            text = rows[h][col] if col < len(rows[h]) else ""
            if text and text not in parts and not _COLUMN_NUMBER_RE.match(text):
                parts.append(text)
        labels.append(" - ".join(parts))
    keys = [_header_key(lab) for lab in labels]

    def find(words: Sequence[str] | frozenset) -> int | None:
        for c, k in enumerate(keys):
            if (k in words) if isinstance(words, frozenset) else _header_match(k, words):
                return c
        return None

    code_col = find(_CODE_HEADERS)
    name_col = find(_NAME_HEADERS)
    unit_col = find(_UNIT_HEADERS)
    note_col = find(_NOTE_HEADERS)
    value_col = None
    for word in _VALUE_HEADERS:
        for c, k in enumerate(keys):
            if c not in (code_col, name_col, unit_col, note_col) and (k == word or k.startswith(word + " ")):
                value_col = c
                break
        if value_col is not None:
            break

    data = rows[start:]
    if code_col is None and width >= 2:
        # A first column of codes ("1", "1.2", "II", "DV01") next to a text column is a code column.
        firsts = [r[0] for r in data if r and r[0]]
        texts = any(cell_number(c) is None and not _is_code(c) for r in data for c in r[1:] if c)
        if firsts and texts and all(_is_code(c) for c in firsts):
            code_col = 0
    return _Layout(start, labels, code_col, name_col, unit_col, note_col, value_col)


def _rows(table: Table) -> list[list[str]]:
    rows = [list(row) for row in table or ()]
    if not _clean_already([c for row in rows for c in row]):
        rows = [[_clean(c) for c in row] for row in rows]
    return [r for r in rows if any(r)]


def _clean_already(cells: list) -> bool:
    """Is _clean(c) == c for every cell? The usual case (read_document's tables are NFC, and most
    cells hold single-spaced text), told by a few C-level passes over the cells joined instead of
    a call per cell. U+001F joins them: it composes with nothing, so NFC of the whole is NFC of
    each; and, as it is not printable, a cell holding one fails the printable test. With every
    character printable, " " is the only whitespace, so squash() would change a cell only for a
    double space or a space at an end (parsers.text.squash's own test)."""
    try:
        joined = "\x1f".join(cells)  # a TypeError for None or a number (an .xlsx value)
    except TypeError:
        return False
    return ("".join(cells).isprintable() and "  " not in joined and " \x1f" not in joined
            and "\x1f " not in joined and joined[:1] != " " and joined[-1:] != " "
            and unicodedata.normalize("NFC", joined) == joined)


def _label(row: list[str], lay: _Layout) -> tuple[str, int | None]:
    """The row's label and its column: the name column, else the first non-numeric, non-code cell."""
    if lay.name_col is not None and lay.name_col < len(row) and row[lay.name_col]:
        return row[lay.name_col], lay.name_col
    for c, text in enumerate(row):
        if c in (lay.code_col, lay.unit_col, lay.note_col) or not text:
            continue
        if cell_number(text) is None:
            return text, c
    return "", None


def _code(row: list[str], lay: _Layout) -> str | None:
    if lay.code_col is not None and lay.code_col < len(row) and row[lay.code_col]:
        return row[lay.code_col].rstrip(".") or None
    return None


def _data_rows(tables: Sequence[Table]):
    """(row, layout, label, label column, code) for every row below each table's header."""
    for table in tables or ():
        rows = _rows(table)
        if not rows:
            continue
        lay = _layout(rows)
        for row in rows[lay.start:]:
            label, label_col = _label(row, lay)
            yield row, lay, label, label_col, _code(row, lay)


def table_figures(tables: Sequence[Table]) -> tuple[Figure, ...]:
    """Every number in the tables, with its row label, column label and the row's code if any."""
    out: list[Figure] = []
    for row, lay, label, label_col, code in _data_rows(tables):
        if not label:
            continue
        skip = (lay.code_col, label_col, lay.unit_col)
        labels = lay.labels
        for c, text in enumerate(row):
            if not text or c in skip:  # an empty cell holds no number (cell_number("") is None)
                continue
            value = cell_number(text)
            if value is None:
                continue
            out.append(_figure(label, labels[c] or f"Cột {c + 1}" if c < len(labels) else f"Cột {c + 1}",
                               value, code))
    return tuple(out)


def _figure_fast(row: str, column: str, value: float, code: str | None) -> Figure:
    """Figure(row, column, value, code) without the frozen dataclass's __init__, which sets each
    field through object.__setattr__ (1.1 µs against 0.45 µs; a report's tables give hundreds
    of figures). The same object: its __dict__ filled with the same fields in the same order."""
    figure = _new(Figure)
    figure.__dict__.update(row=row, column=column, value=value, code=code)
    return figure


_new = object.__new__
# Only while Figure is what _figure_fast assumes: a plain frozen dataclass of these four fields,
# its instances with a __dict__, no __post_init__.
_figure = (_figure_fast if [f.name for f in fields(Figure)] == ["row", "column", "value", "code"]
           and not hasattr(Figure, "__slots__") and not hasattr(Figure, "__post_init__") else Figure)


@dataclass(frozen=True)
class _Entry:
    code: str | None
    name: str
    fold: str
    ascii: str
    value: str  # the raw text of the value cell ("" when empty)


def _name_keys(name: str) -> tuple[str, str]:
    bare = _LEADING_NUMBERING_RE.sub("", name).strip().rstrip(":").strip()
    return fold_key(bare), _key(bare)


def _entries(tables: Sequence[Table]) -> list[_Entry]:
    out: list[_Entry] = []
    for row, lay, label, label_col, code in _data_rows(tables):
        if not label and not code:
            continue
        value = ""
        if lay.value_col is not None:
            value = row[lay.value_col] if lay.value_col < len(row) else ""
        else:
            # No header names the value: the first cell after the label that is not the unit,
            # the note or the code; a number anywhere after the label wins over text.
            after = [c for c in range(len(row)) if (label_col is None or c > label_col)
                     and c not in (lay.code_col, lay.unit_col, lay.note_col)]
            numeric = [c for c in after if cell_number(row[c]) is not None]
            if numeric:
                value = row[numeric[0]]
            else:
                filled = [c for c in after if row[c]]
                value = row[filled[0]] if filled else ""
        fold, asc = _name_keys(label)
        out.append(_Entry(_normal_code(code) if code else None, label, fold, asc, value))
    return out


def _similar(a: str, b: str) -> bool:
    """Names that share at least half of the shorter one's words (a rephrased indicator)."""
    wa, wb = set(a.split()), set(b.split())
    if not wa or not wb:
        return True
    return len(wa & wb) / min(len(wa), len(wb)) >= 0.5


def read_indicators(tables: Sequence[Table], indicators: Sequence[Indicator]
                    ) -> tuple[dict[str, float], tuple[str, ...]]:
    """Values of the indicators found in the tables, by indicator code, and problems (Vietnamese).

    Matching: by code (when the row's name is not about something else), else by fold_key(name),
    else by the diacritic-free key. A code match whose row name shares no words with the indicator
    is refused: a report's own "STT 1, 2, 3" table must not fill a form's codes "1, 2, 3".
    """
    entries = _entries(tables)
    values: dict[str, float] = {}
    problems: list[str] = []
    for ind in indicators:
        key = ind.code or ind.name
        fold, asc = _name_keys(ind.name)
        code = _normal_code(ind.code) if ind.code else None
        by_fold = [e for e in entries if fold and e.fold == fold]
        by_ascii = [e for e in entries if asc and e.ascii == asc]
        by_code = [e for e in entries if code and e.code == code and (not e.name or _similar(e.ascii, asc))]
        if by_code and (by_code[0].fold == fold or not (by_fold or by_ascii)):
            entry = by_code[0]
        elif by_fold:
            entry = by_fold[0]
        elif by_ascii:
            entry = by_ascii[0]
        elif by_code:
            entry = by_code[0]
        else:
            problems.append(f"Không tìm thấy chỉ tiêu {_describe(ind)} trong bảng số liệu.")
            continue
        text = entry.value.strip()
        if text in _NO_VALUE:
            problems.append(f"Chỉ tiêu {_describe(ind)} chưa có số liệu.")
            continue
        number = cell_number(text)
        if number is None:
            problems.append(f"Chỉ tiêu {_describe(ind)}: giá trị “{text}” không phải là số.")
            continue
        values[key] = number
    return values, tuple(problems)


def _describe(ind: Indicator) -> str:
    return f"{ind.code} ({ind.name})" if ind.code else f"“{ind.name}”"


def read_form_indicators(tables: Sequence[Table]) -> tuple[Indicator, ...]:
    """The indicator list of a blank (or filled) form: rows with a code and a name.

    Group headings coded with roman numerals ("I. CÔNG TÁC TUYÊN TRUYỀN") carry no value and are
    left out; so are rows without a code.
    """
    out: list[Indicator] = []
    seen: set[str] = set()
    for table in tables or ():
        rows = _rows(table)
        if not rows:
            continue
        lay = _layout(rows)
        if lay.code_col is None:
            continue
        for row in rows[lay.start:]:
            code = _code(row, lay)
            label, _ = _label(row, lay)
            if not code or not label or code.upper() in _ROMAN or not _is_code(code):
                continue
            if code in seen:
                continue
            seen.add(code)
            unit = row[lay.unit_col] if lay.unit_col is not None and lay.unit_col < len(row) else ""
            out.append(Indicator(code=code, name=label, unit=unit))
    return tuple(out)
