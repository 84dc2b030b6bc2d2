"""Numbers a unit states in its report's text, matched to the campaign's indicators. Pure.

"tiếp nhận 500 hồ sơ thủ tục hành chính, tỷ lệ giải quyết đúng hạn đạt 98%" -> DV04 = 500,
DV05 = 98. The reader is deliberately cautious, because what it finds is only ever a third source
(after the unit's filled form and its report's own table) or a reason for the clerk to look:

- a number counts only when the indicator's unit of measure follows it ("500 hồ sơ", "98%",
  "146 lượt", the unit's first word is enough: "lượt người" is often written "lượt cán bộ");
- among the indicators with that unit, the one whose name shares the most words with the words
  around the number wins, and only with at least two shared words and no tie;
- an indicator stated twice with different numbers in one report is not read at all.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence

from parsers.numbers import parse_number

_NUMBER = re.compile(r"(?<![\w./,])(\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?)(?![\w/])")
_WORD = re.compile(r"[a-z0-9]+")
BEFORE, AFTER = 3, 7  # words around the number compared with the indicator's name
MIN_SHARED = 2
# Words every indicator name has or that say nothing about which one it is.
_STOP = frozenset("so cac va cua duoc da trong nam voi tai theo cho mot nhung la co".split())
# Words between a name and its number that say nothing ("tỷ lệ đúng hạn đạt bình quân 98%"): not
# counted in the window, so they do not push the name's words out of it.
_FILLER = frozenset("dat binh quan la co voi duoc gan khoang tong cong".split())


def _fold_table() -> dict[int, str]:
    """Latin letters with Vietnamese marks -> their base letter, lower case, one character each, so
    positions in the folded text are positions in the text (str.translate: fast at 2,000 units)."""
    table = {}
    for code in range(0xC0, 0x1F00):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base.isascii() and base.isalpha():
            table[code] = base.lower()
    table.update({ord("đ"): "d", ord("Đ"): "d"})
    return table


_FOLD = _fold_table()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).translate(_FOLD).lower()


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


class StatedReader:
    """Reads the indicators' numbers out of sentences; built once per campaign (its indicators)."""

    def __init__(self, indicators: Sequence) -> None:
        self._by_unit: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for ind in indicators:
            unit = _words(ind.unit) if ind.unit.strip() != "%" else ["%"]
            if not unit or not ind.code:
                continue
            name = frozenset(w for w in _words(ind.name) if w not in _STOP and w not in unit)
            self._by_unit.setdefault(unit[0], []).append((ind.code, name))
        # A number followed by one of the units: most sentences have none and cost one search.
        units = "|".join(sorted((re.escape(u) for u in self._by_unit if u != "%"), key=len, reverse=True))
        self._find = re.compile(_NUMBER.pattern + r"\s*(%|(?:" + (units or "(?!)") + r")\b)")

    def __bool__(self) -> bool:
        return bool(self._by_unit)

    def read(self, texts: Iterable[str]) -> dict[str, float]:
        """indicator code -> the number the texts state for it (only unambiguous ones)."""
        found: dict[str, set[float]] = {}
        for text in texts:
            for code, value in self._sentence(text):
                found.setdefault(code, set()).add(value)
        return {code: next(iter(vals)) for code, vals in found.items() if len(vals) == 1}

    def _sentence(self, text: str):
        text = _fold(text or "")
        spans: list[tuple[int, str]] = []
        starts: list[int] = []
        for m in self._find.finditer(text):
            candidates = self._by_unit.get(m.group(2))
            value = parse_number(m.group(1))
            if not candidates or value is None:
                continue
            if not spans:  # the words of the text, once, and only for a text that states a figure
                spans = [(w.start(), w.group()) for w in _WORD.finditer(text) if w.group() not in _FILLER]
                starts = [p for p, _ in spans]
            after = bisect_left(starts, m.end(1))
            before = bisect_left(starts, m.start(1))
            around = {w for _, w in spans[max(0, before - BEFORE):before]} | {w for _, w in spans[after:after + AFTER]}
            scored = sorted(((len(name & around), code) for code, name in candidates), reverse=True)
            best = scored[0]
            if best[0] < MIN_SHARED or (len(scored) > 1 and scored[1][0] == best[0]):
                continue
            yield best[1], value
