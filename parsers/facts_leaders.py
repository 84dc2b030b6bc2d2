"""Leaders assigned to mass-mobilisation work ("phân công đồng chí X ... phụ trách công tác dân
vận"), read over a document's body. Pure.
"""
from __future__ import annotations

import re

from parsers.facts_common import name_like
from parsers.text import squash

# Leaders of mass-mobilisation work. Names are checked in Python (title case), not in the regex.
_ASSIGN_RE = re.compile(
    r"(?i:phân\s+công|giao|cử)\s+(?i:cho\s+)?(?i:đồng\s+chí|đ/c|ông|bà)\s+(?P<rest>[^;]{3,160}?)"
    r"\s*,?\s+(?i:là\s+người\s+|làm\s+|sẽ\s+)?(?i:trực\s+tiếp\s+)?(?i:phụ\s+trách|chỉ\s+đạo|chịu\s+trách\s+nhiệm)")
_COMRADE_RE = re.compile(
    r"(?i:đồng\s+chí|đ/c)\s+(?P<rest>[^;]{3,160}?)\s*,?\s+(?i:trực\s+tiếp\s+)?(?i:phụ\s+trách|chỉ\s+đạo)")
_CHAIRMAN_RE = re.compile(
    r"(?P<title>(?:Phó\s+)?Chủ\s+tịch\s+(?:UBND|Ủy\s+ban\s+nhân\s+dân|Uỷ\s+ban\s+nhân\s+dân)\s+"
    r"(?:xã|thị\s+trấn|phường|huyện)(?P<place>(?:\s+[^\W\d_][^\s,;.()]{0,40}){0,3}?))"
    r"\s*,?\s+(?:là\s+người\s+|sẽ\s+)?(?i:trực\s+tiếp)\s+(?i:phụ\s+trách|chỉ\s+đạo)")
_POST_RE = re.compile(r"^(?:Phó\s+)?(?:Chủ\s+tịch|Trưởng|Giám\s+đốc|Chánh|Bí\s+thư|Hiệu\s+trưởng)\b")
_MASS_WORK_RE = re.compile(r"(?i)dân\s+vận|dân\s+chủ")
# Every match of the three leader regexes ends with one of these words and is shorter than
# _LEADER_REACH characters (their parts are bounded), so they are searched only just before an
# occurrence: a regex without a literal start costs a try at every position of the body.
_LEADER_ENDS = ("phụ trách", "chỉ đạo", "chịu trách nhiệm")
_LEADER_REACH = 320

# --- leaders ----------------------------------------------------------------------------------

def _person(rest: str) -> str | None:
    """ "Nguyễn Văn A, Phó Chủ tịch UBND xã" -> itself, normalised; None when no name leads it."""
    rest = squash(rest).strip(" ,")
    m = re.match(r"^(?P<name>[^,(–-]+?)\s*(?:[,(–-]\s*(?P<title>[^()]*?)\s*\)?\s*)?,?$", rest)
    if not m:
        return None
    name = m.group("name").strip()
    if not name_like(name):
        # "giao đồng chí Phó Chủ tịch UBND xã phụ trách": a post without a name is still the fact.
        return rest if _POST_RE.match(rest) else None
    title = (m.group("title") or "").strip(" ,")
    return f"{name}, {title}" if title else name


def _leader_windows(text: str, low: str) -> list[tuple[int, int]]:
    """Disjoint spans of `text` (squashed: single spaces) holding every leader match: each ends
    where one of _LEADER_ENDS does and starts _LEADER_REACH before it. finditer over each gives
    the matches finditer over the whole text would, since no match crosses a span's edge.
    `low` is text.lower(), of the same length."""
    ends = sorted(at + len(word) for word in _LEADER_ENDS for at in _find_all(low, word))
    windows: list[tuple[int, int]] = []
    for end in ends:
        start = max(0, end - _LEADER_REACH)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


# Words each leader regex cannot match without (one of each group, lower case).
_NEEDS = {
    _ASSIGN_RE: (("phân công", "giao", "cử"), ("đồng chí", "đ/c", "ông", "bà")),
    _COMRADE_RE: (("đồng chí", "đ/c"),),
    _CHAIRMAN_RE: (("chủ tịch",), ("trực tiếp",)),
}


def _may_match(regex: re.Pattern, low: str | None, start: int, end: int) -> bool:
    """Can `regex` match in low[start:end]? Substring tests, cheaper than the regex's search.
    `low` is the text in lower case (None when that would move positions: then maybe)."""
    if low is None:
        return True
    part = low[start:end]
    return all(any(word in part for word in group) for group in _NEEDS[regex])


def _find_all(text: str, word: str):
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


def read_leaders(lines: list[str]) -> tuple[str, ...]:
    """Leaders assigned to mass-mobilisation work, read over the joined body text (a PDF text
    layer breaks a paragraph into lines anywhere), each within a sentence about "dân vận" or
    "dân chủ" so that other assignments ("giao đồng chí X phụ trách tài chính") are left out."""
    text = squash(" ".join(filter(None, lines)))  # the non-empty lines, joined in C
    low = text.lower()
    if len(low) == len(text):
        # In squashed text, _MASS_WORK_RE is two plain words: str's fast search, not sre's.
        if "dân vận" not in low and "dân chủ" not in low:
            return ()
        windows = _leader_windows(text, low)
    else:  # a rare letter whose lower case is longer: positions would move
        if not _MASS_WORK_RE.search(text):
            return ()
        windows, low = [(0, len(text))], None
    found: list[str] = []
    spans: list[tuple[int, int]] = []

    def about_mass_work(start: int, end: int) -> bool:
        stop = text.find(".", end)
        return bool(_MASS_WORK_RE.search(text, start, stop if 0 <= stop < end + 200 else end + 200))

    for regex in (_ASSIGN_RE, _COMRADE_RE):
        for m in (m for a, b in windows if _may_match(regex, low, a, b) for m in regex.finditer(text, a, b)):
            if any(a <= m.start("rest") < b for a, b in spans) or not about_mass_work(m.start(), m.end()):
                continue
            person = _person(m.group("rest"))
            if person:
                spans.append((m.start(), m.end()))
                found.append(person)
    for m in (m for a, b in windows if _may_match(_CHAIRMAN_RE, low, a, b)
              for m in _CHAIRMAN_RE.finditer(text, a, b)):
        if any(a <= m.start() < b for a, b in spans) or not about_mass_work(m.start(), m.end()):
            continue
        # Words after "xã" must be a place name ("Mỹ Hòa"), not the rest of a sentence.
        if all(w[0].isupper() for w in m.group("place").split()):
            found.append(squash(m.group("title")))
    return tuple(dict.fromkeys(found))

