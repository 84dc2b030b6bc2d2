"""The facts of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP layout).

Input: the document's lines in reading order (tables flattened row by row, cell by cell, a cell's
paragraphs as separate lines) and its tables. The same document reaches us in several shapes:
the header as a borderless two-column table, as typed paragraphs with tabs between the columns,
as stacked paragraphs (one field per line, or the two columns' lines interleaved), as a
pdftotext -layout page (columns apart by runs of spaces), or as a text layer that glues both
columns on one line ("BỘ TÀI CHÍNH CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"). So each header line is
taken apart: the national title and the motto are cut out wherever they sit, then the number
("Số: 45/BC-UBND") and the place-date ("Tháp Mười, ngày 15 tháng 10 năm 2024", joined back first
when wrapped over two lines); what is left of the left column is the issuing body, with its
parent body apart. The signing block is read the same way, from its segments
(parsers.facts_signing); leaders of mass-mobilisation work by parsers.facts_leaders.

Confidence: HIGH when a fact is found where ND30 puts it, in its form; lower when a looser rule
found it; Fact(None, 0) when not found. Nothing is guessed: an out-of-office message gives no
facts. extract_facts is pure and never raises; regexes are compiled once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date as _date
from typing import Sequence

from parsers.facts_common import (BULLET_RE, COLUMNS_RE, FAIR, GOOD, HIGH, LOW, NOT_FOUND, RULE_RE,
                                  is_upper, squashed)
from parsers.doc_types import TYPE_NAMES  # apart, so that daemon.texts imports it cheaply
from parsers.facts_leaders import read_leaders
from parsers.facts_signing import POST_START_RE, opens_signing, read_signing
from parsers.figures import table_figures
from parsers.model import FACT_NAMES, DocumentFacts, Fact, Section
from parsers.text import letters_key, nfc_all, squash


FIELDS = FACT_NAMES  # the name tests and callers already import from here

# Codes as written in numbers, upper-cased for lookup ("QYĐ" -> "QyĐ"); "QD" is a Đ lost on the way.
TYPE_CODES: dict[str, str] = {code.upper(): code for code in TYPE_NAMES.values()}
TYPE_CODES["QD"] = "QĐ"
TYPE_CODES["ND"] = "NĐ"


_TYPE_BY_KEY = {letters_key(name): code for name, code in TYPE_NAMES.items()}
# A heading typed with a space between letters ("K Ế  H O Ạ C H"): its letters, joined.
_TYPE_BY_LETTERS = {key.replace(" ", ""): code for key, code in _TYPE_BY_KEY.items()}
# What may follow a type name on its line in capitals: who issues it ("QUYẾT ĐỊNH CỦA BỘ TRƯỞNG
# BỘ TÀI CHÍNH", the pre-2011 form) or its subject ("QUYẾT ĐỊNH VỀ VIỆC ...").
# "HƯỚNG DẪN LIÊN NGÀNH", "KẾ HOẠCH LIÊN TỊCH" (issued jointly) are of the base type.
_TYPE_OF_RE = re.compile(r"^(?:CỦA|VỀ|V/V|LIÊN\s+(?:NGÀNH|TỊCH|CƠ\s+QUAN)$)")
_TYPE_PREFIX_RE = re.compile(
    r"^(?P<name>" + "|".join(sorted((re.escape(n) for n in TYPE_NAMES), key=len, reverse=True))
    + r")\s+(?P<rest>\S.*)$"
)

# The title in the header's right column: the state's, or on a Party body's documents the Party's
# ("ĐẢNG CỘNG SẢN VIỆT NAM"), on the Youth Union's the Union's ("ĐOÀN TNCS HỒ CHÍ MINH"). Either
# is never part of the issuer. The Union's name also opens a body's name ("BCH ĐOÀN TNCS HỒ CHÍ
# MINH HUYỆN ..."), so it counts as the title only where a column or the line ends after it.
_NATIONAL_RE = re.compile(
    r"C[ỘO]NG\s*H(?:ÒA|OÀ|OA)\s*X[ÃA]\s*H[ỘO]I\s*CH[ỦU]\s*NGH[ĨI]A\s*VI[ỆE]T\s*NAM"
    r"|Đ[ẢA]NG\s*C[ỘO]NG\s*S[ẢA]N\s*VI[ỆE]T\s*NAM"
    r"|(?:(?<=^)|(?<=\s))ĐOÀN\s+(?:TNCS|THANH\s+NIÊN\s+CỘNG\s+SẢN)\s+HỒ\s+CHÍ\s+MINH(?=\s*$|\t| {3,})"
    # the mass organisations' national names, where the state's title stands on their documents
    r"|(?:(?<=^)|(?<=\t)|(?<=   ))HỘI\s+(?:CỰU\s+CHIẾN\s+BINH|NÔNG\s+DÂN|LIÊN\s+HIỆP\s+PHỤ\s+NỮ)\s+VIỆT\s+NAM"
    r"(?=\s*$|\t| {3,})", re.I)
# A narrow header column wraps the national title after any of its last words: "CỘNG HÒA XÃ HỘI
# CHỦ NGHĨA" / "VIỆT NAM", "CỘNG HÒA XÃ HỘI CHỦ" / "NGHĨA VIỆT NAM" (a PDF of a narrow table cell).
_NATIONAL_HEAD_RE = re.compile(
    r"C[ỘO]NG\s*H(?:ÒA|OÀ|OA)\s*X[ÃA]\s*H[ỘO]I(?:\s*CH[ỦU])?(?:\s*NGH[ĨI]A)?(?=\s*$|\t| {3,})", re.I)
_NATIONAL_TAIL_RE = re.compile(
    r"(?:^|(?<=\s))(?:CH[ỦU]\s*)?(?:NGH[ĨI]A\s*)?VI[ỆE]T\s*NAM(?=\s*$|\t| {3,})", re.I)
_MOTTO_RE = re.compile(
    r"Đ[ỘO]C\s*L[ẬA]P\s*[-–—‐‑−]*\s*T[ỰU]\s*DO\s*[-–—‐‑−]*\s*H[ẠA]NH\s*PH[ÚU]C", re.I)
# "Số: 45/BC-UBND", "Số 45/BC-UBND", "Số:   /BC-UBND", "Số: 12/UBND-VX", "Số: 45/2024/QĐ-UBND".
# A spaced dash ("BC - UBND") is allowed before capitals only, so "- V/v" or "- Tháp Mười" stay out.
# Before 2011 the type and the issuer were often joined by a slash ("144/2002/QĐ/BTC",
# "40/2000/TT/BTC"): a slash then capitals belongs to the code.
_CODE = (r"[A-ZĐ][A-Za-zĐđ0-9&]*(?:[-–.][A-Za-zĐđ0-9&]+|/[A-ZĐ][A-Za-zĐđ0-9&]*"
         r"|\s?[-–]\s?[A-ZĐ]{2,}[A-Za-zĐđ0-9&]*)*")
_NUMBER_RE = re.compile(
    r"(?:^|(?<=[\t ]))(?:Số|SỐ)\s*[:.;]?\s*(?P<num>\d{1,6}[a-z]?)?(?P<blank>[\s.…_]*?)"
    r"(?P<year>/\s*\d{4}\s*)?/\s*(?P<code>" + _CODE + r")"
)
# Party style: "Số 311-QĐ/TU" (number - type / issuer).
_PARTY_NUMBER_RE = re.compile(
    r"(?:^|(?<=[\t ]))(?:Số|SỐ)\s*[:.;]?\s*(?P<num>\d{1,6})?(?P<blank>[\s.…_]*?)-\s*"
    r"(?P<type>[A-ZĐ][A-Za-zĐđ]{0,3})\s*/\s*(?P<code>" + _CODE + r")"
)
_DATE_RE = re.compile(
    r"(?:(?P<place>[^\t,;:]{1,80}?)\s*,\s*)?(?i:ngày)\s*(?:"
    r"[.…_]*(?P<d>\d{1,2})?[\s.…_/]*(?i:tháng)[\s.…_]*(?P<m>\d{1,2})?[\s.…_/]*(?i:năm)\s*(?P<y>\d{4})"
    r"|(?P<nd>\d{1,2})\s*[/.-]\s*(?P<nm>\d{1,2})\s*[/.-]\s*(?P<ny>\d{4}))"  # "ngày 15/10/2024": not ND30
    r"\s*\.?(?=\s*$|\t| {3,})"
)
_VV_RE = re.compile(r"^(?P<vv>[Vv]/[vV]|Về việc|V/v\.)\s*[:.]?\s*(?P<rest>.*)$")
_ADDRESSEE_RE = re.compile(r"^(?i:kính\s*g[ửở]i)\s*[:.]?\s*(?P<rest>.*)$")  # "gởi": southern spelling
_MARKS_RE = re.compile(
    r"^[(\[]?\s*(?:DỰ THẢO|Dự thảo|BẢN DỰ THẢO|MẬT|TỐI MẬT|TUYỆT MẬT|KHẨN|THƯỢNG KHẨN|HỎA TỐC|HOẢ TỐC"
    r"|MẪU)(?:\s+(?:LẦN|lần|SỐ|số)\s*\d+)?\s*[)\]]?$")
_CITED_DATE_RE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|(?i:ngày)\s+\d{1,2}\s+(?i:tháng)")
_SENTENCE_START_RE = re.compile(r"^(?:Căn cứ|Thực hiện|Theo|Nhằm|Để|Kính gửi|Trong|Qua|Nay|Với|Ngày)\b")

_ORG_WORDS = (
    "ỦY BAN", "UỶ BAN", "UBND", "HỘI ĐỒNG", "HĐND", "PHÒNG", "SỞ", "BỘ", "BAN", "TRUNG TÂM",
    "VĂN PHÒNG", "THANH TRA", "CHI CỤC", "CỤC", "TỔNG CỤC", "TRƯỜNG", "BỆNH VIỆN", "TRẠM",
    "ĐẢNG ỦY", "ĐẢNG UỶ", "ĐẢNG BỘ", "HUYỆN ỦY", "HUYỆN UỶ", "TỈNH ỦY", "TỈNH UỶ", "THÀNH ỦY",
    "MẶT TRẬN", "CÔNG AN", "BAN CHỈ HUY", "ĐOÀN", "HỘI", "LIÊN ĐOÀN", "KHO BẠC", "CHI NHÁNH",
    "VIỆN", "TÒA ÁN", "TOÀ ÁN", "BẢO HIỂM", "CÔNG TY", "HỢP TÁC XÃ", "QUỸ", "ĐÀI", "NHÀ",
    "CHÍNH PHỦ", "THỦ TƯỚNG", "QUỐC HỘI", "NGÂN HÀNG", "TỔNG CÔNG TY", "TẬP ĐOÀN", "HỌC VIỆN",
    "ĐẠI HỌC", "KIỂM TOÁN", "HẢI QUAN", "HẠT", "ĐỘI", "ĐỒN",
    # abbreviations offices type in the header: Ban chỉ đạo, Ban quản lý, Ban chấp hành, Mặt trận
    "BCĐ", "BQL", "BCH", "MTTQ",  # not "TT": "ỦY BAN NHÂN DÂN" / "TT MỸ AN" is one body (thị trấn)
)
_ORG_START_RE = re.compile(r"^(?:" + "|".join(sorted(_ORG_WORDS, key=len, reverse=True)) + r")\b", re.I)
_LOCALITY_RE = re.compile(r"^(?:xã|huyện|thị\s+trấn|thị\s+xã|tỉnh|thành\s+phố|phường|quận)\s+\S", re.I)
_CONTINUES_RE = re.compile(r"(?:[-–,&]|\bVÀ)$")
# A code that lands beside the issuer in a text layer (a form or stamp code: "... CẦN THƠ XV80"):
# capitals and digits mixed in one word, which no body's name has ("SỐ 2" keeps its number).
_AUTHORITY_START_RE = re.compile(r"^(?:TM|KT|TL|TUQ|Q)\s*[./]")
_STRAY_CODE_RE = re.compile(r"(?:^|\s+)(?=[A-Z]*\d)(?=\d*[A-Z])[A-Z0-9]{2,8}$")


_ROMANS = frozenset("I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX".split())
# "I.", "I-", "I/" (the last only before a capital: "V/v ..." is not section V); "1.", "1)", "1-", "1/".
_ROMAN_HEAD_RE = re.compile(r"^(?P<num>[IVX]{1,5})\s*(?:[.):–-]|/(?=\s*[A-ZĐÀ-Ỹ]))\s*(?P<rest>\S.*)$")
_ARABIC_HEAD_RE = re.compile(r"^(?P<num>\d{1,2})\s*[.)/–-]\s*(?P<rest>[^\d\s.,/–-].*)$")
_LETTER_HEAD_RE = re.compile(r"^(?P<num>[a-zđ])\s*\)\s*(?P<rest>\S.*)$")




# --- the header -----------------------------------------------------------------------------

@dataclass
class _Number:
    value: str | None
    code: str  # "BC-UBND", "UBND-VX"
    type_code: str | None  # a type code read from the number, "CV" style numbers give None
    line: int
    strong: bool  # at the start of a column


@dataclass
class _Dated:
    place: str | None
    iso: str | None
    line: int
    nd30: bool = True  # written "ngày 15 tháng 10 năm 2024", not "ngày 15/10/2024"


@dataclass
class _HeaderScan:
    national: int | None = None
    motto: int | None = None
    number: _Number | None = None
    date: _Dated | None = None
    pieces: list[tuple[int, str]] = field(default_factory=list)  # left-column leftovers
    wrapped_at: int | None = None  # the line where a wrapped national title's head was cut


def _valid_date(d: str | None, m: str | None, y: str | None) -> str | None:
    if not (d and m and y):
        return None
    try:
        value = _date(int(y), int(m), int(d))
    except ValueError:
        return None
    return value.isoformat() if 1945 <= value.year <= 2100 else None


_PLACE_WORD_RE = re.compile(r"^(?:thị|trấn|xã|huyện|phường|quận|thành|phố|tỉnh|tp\.?|tt\.?)$", re.I)


def _clean_place(place: str) -> tuple[str | None, str]:
    """The place of a place-date, and any left-column text glued before it (PDF text layers)."""
    parts = COLUMNS_RE.split(place)
    prefix = " ".join(parts[:-1])
    words = parts[-1].split()
    # "PHÒNG NỘI VỤ Tháp Mười": capitals glued in front of a Title Case place belong to the left.
    lead = 0
    while lead < len(words) - 1 and is_upper(words[lead]) and len(words[lead]) > 1 and words[lead].isalpha() \
            and not all(is_upper(w) for w in words[lead:]):
        lead += 1
    if lead:
        prefix = (prefix + " " + " ".join(words[:lead])).strip()
        words = words[lead:]
    # "Tháp Mười", "TP. Hồ Chí Minh", and "xã Mỹ Hòa", "thị xã Hồng Ngự" (a locality word first)
    if not words or len(words) > 6 or not (words[0][0].isupper() or _PLACE_WORD_RE.match(words[0])):
        return None, prefix
    for w in words:
        if not (w[0].isupper() or _PLACE_WORD_RE.match(w)):
            return None, prefix
    return " ".join(words), prefix


def _scan_line(i: int, line: str, scan: _HeaderScan) -> None:
    rest = line
    # Each regex below needs a word the line may lack; a substring test spares the search.
    low = line.lower()
    national = "cộng" in low or "cong" in low or "chí minh" in low or "việt nam" in low
    m = _NATIONAL_RE.search(rest) if national else None
    if m:
        scan.national = i if scan.national is None else scan.national
        rest = rest[:m.start()] + "\t" + rest[m.end():]
    elif scan.national is None and national and (m := _NATIONAL_HEAD_RE.search(rest)):
        scan.national = scan.wrapped_at = i
        rest = rest[:m.start()] + "\t" + rest[m.end():]
    elif scan.wrapped_at is not None and i - scan.wrapped_at <= 2 and (m := _NATIONAL_TAIL_RE.search(rest)):
        scan.wrapped_at = None
        rest = rest[:m.start()] + "\t" + rest[m.end():]
    m = _MOTTO_RE.search(rest) if "độc" in low or "đoc" in low else None
    if m:
        scan.motto = i if scan.motto is None else scan.motto
        rest = rest[:m.start()] + "\t" + rest[m.end():]
    if scan.number is None and ("Số" in line or "SỐ" in line):
        m = _PARTY_NUMBER_RE.search(rest) or _NUMBER_RE.search(rest)
        if m:
            strong = not rest[:m.start()].strip() or bool(re.search(r"(?:\t| {3,})$", rest[:m.start()]))
            code = re.sub(r"\s+", "", m.group("code")).replace("–", "-").rstrip(".")  # "BC - UBND"
            num = m.group("num")
            if m.re is _PARTY_NUMBER_RE:
                type_code = TYPE_CODES.get(m.group("type").upper())
                value = f"{num}-{m.group('type')}/{code}" if num else None
            else:
                first = re.split(r"[-./]", code, maxsplit=1)[0]  # "QĐ-UBND", "QĐ/BTC", "TT.BTC"
                type_code = TYPE_CODES.get(first.upper())
                year = re.sub(r"\s+", "", m.group("year") or "")
                value = f"{num}{year}/{code}" if num else None
            scan.number = _Number(value, code, type_code, i, strong)
            rest = rest[:m.start()] + "\t" + rest[m.end():]
    if scan.date is None and "ngày" in low:
        m = _DATE_RE.search(rest)
        if m:
            before = rest[:m.start()]
            column_start = not before.strip() or bool(re.search(r"(?:\t| {3,})$", before))
            place, prefix = (None, "")
            if m.group("place"):
                place, prefix = _clean_place(m.group("place"))
            # A sentence that merely ends with a date ("... đến ngày 20 tháng 10 năm 2024") is not
            # a place-date: the date must open a column, after a place that looks like one.
            if column_start and (place or not m.group("place")):
                if m.group("ny"):
                    scan.date = _Dated(place, _valid_date(m.group("nd"), m.group("nm"), m.group("ny")), i, False)
                else:
                    scan.date = _Dated(place, _valid_date(m.group("d"), m.group("m"), m.group("y")), i)
                rest = before + "\t" + prefix + "\t" + rest[m.end():]
    for piece in COLUMNS_RE.split(rest):
        piece = squash(piece).strip("_").lstrip("-–— ")  # "Số: 12/UBND-VX - V/v ..." leaves "- V/v"
        if piece and not RULE_RE.match(piece):
            scan.pieces.append((i, piece))


def _type_line(text: str) -> tuple[str, str | None, float] | None:
    """(code, summary on the same line, confidence) when a line names a document type."""
    s = squash(text)
    if not s or len(s) > 200:
        return None
    code = None
    if len(s) <= 40:  # type names are short
        key = letters_key(s)
        code = _TYPE_BY_KEY.get(key)
        if code is None and all(len(w) == 1 for w in key.split()):  # "K Ế  H O Ạ C H"
            code = _TYPE_BY_LETTERS.get(key.replace(" ", ""))
    if code:
        return code, None, HIGH if is_upper(s) else FAIR
    m = _TYPE_PREFIX_RE.match(s)
    if m:
        rest = m.group("rest")
        # "QUYẾT ĐỊNH CỦA BỘ TRƯỞNG BỘ TÀI CHÍNH": the type, then who issues it, not a summary.
        if is_upper(s) and _TYPE_OF_RE.match(rest):
            return TYPE_NAMES[m.group("name")], None, HIGH
        # "BÁO CÁO Kết quả ..." glued by a text layer: the summary starts in sentence case.
        if rest[0].isupper() and not is_upper(rest):
            return TYPE_NAMES[m.group("name")], rest, FAIR
    return None


def _group_issuer(pieces: list[str]) -> list[str]:
    """Header lines grouped into body names: a new name starts at an organisation word."""
    names: list[str] = []
    for piece in pieces:
        if names and (not _ORG_START_RE.match(piece) or _CONTINUES_RE.search(names[-1])):
            names[-1] = f"{names[-1]} {piece}"
        else:
            names.append(piece)
    return names


def _is_heading(text: str) -> tuple[str, int] | None:
    # A heading starts with I/V/X, a digit, or "a)": most lines are spared the three regexes.
    # (_sections has this inline, one pattern per first character: keep the two alike.)
    first = text[:1]
    if not first or not (first in "IVX" or first.isdigit() or (first.islower() and ")" in text)):
        return None
    m = _ROMAN_HEAD_RE.match(text)
    if m and m.group("num") in _ROMANS:
        return m.group("num"), 1
    m = _ARABIC_HEAD_RE.match(text)
    if m:
        return m.group("num"), 2
    m = _LETTER_HEAD_RE.match(text)
    if m:
        return m.group("num"), 3
    return None




# --- the whole document ---------------------------------------------------------------------

_BREAK_RE = re.compile(r"[\n\r\v\f\u2028\u2029]+")
_INVISIBLE_RE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_HSPACE_RE = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
# Any character one of the three would act on; most lines have none and are only stripped.
# One character class, not an alternation of three: sre scans a lone class 6x faster.
_SPECIAL_RE = re.compile("[" + "".join(r.pattern.strip("[]+") for r in (_BREAK_RE, _INVISIBLE_RE, _HSPACE_RE)) + "]")


def _prepare(lines: Sequence[str], normalized: bool = False) -> list[str]:
    texts = [raw for raw in lines or () if isinstance(raw, str)]
    if not normalized:
        texts = nfc_all(texts)
    # Most documents: nothing more to do. Every character _SPECIAL_RE names is unprintable, so
    # printable text is told in one C pass, without the regex; tabs (a header's columns) are
    # unprintable too but not special, so they are left out of the test.
    joined = "".join(texts)
    if joined.replace("\t", "").isprintable() or not _SPECIAL_RE.search(joined):
        return list(map(str.strip, texts))
    out: list[str] = []
    for text in texts:
        if not _SPECIAL_RE.search(text):
            out.append(text.strip())
            continue
        text = _HSPACE_RE.sub(" ", _INVISIBLE_RE.sub("", text))
        for part in _BREAK_RE.split(text):
            out.append(part.strip())
    return out


def _empty(figures=()) -> DocumentFacts:
    return DocumentFacts(**{name: NOT_FOUND for name in FIELDS}, figures=tuple(figures),
                         missing=FIELDS)


def extract_facts(lines: Sequence[str], tables: Sequence[Sequence[Sequence[str]]] = (), *,
                  normalized: bool = False) -> DocumentFacts:
    """ND30 facts of a document from its lines (reading order) and tables. Pure; never raises.
    `normalized`: the lines are NFC already (read_document's are), so they are not normalised again."""
    try:
        figures = table_figures(tables)
    except Exception:  # a malformed table must not cost the document its other facts
        figures = ()
    try:
        return _extract(_prepare(lines, normalized), figures)
    except Exception:  # the contract: never raise; a bug here shows up as facts not found
        return _empty(figures)


def _extract(lines: list[str], figures: tuple) -> DocumentFacts:
    facts: dict[str, Fact] = {name: NOT_FOUND for name in FIELDS}
    type_at, type_info, zone_end = _header_zone(lines)
    scan = _scan_header(lines, zone_end)
    # rare: only then look for wrapped fields
    if scan.date is None or scan.number is None or _CODE_CUT_RE.search(lines[scan.number.line]):
        joined = _join_split_dates(lines, zone_end)
        joined = _join_split_number(joined, lines, zone_end)
        joined = _join_wrapped_code(joined, lines, zone_end)
        if joined is not lines:
            lines, scan = joined, _scan_header(joined, zone_end)
    vv_at = next((i for i, piece in scan.pieces if _VV_RE.match(piece)), None)
    _issuer_facts(scan, zone_end, vv_at, facts)
    title_end = _type_facts(lines, scan, type_at, type_info, vv_at, zone_end, facts)
    if scan.date:
        # A place-date alone (a mail's closing line) is less sure than one inside an ND30 header.
        in_header = scan.national is not None or scan.motto is not None or scan.number or type_at is not None
        conf = HIGH if in_header else FAIR
        if scan.date.place:
            facts["place"] = Fact(scan.date.place, conf)
        if scan.date.iso:
            facts["date"] = Fact(scan.date.iso, conf if scan.date.nd30 else min(conf, FAIR))

    # The addressee ("Kính gửi") comes after the number and before the body.
    body_start = max(title_end, zone_end)
    for i in range(scan.number.line if scan.number else 0, min(len(lines), body_start + 15)):
        m = _ADDRESSEE_RE.match(lines[i])
        if m:
            items, end = _addressee(lines, i, m.group("rest"))
            if items:
                facts["addressee"] = Fact("; ".join(items), HIGH)
            body_start = max(body_start, end)
            break

    signing = read_signing(lines, body_start)
    facts["authority"], facts["signer_title"], facts["signer"] = signing.authority, signing.title, signing.signer
    body = lines[body_start:signing.start]
    missing = tuple(name for name in FIELDS if facts[name].value is None)
    return DocumentFacts(**facts, recipients=signing.recipients, sections=_sections(body), leaders=read_leaders(body),
                         figures=figures, missing=missing)


# A place-date cut before its end ("ngày 21 tháng  01  năm" / "2024"; "ngày 21 tháng" / "01 năm
# 2025"): a narrow cell or a one-field-per-line header wraps it.
_DATE_CUT_RE = re.compile(r"(?i:ngày)[\s.…_]*\d{0,2}[\s.…_/]*(?:(?i:tháng)[\s.…_]*\d{0,2}\s*(?:(?i:năm)\s*)?)?$")
_DATE_REST_RE = re.compile(r"^(?:\d{1,2}\s+|(?i:tháng|năm)\b|\d{4}\b)")


def _scan_header(lines: list[str], zone_end: int) -> _HeaderScan:
    scan = _HeaderScan()
    for i in range(zone_end):
        if lines[i]:
            _scan_line(i, lines[i], scan)
    return scan


def _join_split_dates(lines: list[str], zone_end: int) -> list[str]:
    """The lines with a wrapped header date joined back on its first line (the second left
    empty, so indexes stay). A copy only when there is one."""
    out = lines
    for i in range(min(zone_end, len(lines) - 1)):
        s = out[i]
        # Cheap tests first: a whole date ends with its year.
        if s[-4:].isdigit() or not ("ngày" in s or "Ngày" in s or "NGÀY" in s):
            continue
        if not _DATE_CUT_RE.search(s, max(0, len(s) - 60)) or _DATE_RE.search(s):
            continue
        # The rest may share its line with the left column (pdftotext -layout: "V/v ...      2024").
        nxt = out[i + 1]
        parts = COLUMNS_RE.split(nxt) if ("\t" in nxt or "   " in nxt) else [nxt]
        tail = parts[-1].strip()
        joined = f"{s} {tail}"
        if _DATE_REST_RE.match(tail) and _DATE_RE.search(joined):
            if out is lines:
                out = list(lines)
            out[i], out[i + 1] = joined, "\t".join(p for p in parts[:-1] if p.strip())
        elif i + 2 < len(out) and _DATE_REST_RE.match(out[i + 2].strip()) and not _DATE_REST_RE.match(tail) \
                and _DATE_RE.search(joined := f"{s} {out[i + 2].strip()}"):
            # A text layer without positions puts the left column's line ("V/v ...") between the
            # date and its wrapped rest: join the rest, and move that line down into the rest's
            # place so that it stays next to its own continuation lines.
            if out is lines:
                out = list(lines)
            out[i], out[i + 1], out[i + 2] = joined, "", nxt
    return out


# "Số:" alone, its number on the next line (a table cell's second paragraph).
_NUMBER_LABEL_RE = re.compile(r"(?:^|\t| {3,})(?:Số|SỐ)\s*[:.]?\s*$")
_NUMBER_REST_RE = re.compile(r"^\d{1,6}\s*/|^/\s*[A-ZĐ]")


def _join_split_number(out: list[str], lines: list[str], zone_end: int) -> list[str]:
    """`out` (lines, or a copy of them) with a wrapped "Số:" joined to its number."""
    for i in range(min(zone_end, len(out) - 1)):
        s, nxt = out[i], out[i + 1]
        if ("Số" in s or "SỐ" in s) and _NUMBER_LABEL_RE.search(s) and _NUMBER_REST_RE.match(nxt):
            if out is lines:
                out = list(lines)
            out[i], out[i + 1] = f"{s} {nxt}", ""
            break
    return out


# A narrow cell wraps the number's code after a hyphen or slash: "Số: 14/TTr-" / "TTDVNN".
_CODE_CUT_RE = re.compile(r"(?:Số|SỐ)\s*[:.]?\s*[\d\s.…_]*/[A-Za-zĐđ0-9&/.-]*[-/](?=\s*$|\t| {3,})")
_CODE_REST_RE = re.compile(r"[A-ZĐ][A-ZĐ0-9&.-]*(?=\s*$|\t| {3,})")


def _join_wrapped_code(out: list[str], lines: list[str], zone_end: int) -> list[str]:
    """`out` with a number's code cut at a hyphen joined to its rest, which opens the next line
    (its right column, if any, stays on that line)."""
    for i in range(min(zone_end, len(out) - 1)):
        s = out[i]
        m = _CODE_CUT_RE.search(s) if ("Số" in s or "SỐ" in s) else None
        if not m:
            continue
        nxt = out[i + 1]
        r = _CODE_REST_RE.match(nxt, len(nxt) - len(nxt.lstrip()))
        if r:
            if out is lines:
                out = list(lines)
            out[i], out[i + 1] = s[:m.end()] + r.group() + s[m.end():], nxt[r.end():]
        break
    return out


def _header_zone(lines: list[str]) -> tuple[int | None, tuple | None, int]:
    """(type line index, its info, end of the header zone). The header ends at the type name
    line ("BÁO CÁO"); without one, at the addressee, a heading or a long line (a công văn's long
    "V/v ..." summary and its number line still belong to the header)."""
    limit = min(len(lines), 40)
    for i in range(limit):
        info = _type_line(lines[i]) if lines[i] else None
        if info and not _NATIONAL_RE.search(lines[i]):
            return i, info, i
    for i in range(limit):
        s = lines[i]
        # _NUMBER_RE needs "Số"/"SỐ" and has no literal start: the substring test spares a search.
        if _VV_RE.match(s) or (("Số" in s or "SỐ" in s) and _NUMBER_RE.search(s)):
            continue
        if _ADDRESSEE_RE.match(s) or _is_heading(s) or len(s) > 150 or (s and opens_signing(s)):
            return None, None, i
    return None, None, limit


def _strip_stray_code(piece: str) -> str:
    """The piece without a trailing stray code; a short name keeps its code ("PHÒNG PC06" is the
    police unit's name), and a piece that is only a code goes."""
    m = _STRAY_CODE_RE.search(piece)
    if not m:
        return piece
    kept = piece[:m.start()]
    return kept if not kept or len(kept.split()) >= 3 else piece


def _issuer_facts(scan: _HeaderScan, zone_end: int, vv_at: int | None, facts: dict[str, Fact]) -> None:
    """Issuer and parent: the left column's capitals before the number (or the date, or V/v)."""
    stop = scan.number.line if scan.number else (scan.date.line if scan.date else zone_end)
    if vv_at is not None:
        stop = min(stop, vv_at)
    left: list[str] = []
    for i, piece in scan.pieces:
        if i >= stop or _MARKS_RE.match(piece) or _ADDRESSEE_RE.match(piece):
            continue
        # A header typed in lower case ("Ủy ban nhân dân" / "xã Mỹ Hòa") is accepted only just
        # above a number: elsewhere "Hội nghị" or "Phòng Nội vụ" is table text, not an issuer.
        piece = _strip_stray_code(piece)
        if not piece:
            continue
        if is_upper(piece) or (scan.number and scan.number.line - i <= 6
                                and (_ORG_START_RE.match(piece) or _LOCALITY_RE.match(piece))):
            left.append(piece)
    titled = scan.national is not None or scan.motto is not None
    if not left or not (titled or scan.number):  # no ND30 header: never guess an issuer
        return
    names = _group_issuer(left)
    conf = HIGH if titled and scan.number else GOOD
    if not all(is_upper(x) for x in left):
        conf = min(conf, FAIR)
    facts["issuer"] = Fact(names[-1], conf)
    if len(names) > 1:
        facts["parent_body"] = Fact(" ".join(names[:-1]), conf)


def _type_facts(lines: list[str], scan: _HeaderScan, type_at: int | None, type_info: tuple | None,
                vv_at: int | None, zone_end: int, facts: dict[str, Fact]) -> int:
    """Number, type, type name and title (trích yếu); returns the index where the title ends."""
    num = scan.number
    if num and num.value:
        facts["number"] = Fact(num.value, HIGH if num.strong else FAIR)
    title_end = zone_end
    if type_at is not None:
        code, same_line_title, conf = type_info
        written = squash(lines[type_at])
        if num and num.type_code:
            conf = HIGH if num.type_code == code else LOW  # "Số: 45/BC-..." under "KẾ HOẠCH"
        facts["type"] = Fact(code, conf)
        if same_line_title:
            facts["type_name"] = Fact(written[: len(written) - len(same_line_title)].strip(), conf)
            facts["title"] = Fact(same_line_title, FAIR)
            return type_at + 1
        facts["type_name"] = Fact(written, conf)
        title_lines, title_end = _title_after(lines, type_at + 1)
        if title_lines:
            facts["title"] = Fact(" ".join(title_lines), GOOD)
        # A decision names who issues it under its summary ("BỘ TRƯỞNG BỘ TÀI CHÍNH", "CHỦ TỊCH ỦY
        # BAN NHÂN DÂN HUYỆN ..."): header, not the signing block.
        while title_end < len(lines) and not lines[title_end]:
            title_end += 1
        if (title_end < len(lines) and len(lines[title_end]) <= 120 and is_upper(lines[title_end])
                and POST_START_RE.match(lines[title_end]) and not _AUTHORITY_START_RE.match(lines[title_end])):
            title_end += 1
        return title_end
    if vv_at is not None:
        m = _VV_RE.match(next(p for i, p in scan.pieces if i == vv_at and _VV_RE.match(p)))
        conf = HIGH if (num and num.type_code is None) else GOOD
        facts["type"], facts["type_name"] = Fact("CV", conf), Fact(m.group("vv"), HIGH)
        parts = [m.group("rest")] if m.group("rest") else []
        j = vv_at + 1
        while j < min(vv_at + 4, len(lines)):
            s = lines[j]
            if (not s or RULE_RE.match(s) or _ADDRESSEE_RE.match(s) or _NATIONAL_RE.search(s)
                    or _MOTTO_RE.search(s) or _DATE_RE.search(s) or _is_heading(s)
                    or _type_line(s) or len(s) > 150 or s.endswith(":")
                    or _SENTENCE_START_RE.match(s)  # the body ("Thực hiện ...") with no blank line
                    or opens_signing(s)):  # a short letter's signing block: never the summary
                break
            parts.append(squash(s))
            j += 1
        if parts:
            facts["title"] = Fact(squash(" ".join(parts)), HIGH)
        return max(zone_end, j)
    if num:  # no type line and no V/v: the number alone says what it is, less surely
        facts["type"] = Fact(num.type_code, FAIR) if num.type_code else Fact("CV", LOW)
    return title_end


def _title_after(lines: list[str], start: int) -> tuple[list[str], int]:
    """The summary under a type name: up to 3 short lines, ending before the addressee or body."""
    out: list[str] = []
    i = start
    while i < len(lines) and not lines[i] and i < start + 2:
        i += 1
    # "QUYẾT ĐỊNH" / "CỦA CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN" / "Về việc ...": the issuing line is not
    # the summary (pre-2011 decisions).
    if i < len(lines) and is_upper(lines[i]) and lines[i].startswith("CỦA "):
        i += 1
    while i < len(lines) and len(out) < 3:
        s = squash(lines[i])
        if (not s or RULE_RE.match(s) or _ADDRESSEE_RE.match(s) or _is_heading(s)
                or _NUMBER_RE.search(s) or _DATE_RE.match(s) or _MARKS_RE.match(s)):
            break
        if s.endswith((":", ";")) or len(s) > (200 if not out else 150):
            break
        # A body sentence citing a dated document is not a summary, even cut short by a PDF line.
        if _SENTENCE_START_RE.match(s) and _CITED_DATE_RE.search(s):
            break
        # A summary goes on in mid-sentence; a capitalised "Căn cứ", "Thực hiện"... starts the body.
        if out and (s.endswith(".") or is_upper(s) != is_upper(out[-1]) or _SENTENCE_START_RE.match(s)):
            break
        out.append(s)
        i += 1
    return out, i


def _addressee(lines: list[str], at: int, rest: str) -> tuple[list[str], int]:
    """The "Kính gửi" entries: the rest of its line, and "- ..." lines when a list follows."""
    items: list[str] = []
    rest = rest.strip()
    if rest:
        items.append(BULLET_RE.sub("", rest))
        if not rest.endswith(";"):  # "Kính gửi: Ủy ban nhân dân huyện Tháp Mười." is complete
            return [t.strip().rstrip(";,.").strip() for t in items if t.strip(" ;,.")], at + 1
    i = at + 1
    while i < len(lines) and len(items) < 30:
        s = squash(lines[i])
        if not s:
            i += 1
            continue
        if BULLET_RE.match(s) and len(s) <= 200:
            items.append(BULLET_RE.sub("", s))
            i += 1
            continue
        if not items and len(s) <= 150 and not s.endswith(":"):
            items.append(s)
            i += 1
        break
    return [t.strip().rstrip(";,.").strip() for t in items if t.strip(" ;,.")], i


def _sections(body: list[str]) -> tuple[Section, ...]:
    out: list[Section] = []
    current: tuple[str, str, int] | None = None
    text: list[str] = []
    for s in squashed(body):
        if not s:
            continue
        # _is_heading inline, each line tried against the one pattern its first character allows
        # (a digit: "1.", a roman numeral: "II.", a lower-case letter: "a)"): most body lines
        # are table cells, numbers among them, and a call and three regexes each cost the most.
        first = s[0]
        head = None
        if first.isdigit():
            # digits alone ("12", a table cell) lack the mark after the number ("1.", "2)")
            m = None if s.isdigit() else _ARABIC_HEAD_RE.match(s)
            if m:
                head = m.group("num"), 2
        elif first in "IVX":
            m = _ROMAN_HEAD_RE.match(s)
            if m and m.group("num") in _ROMANS:
                head = m.group("num"), 1
        elif first.islower() and ")" in s:
            m = _LETTER_HEAD_RE.match(s)
            if m:
                head = m.group("num"), 3
        if head:
            if current:
                out.append(Section(current[0], current[1], current[2], "\n".join(text)))
            current, text = (s, head[0], head[1]), []
        elif current:
            text.append(s)
    if current:
        out.append(Section(current[0], current[1], current[2], "\n".join(text)))
    return tuple(out)
