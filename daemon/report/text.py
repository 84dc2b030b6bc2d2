"""Sentences of units' reports: split, merge near-duplicates, sum quantities, join names.

Pure text helpers for daemon/report/consolidate.py. Two units often write the same sentence (the
district circulates model wording) or nearly the same one (tone placement, a comma, "cán bộ, công
chức" vs "cán bộ công chức"). Such sentences are printed once, for every unit that wrote them.

Near-duplicate rule (deliberately conservative, because a draft must never put one unit's number
in another's mouth): two sentences merge when they contain exactly the same numbers, and their
word sequences after fold_key (NFC, case, tone placement) are equal, or difflib's
SequenceMatcher ratio over the words is >= the campaign's `similarity` (0.9 by default). Exact
keys are grouped through a dict (O(n)); difflib only compares sentences with the same numbers,
and at most MAX_COMPARISONS recent distinct sentences per number signature, so 2,000 units stay
fast.

Sentences with the same wording whose only differences are quantities ("Tổ chức 27 buổi tiếp
công dân" / "Tổ chức 52 buổi ...") are then summed into one sentence ("Tổ chức 79 buổi ..."),
which consolidate.py gives its subject (the units, or the collective); a percentage is averaged over the units and says
"bình quân". A differing number that is not a quantity (a document number, a date, a year, a
number after "số") keeps the sentences apart, so nothing is ever added that should not be.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from parsers.numbers import format_number, parse_number
from parsers.text import ascii_key, fold_key

MAX_COMPARISONS = 200
_BREAK = re.compile(r"[.!?…]+[\"”’)]*\s+")
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_ITEM = re.compile(r"^(?:[-+•*–]\s|\d+[.)]\s|[a-zđ][.)]\s)")
_ABBREVIATION = re.compile(r"(?:^|\s)[A-ZĐ][A-ZĐa-z]{0,3}\.$")  # "TT.", "TP.", "KT." do not end a sentence


def sentences(text: str) -> list[str]:
    """Sentences of a section's text: split at line breaks and at . ! ? before a capital."""
    out: list[str] = []
    for line in _unwrapped((text or "").splitlines()):
        line = " ".join(line.split())
        start = 0
        for m in _BREAK.finditer(line):
            nxt = line[m.end():m.end() + 1]
            head = line[start:m.end()].rstrip()
            if not nxt or not (nxt.isupper() or nxt.isdigit() or nxt in "\"“("):
                continue
            if _ABBREVIATION.search(head):
                continue
            out.append(head)
            start = m.end()
        tail = line[start:].strip()
        if tail:
            out.append(tail)
    return [s for s in out if any(c.isalpha() for c in s)]


def _unwrapped(lines: list[str]) -> list[str]:
    """Lines of a paragraph that a PDF's layout wrapped ("phân công" / "nhiệm vụ cụ thể") joined
    again: a line that does not end with a sentence's or a clause's mark continues on the next,
    unless that one starts a list item ("- ", "+ ", "a) ")."""
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if out and line and out[-1][-1] not in ".!?:;…" and not _ITEM.match(line):
            out[-1] = out[-1] + " " + line
        elif line:
            out.append(line)
    return out


def finish(sentence: str) -> str:
    """A sentence ending with a full stop (a trailing ";" or ":" becomes one)."""
    s = sentence.rstrip()
    if s.endswith((";", ",", ":")):
        s = s[:-1].rstrip()
    return s if s.endswith((".", "!", "?", "./.", "…")) else s + "."


class Keys:
    """fold_key/ascii_key with a cache: the same sentence or heading recurs across units.

    Digits are masked ("0") before folding: matching words never depends on them and the units'
    sentences that differ only in their numbers then share one cache entry (fold_key is the
    costly step at 2,000 units). Numbers are compared separately, from the original text."""

    def __init__(self) -> None:
        self._fold: dict[str, str] = {}
        self._ascii: dict[str, str] = {}

    def fold(self, text: str) -> str:
        text = _DIGIT.sub("0", text)
        key = self._fold.get(text)
        if key is None:
            key = self._fold[text] = fold_key(text)
        return key

    def ascii(self, text: str) -> str:
        text = _DIGIT.sub("0", text)
        key = self._ascii.get(text)
        if key is None:
            key = self._ascii[text] = ascii_key(text)
        return key


class Phrases:
    """A list of configured phrases matched inside a text (fold key, then diacritic-free key)."""

    def __init__(self, phrases, keys: Keys) -> None:
        self.keys = keys
        self.fold = tuple(k for k in (keys.fold(p) for p in phrases) if k)
        self.ascii = tuple(k for k in (keys.ascii(p) for p in phrases) if k)

    def __bool__(self) -> bool:
        return bool(self.fold)

    def found_in(self, text: str) -> bool:
        if not self.fold:
            return False
        fold = self.keys.fold(text)
        if any(k in fold for k in self.fold):
            return True
        plain = self.keys.ascii(text)
        return any(k in plain for k in self.ascii)

    def position(self, text: str) -> int | None:
        """Where the earliest phrase starts in the text's fold key (or its diacritic-free key)."""
        if not self.fold:
            return None
        fold = self.keys.fold(text)
        found = [i for i in (fold.find(k) for k in self.fold) if i >= 0]
        if not found:
            plain = self.keys.ascii(text)
            found = [i for i in (plain.find(k) for k in self.ascii) if i >= 0]
        return min(found) if found else None

    def starts(self, text: str) -> bool:
        fold = self.keys.fold(text)
        return any(fold.startswith(k) for k in self.fold)


@dataclass
class Group:
    text: str  # the first unit's wording (or the summed sentence)
    words: tuple[str, ...]
    units: list[int] = field(default_factory=list)  # unit positions, in the order they were added
    numbers: tuple[str, ...] = ()
    template: tuple[str, ...] = ()  # the words with every number as "#"
    summed: bool = False  # the numbers are totals over the units
    origins: dict = field(default_factory=dict)  # unit position -> where it wrote it (caller's data)


_NOT_QUANTITY_BEFORE = re.compile(r"(?:số|năm|ngày|tháng|giai đoạn|khóa|lần thứ|điều|khoản|mục|thông tư|nghị định)$")


def _aggregation(text: str, m: re.Match, keys: Keys) -> str | None:
    """How a number in a sentence may be aggregated: "sum", "mean" (a percentage) or None."""
    raw = m.group()
    if "/" in raw or text[m.end():m.end() + 1] in "/-" or text[max(0, m.start() - 1):m.start()] in "/-":
        return None
    if _NOT_QUANTITY_BEFORE.search(keys.fold(text[max(0, m.start() - 14):m.start()]).rstrip()):
        return None
    value = parse_number(raw)
    if value is None or ("," not in raw and "." not in raw and 1900 <= value <= 2100):
        return None
    return "mean" if text[m.end():].lstrip().startswith("%") else "sum"


class Merger:
    """Collects sentences of one area and merges near-duplicates (see the module docstring)."""

    def __init__(self, similarity: float, keys: Keys) -> None:
        self.similarity = similarity
        self.keys = keys
        self.groups: list[Group] = []
        self._exact: dict[tuple[tuple[str, ...], tuple[str, ...]], Group] = {}
        self._by_numbers: dict[tuple[str, ...], list[Group]] = {}

    def add(self, sentence: str, unit: int, origin=None) -> None:
        words = tuple(_WORD.findall(self.keys.fold(sentence)))
        if not words:
            return
        numbers = tuple(_NUMBER.findall(sentence))
        group = self._exact.get((numbers, words))
        if group is None and self.similarity < 1:
            group = self._similar(numbers, words)
        if group is None:
            template = tuple(re.findall(r"#|\w+", _NUMBER.sub("#", self.keys.fold(sentence))))
            group = Group(sentence, words, numbers=numbers, template=template)
            self.groups.append(group)
            self._by_numbers.setdefault(numbers, []).append(group)
        self._exact[(numbers, words)] = group
        if unit not in group.units:
            group.units.append(unit)
            group.origins[unit] = origin

    def _similar(self, numbers: tuple[str, ...], words: tuple[str, ...]) -> Group | None:
        candidates = self._by_numbers.get(numbers, ())
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(words)
        for group in reversed(candidates[-MAX_COMPARISONS:]):
            matcher.set_seq1(group.words)
            if (matcher.real_quick_ratio() >= self.similarity and matcher.quick_ratio() >= self.similarity
                    and matcher.ratio() >= self.similarity):
                return group
        return None


    def consolidated(self) -> list[Group]:
        """The groups, with sentences that differ only in quantities summed into one."""
        by_template: dict[tuple[str, ...], list[Group]] = {}
        for group in self.groups:
            if group.numbers:
                by_template.setdefault(group.template, []).append(group)
        replaced: dict[int, Group | None] = {}
        for members in by_template.values():
            if len(members) < 2 or len({len(g.numbers) for g in members}) != 1:
                continue
            summed = self._sum(members)
            if summed is not None:
                replaced[id(members[0])] = summed
                for g in members[1:]:
                    replaced[id(g)] = None
        out = []
        for group in self.groups:
            new = replaced.get(id(group), group)
            if new is not None:
                out.append(new)
        return out

    def _sum(self, members: list[Group]) -> Group | None:
        first = members[0]
        spans = list(_NUMBER.finditer(first.text))
        if len(spans) != len(first.numbers):
            return None
        text = first.text
        for i in reversed(range(len(spans))):
            values = {g.numbers[i] for g in members}
            if len(values) == 1:
                continue
            how = _aggregation(first.text, spans[i], self.keys)
            if how is None:
                return None
            weighted = [(parse_number(g.numbers[i]), len(g.units)) for g in members]
            if any(v is None for v, _ in weighted):
                return None
            total = sum(v * n for v, n in weighted)
            if how == "mean":
                total = round(total / sum(n for _, n in weighted), 2)
            shown = ("bình quân " if how == "mean" else "") + number_text(total)
            text = text[:spans[i].start()] + shown + text[spans[i].end():]
        units: list[int] = []
        origins: dict = {}
        for g in members:
            units.extend(u for u in g.units if u not in origins)
            for u in g.units:
                origins.setdefault(u, g.origins.get(u))
        return Group(text, first.words, units, first.numbers, first.template, summed=True, origins=origins)


def name_list(names: list[str], max_named: int = 0) -> str:
    """Names joined so that none is misread: units' names hold commas and "và" ("Phòng Văn hóa
    và Thông tin"), so they are separated by semicolons, the last two by "và" only when neither
    holds a "và" itself: "Phòng A; Phòng B và Phòng C". Every name is written (a text for
    signature never says "và N đơn vị khác"); max_named is kept for callers and ignored."""
    if len(names) <= 1:
        return "".join(names)
    if " và " in names[-1] or " và " in names[-2]:
        return "; ".join(names)
    return "; ".join(names[:-1]) + " và " + names[-1]


def number_text(value: float | None) -> str:
    """A figure as Vietnamese write it: 1.234; 98,5; up to two decimals."""
    if value is None:
        return ""
    if float(value).is_integer():
        return format_number(float(value), 0)
    text = format_number(float(value), 2)
    return text.rstrip("0").rstrip(",") if "," in text else text
