"""The signing block of an ND30 document: authority (TM./KT./TL./Q./TUQ.), the signer's title and
name, and the recipients ("Nơi nhận").

The block is read from its segments: a line split at tabs or runs of spaces (a tabbed paragraph,
a pdftotext -layout line), or glued after a recipient's ";" (a text layer without positions), so
the two columns of a signing table come apart however they were flattened. Pure.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from parsers.facts_common import (BULLET_RE, COLUMNS_RE, FAIR, GOOD, HIGH, IGNORABLE_RE, NOT_FOUND, RULE_RE,
                                  SURNAMES, is_upper, name_like, upper_name)
from parsers.model import Fact
from parsers.text import squash

# "TM.", "KT.", "Q.", "TL.", "TUQ." (and the pre-2011 "T/M", "K/T", "T/L" older offices still
# type), as really typed: "KT/ CHỦ TỊCH", "TM . ỦY BAN NHÂN DÂN", "K.T CHỦ TỊCH".
# Without a mark ("TM UBND XÃ", "KT CHỦ TỊCH") only before a capital: the rest must be capitals.
_AUTH_PREFIX = (r"(?:TM|KT|TL|TUQ|Q)\s*[./]|T\s*/\s*M|K\s*/\s*T|T\s*/\s*L|T\.M|K\.T|T\.L"
                r"|(?:TM|KT|TL|TUQ)\s(?=\s*[A-ZĐ])")
_AUTH_RE = re.compile(r"^(?P<prefix>" + _AUTH_PREFIX + r")\s*(?P<rest>\S.*)$")
_POSTS = (r"^(?:PHÓ\s+)?(?:CHỦ TỊCH|TRƯỞNG PHÒNG|TRƯỞNG BAN|GIÁM ĐỐC|CHÁNH VĂN PHÒNG|CHÁNH THANH TRA"
          r"|BÍ THƯ|HIỆU TRƯỞNG|THỦ TRƯỞNG|TRƯỞNG TRẠM|TRƯỞNG KHOA|CHÁNH ÁN|VIỆN TRƯỞNG|CỤC TRƯỞNG"
          r"|CHI CỤC TRƯỞNG|VỤ TRƯỞNG|BỘ TRƯỞNG|THỨ TRƯỞNG|TỔNG GIÁM ĐỐC|CHỦ NHIỆM|TRƯỞNG CÔNG AN"
          r"|CHỈ HUY TRƯỞNG|ĐỘI TRƯỞNG|THỦ TƯỚNG|TỔNG CỤC TRƯỞNG|TỔNG THANH TRA|TỔNG KIỂM TOÁN"
          r"|CHÁNH|TRƯỞNG)\b")
# A signer's title: a post and at most three more words ("PHÓ TRƯỞNG CÔNG AN HUYỆN").
SIGNER_TITLE_RE = re.compile(_POSTS + r"(?:\s+\S+){0,3}$")
# A line that starts with a post, however long ("CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI").
POST_START_RE = re.compile(_POSTS)
_ACTING_RE = re.compile(r"^Q\s*[./]")  # "Q." (quyền): an acting head
_SIGNING_HINT_RE = re.compile(r"(?:^|\t| {3,})(?:(?i:nơi\s*nhận)|" + _AUTH_PREFIX + r")")

# --- the signing block ----------------------------------------------------------------------

_NN_RE = re.compile(r"^(?i:nơi\s*nhận)\b")
_NN_LEAD_RE = re.compile(r"^(?i:nơi\s*nhận)\s*:?\s*")
# Where a recipient item may end and the signature column begin. Without a space only before an
# authority: a .doc whose signing table LibreOffice flattened reads "- Lưu: VT.KT. GIÁM ĐỐC".
_GLUE_RE = re.compile(r"[;:.,)]\s*")


def _segment_kind(seg: str) -> str:
    if not seg or RULE_RE.match(seg):
        return "blank"
    if _NN_RE.match(seg):
        return "nn"
    if BULLET_RE.match(seg) and len(seg) > 1:
        return "item"
    auth = _AUTH_RE.match(seg)
    if auth and is_upper(auth.group("rest")):
        return "authority"
    # Lengths first: the searches are the cost, and most segments are long body or table text.
    if len(seg) < 60 and IGNORABLE_RE.search(seg):
        return "ignorable"
    if len(seg) <= 80 and is_upper(seg):
        return "upper"
    if name_like(seg):
        return "name"
    return "other"


_GLUED_STARTS = frozenset("Nn-+•–—*")  # first characters of _NN_LEAD_RE and BULLET_RE matches


def _split_glued(seg: str) -> list[str]:
    """Split "- Như trên; CHỦ TỊCH" or "- Lưu: VT. Đoàn Thanh Bình" (a PDF line across columns)."""
    if seg[:1] not in _GLUED_STARTS:  # neither "Nơi nhận" nor a bullet: nothing to split
        return [seg]
    m = _NN_LEAD_RE.match(seg)
    if m:
        rest = seg[m.end():]
        return [seg[:m.end()].strip()] + (_split_glued(rest) if rest else [])
    if not BULLET_RE.match(seg):
        return [seg]
    for m in _GLUE_RE.finditer(seg):
        tail = seg[m.end():].strip()
        if not tail:
            continue
        kind = _segment_kind(tail)
        if m.end() == m.start() + 1 and kind != "authority":
            continue  # "VT,NV." or "(b/c);": a split without a space needs an authority after it
        if kind in ("authority", "ignorable") or (kind == "upper" and SIGNER_TITLE_RE.match(tail)) \
                or (kind == "name" and tail.split()[0] in SURNAMES):
            return [seg[:m.end()].strip(), tail]
    return [seg]


class _Seg:
    """A segment of the signing block; its kind is worked out on first use, because the reader
    stops after a few segments and the rest (often an appendix's table cells) would otherwise
    cost most of the facts' time."""

    __slots__ = ("line", "text", "_kind")

    def __init__(self, line: int, text: str) -> None:
        self.line, self.text, self._kind = line, text, None

    @property
    def kind(self) -> str:
        if self._kind is None:
            self._kind = _segment_kind(self.text)
        return self._kind


class _Segments:
    """The signing block's segments from line `start` on, split only as far as they are read:
    the block is a few lines, but a report's appendix (often most of its lines) follows it."""

    def __init__(self, lines: list[str], start: int) -> None:
        self._lines = lines
        self._next_line = start
        self._done: list[_Seg] = []

    def get(self, k: int) -> _Seg | None:
        done = self._done
        while len(done) <= k:
            if not self._split_next_line():
                return None
        return done[k]

    def from_(self, k: int):
        """(index, segment) from index k to the end."""
        done = self._done
        while k < len(done) or self._split_next_line():
            if k < len(done):
                yield k, done[k]
                k += 1

    def _split_next_line(self) -> bool:
        """Add the next line's segments (maybe none); False when no line is left."""
        i = self._next_line
        if i >= len(self._lines):
            return False
        self._next_line = i + 1
        line = self._lines[i]
        for piece in COLUMNS_RE.split(line) if ("\t" in line or "   " in line) else (line,):
            piece = squash(piece)
            if piece:
                self._done.extend(_Seg(i, part) for part in _split_glued(piece))
        return True


@dataclass
class _Signing:
    start: int
    authority: Fact = NOT_FOUND
    title: Fact = NOT_FOUND
    signer: Fact = NOT_FOUND
    recipients: tuple[str, ...] = ()


# How a line that _SIGNING_HINT_RE matches at its start can begin ("nơi" in any case aside).
_HINT_STARTS = ("TM", "TL", "TU", "T/", "T.", "T ", "KT", "K/", "K.", "K ", "Q")
# Where a line that opens_signing accepts can start: a hint's start, "nơi" in any case (the only
# letters whose lower case is "n", "ơ", "i"), or the first two letters of a post (a post alone
# in capitals: the line's own first two, as lines are stripped and squash() changes only
# spaces). Factored by first letter: sre tries a branch's alternatives one by one at each line.
_POST_HEADS = sorted({post[:2] for post in ["PHÓ", *_POSTS.split("(?:", 2)[2].rsplit(")", 1)[0].split("|")]})
_LINE_START_RE = re.compile(
    r"\n(?:" + "|".join(
        first + ("[" + "".join(sorted({h[1] for h in heads})) + "]" if all(len(h) == 2 for h in heads) else "")
        for first, heads in sorted({h[0]: [x for x in (*_HINT_STARTS, *_POST_HEADS) if x[0] == h[0]]
                                    for h in (*_HINT_STARTS, *_POST_HEADS)}.items()))
    + r"|[Nn][Ơơ][Ii])")


def _opening_line(lines: list[str], body_start: int) -> int | None:
    """The first line from body_start on that opens_signing accepts, or None.

    The block is most often after everything else, tables included (hundreds of lines, cells
    mostly), and a Python test per line cost more than the rest of the block's reading. So the
    lines are joined, and C finds those that may open it: a start _LINE_START_RE names, or
    columns (a tab, three spaces), opens_signing's own first tests; only those are asked."""
    tail = lines[body_start:]
    if not tail:
        return None
    joined = "\n" + "\n".join(tail)
    # ends[k]: where line k ends in `joined`, the next line's "\n" (exact even for a line that
    # holds a line break itself: that only adds a candidate, which opens_signing then judges)
    ends = list(accumulate(map(len, tail)))
    at = 0
    head = tab = spaces = -1
    while at < len(joined):
        if head < at:
            m = _LINE_START_RE.search(joined, at)
            head = m.start() if m else len(joined)
        if tab < at:
            tab = joined.find("\t", at) % (len(joined) + 1)  # not found (-1): len(joined)
        if spaces < at:
            spaces = joined.find("   ", at) % (len(joined) + 1)
        pos = min(head, tab, spaces)
        if pos >= len(joined):
            return None
        # the line holding pos (a start's "\n" belongs to the line it opens): the first k with
        # pos < ends[k] + k + 1, line k's end in `joined` (k separators before it, and the lead)
        k = bisect_right(range(len(tail)), pos, key=lambda j: ends[j] + j + 1)
        if opens_signing(tail[k]):
            return body_start + k
        at = ends[k] + k + 1
    return None


def opens_signing(line: str) -> bool:
    """Does this line start the signing block: "Nơi nhận", an authority, or a post alone?"""
    # The hint matches at the line's start or after a tab or 3 spaces: testing the first
    # letters and the spacing first spares a regex on almost every body line.
    if (((line.startswith(_HINT_STARTS) or line[:3].lower() == "nơi") and _SIGNING_HINT_RE.match(line))
            or (("\t" in line or "   " in line) and _SIGNING_HINT_RE.search(line))):
        return any(_segment_kind(piece) in ("nn", "authority") for piece in map(squash, COLUMNS_RE.split(line)))
    return len(line) <= 80 and is_upper(line) and bool(SIGNER_TITLE_RE.match(squash(line)))


def read_signing(lines: list[str], body_start: int) -> _Signing:
    start = _opening_line(lines, body_start)
    if start is None:
        return _Signing(len(lines))
    segs = _Segments(lines, start)
    result = _Signing(start)

    # Recipients: the items after "Nơi nhận", skipping the signing block's own segments.
    # Cheap tests before s.kind: only a segment they accept can be of that kind.
    nn = next((k for k, s in segs.from_(0) if _NN_RE.match(s.text) and s.kind == "nn"), None)
    if nn is not None:
        items: list[str] = []
        for _k, s in segs.from_(nn + 1):
            if s.kind == "item":
                items.append(BULLET_RE.sub("", s.text))
            elif s.kind == "other" and items and (s.text[0].islower() or s.text[0] == "("):
                items[-1] = f"{items[-1]} {s.text}"
            elif s.kind == "other":
                break  # an appendix or text after the block: the list is over
        result.recipients = tuple(t.strip().rstrip(";,.").strip() for t in items if t.strip(" ;,."))

    # Authority lines, then the signer's title (capitals after them), then the name.
    first_auth = next((k for k, s in segs.from_(0) if _AUTH_RE.match(s.text) and s.kind == "authority"), None)
    after = None
    if first_auth is not None:
        parts = [segs.get(first_auth).text]
        uppers: list[int] = []
        last_auth = first_auth
        k = first_auth + 1
        while (seg := segs.get(k)) is not None and seg.kind in ("authority", "upper", "item", "blank", "nn"):
            if seg.kind == "authority":
                parts.extend(segs.get(u).text for u in uppers)  # capitals between two authorities
                uppers = []
                parts.append(seg.text)
                last_auth = k
            elif seg.kind == "upper":
                uppers.append(k)
            k += 1
        # The signer's title is the first capitals that read as a post; capitals before it
        # continue the authority ("TM. BAN CHỈ ĐẠO" / "THỰC HIỆN QUY CHẾ DÂN CHỦ").
        titled = [u for u in uppers if SIGNER_TITLE_RE.match(segs.get(u).text)]
        if titled:
            parts.extend(segs.get(u).text for u in uppers if u < titled[0])
            after = titled[0]
            title = segs.get(after).text
            # A narrow cell wraps the title's last word(s) onto a line of their own ("PHÓ BÍ THƯ
            # THƯỜNG" / "TRỰC"): a word or two of capitals next, not a name, that the title takes.
            nxt = [u for u in uppers if u > after][:1]
            if nxt and len(words := segs.get(nxt[0]).text.split()) <= 2 and not upper_name(segs.get(nxt[0]).text) \
                    and not POST_START_RE.match(words[0]) and SIGNER_TITLE_RE.match(f"{title} {' '.join(words)}"):
                title, after = f"{title} {' '.join(words)}", nxt[0]
            result.title = Fact(title, HIGH)
        elif uppers and not upper_name(segs.get(uppers[0]).text):
            result.title = Fact(segs.get(uppers[0]).text, FAIR)
            after = uppers[0]
        elif len(parts) > 1 and _ACTING_RE.match(parts[-1]):
            # "TL. CHỦ TỊCH" / "Q. CHÁNH VĂN PHÒNG" then the name: an acting head signs under his
            # acting post, so the last "Q." line is the signer's title, not a further authority.
            result.title = Fact(parts.pop(), GOOD)
            after = last_auth
        else:
            after = last_auth  # the name follows the block's last authority line
        result.authority = Fact(" ".join(parts), HIGH)
    else:
        after = next((k for k, s in segs.from_(0) if SIGNER_TITLE_RE.match(s.text) and s.kind == "upper"), None)
        if after is not None:
            result.title = Fact(segs.get(after).text, GOOD)
    if after is not None:
        for _k, s in segs.from_(after + 1):
            if _k >= after + 14:
                break
            signed = _signed_name(s.text) or _ranked_name(s.text)
            if signed:
                result.signer = Fact(signed, GOOD)
                break
            if s.kind == "name":
                conf = HIGH if s.text.split()[0] in SURNAMES else FAIR
                result.signer = Fact(squash(s.text).strip(" .,;"), conf)
                break
            if s.kind == "upper" and POST_START_RE.match(s.text):
                # the signer's other post under the title ("TRƯỞNG BAN" / "PHÓ CHỦ TỊCH UBND
                # HUYỆN"): not a name, though "Phó" is a surname too
                continue
            if s.kind == "upper" and upper_name(s.text):
                result.signer = Fact(squash(s.text), FAIR)
                break
            if s.kind in ("other", "nn"):
                break
    if result.signer.value is None and (result.title.value or result.authority.value):
        # An e-signature's stamp away from the signature ("Người ký: ..." in a page corner).
        # Within the signing block's page, not an appendix's many lines.
        for line in lines[start:start + _STAMP_REACH]:
            signed = _signed_name(line) if ("ký" in line or "Ký" in line or "KÝ" in line) else None
            if signed:
                result.signer = Fact(signed, FAIR)
                break
    return result


_STAMP_REACH = 60  # lines after the block's start where a stamp may stand

# E-signature stamps ("Người ký: Lê Minh Hùng", "Ký bởi: Trần Việt Trường") and a typed note on
# a copy ("Nguyễn Tấn Dũng đã ký", "(Đã ký) Nguyễn Tấn Dũng"): the name, without the note.
_STAMP_NAME_RE = re.compile(r"^(?i:người\s*ký|(?:được\s*)?ký\s*(?:số\s*)?bởi|signed\s*by)\s*:?\s*(?P<name>[^,;:]+?)\s*$")
_SIGNED_NOTE_RE = re.compile(r"^[(\[]?\s*(?i:đã\s*ký)\s*[)\]]?\s*[:.,]?\s*|\s*[(\[,]?\s*(?i:đã\s*ký)\s*[)\]]?\s*\.?$")


# A rank or degree before the name ("Thượng tá Lê Văn Minh", "TS. Trần Văn A"): the name is the fact.
# Degrees come in any case, may be chained and may lack the dot ("Bs.", "BSCKII.", "ThS.BS Lê A").
_RANK_RE = re.compile(r"^(?:(?:Thượng|Đại|Trung|Thiếu)\s+(?:tướng|tá|úy|uý)|(?:PGS|GS)\.?\s*TS\.?|"
                      r"(?:(?i:ts|ths|bs|bsck(?:i{1,2}|[12])|ks|ds|ls|cn)(?:\.\s*|\s+(?=[A-ZĐ])))+|"
                      r"(?:THƯỢNG|ĐẠI|TRUNG|THIẾU)\s+(?:TƯỚNG|TÁ|ÚY|UÝ))\s*(?P<name>\S.*)$")


def _ranked_name(text: str) -> str | None:
    m = _RANK_RE.match(text) if text[:1] in "TĐPGBKtbkdlcC" else None
    if not m:
        return None
    name = squash(m.group("name")).strip(" .,;")
    return name if name_like(name) or upper_name(name) else None


def _signed_name(text: str) -> str | None:
    """The signer's name in a stamp or beside an "đã ký" note, or None."""
    if "ký" not in text.lower():
        return None
    m = _STAMP_NAME_RE.match(text)
    name = m.group("name") if m else _SIGNED_NOTE_RE.sub("", text)
    if name == text:
        return None
    name = squash(name).strip(" .,;")
    return name if name_like(name) or upper_name(name) else None

