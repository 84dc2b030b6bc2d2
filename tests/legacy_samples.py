"""Legacy-font documents made on purpose, with the Unicode text they must read as.

Used by tests/test_legacy.py and bench/legacy.py. Each sample is a list of paragraphs, each
paragraph a list of runs (Unicode text, font name); the file writes every run in its font's
encoding (parsers.text.encode_legacy: TCVN3 for .Vn fonts, upper-case TCVN3 for ".Vn...H",
VNI for VNI- fonts; symbol-font runs carry the font's bullet code). What a reader must give
back is the runs' Unicode text, upper-cased in an H font, with "•" for a bullet.

Writers: .docx (python-docx, run fonts as Word writes them: w:ascii and w:hAnsi), .rtf (by
hand: a font table and \\f switches), .html (spans with font-family, Word's "\\.VnTime"
escape), .xlsx (openpyxl cell fonts; LibreOffice turns it into .xls). .doc comes from the .docx
through LibreOffice, as offices' files came from Word.
"""
from __future__ import annotations

import html
import io
import re
import unicodedata

from parsers.text import encode_legacy, font_kind

Run = tuple[str, str | None]
Paragraph = list[Run]

BULLET = "\u2022"
# Each symbol font's bullet code as the font's own byte (shown as cp1252, as a reader sees it).
SYMBOL_CODES = {"Symbol": "\xb7", "Wingdings": "\xa7", ".VnSymbol": "\xad"}

TCVN3, TCVN3H, VNI, UNI, ARIALH = ".VnTime", ".VnTimeH", "VNI-Times", "Times New Roman", ".VnArialH"


def encoded(text: str, font: str | None) -> str:
    """A run's text as its font stores it."""
    kind = font_kind(font)
    if kind is None:
        return text
    if kind == "symbol":
        return SYMBOL_CODES.get(font, "\xb7")
    if kind == "tcvn3h":
        # Typed as it came, in either case: the H font draws every letter upper case, and
        # toned capitals have no code of their own ("Bé tµi chÝnh" shows BỘ TÀI CHÍNH).
        kind = "tcvn3"
    return encode_legacy(text, kind, errors="replace")


def expected_text(run: Run) -> str:
    text, font = run
    kind = font_kind(font)
    if kind == "symbol":
        return BULLET
    return text.upper() if kind in ("tcvn3h", "visciih") else text


def expected_lines(paragraphs: list[Paragraph]) -> list[str]:
    """Whitespace squashed; a bullet glued to the next word is read with a space after it."""
    lines = ["".join(expected_text(r) for r in p) for p in paragraphs]
    return [" ".join(re.sub(BULLET + r"(?=\w)", BULLET + " ", line).split()) for line in lines]


# -- the samples -------------------------------------------------------------------------------
def _report(body_font: str, head_font: str) -> list[Paragraph]:
    """An ND30 report typed in one legacy font family, headings in its upper-case font."""
    return [
        [("Uỷ ban nhân dân huyện Tháp Mười", head_font)],
        [("Cộng hoà xã hội chủ nghĩa Việt Nam", head_font)],
        [("Độc lập - Tự do - Hạnh phúc", body_font)],
        [("Số: 45/BC-UBND", body_font)],
        [("Tháp Mười, ngày 15 tháng 10 năm 2024", body_font)],
        [("Báo cáo", head_font)],
        [("Kết quả thực hiện công tác dân vận năm 2024", body_font)],
        [("Mục lục", head_font)],
        [("Phần thứ nhất", head_font), (" - tình hình chung", body_font)],
        [("Các đơn vị đã phổ biến, quán triệt Chỉ thị số 33/CT-TTg đến toàn thể cán bộ, công chức.", body_font)],
        [("Thực hiện tốt phong trào thi đua “Dân vận khéo” và quy chế dân chủ ở cơ sở.", body_font)],
        [("Tổng số cuộc tuyên truyền: 125 cuộc, với 4.320 lượt người tham dự.", body_font)],
        [("Bộ tài chính", head_font)],
        [("Chủ tịch", head_font)],
        [("Đoàn Thanh Bình", body_font)],
    ]


def _mixed() -> list[Paragraph]:
    """Runs of TCVN3, VNI and Unicode on the same lines (text pasted from several offices)."""
    return [
        [("Uỷ ban nhân dân ", TCVN3H), ("huyện Tháp Mười", UNI)],
        [("Các đơn vị ", TCVN3), ("và thông tin ", VNI), ("của huyện Tháp Mười", UNI)],
        [("Thực hiện ", VNI), ("tốt công tác ", TCVN3), ("dân vận và ", VNI), ("cải cách hành chính", UNI)],
        [("Mục lục", ARIALH), (" và ", UNI), ("phần thứ nhất", TCVN3H)],
        [("Báo cáo kết quả ", VNI), ("thực hiện công tác dân vận năm 2024 ", TCVN3), ("của các xã, thị trấn", VNI)],
        [("Phòng Nội vụ tổng hợp, ", UNI), ("báo cáo Uỷ ban nhân dân huyện ", TCVN3), ("trước ngày 20 tháng 10", VNI)],
        [("Lãnh đạo các cơ quan, ", TCVN3), ("đơn vị chịu trách nhiệm ", VNI), ("trực tiếp chỉ đạo", TCVN3)],
    ]


def _bullets() -> list[Paragraph]:
    """Symbol-font bullets typed before legacy and Unicode text, with and without a tab."""
    return [
        [("x", "Symbol"), ("\t", None), ("các đơn vị sự nghiệp", TCVN3)],
        [("x", "Symbol"), ("và các phòng chuyên môn", TCVN3)],
        [("x", "Wingdings"), ("\t", None), ("các xã, thị trấn", VNI)],
        [("x", ".VnSymbol"), ("ưu tiên thực hiện", TCVN3)],
        [("x", "Symbol"), (" ", None), ("công tác tiếp dân", UNI)],
    ]


SAMPLES: dict[str, list[Paragraph]] = {
    "tcvn3": _report(TCVN3, TCVN3H),
    "tcvn3-arial": _report(".VnArial", ARIALH),
    "vni": _report(VNI, VNI),
    "mixed": _mixed(),
    "bullets": _bullets(),
}
KIND_OF = {"tcvn3": "TCVN3", "tcvn3-arial": "TCVN3", "vni": "VNI", "mixed": "mixed", "bullets": "symbol"}


# -- writers -----------------------------------------------------------------------------------
def to_docx(paragraphs: list[Paragraph]) -> bytes:
    import docx

    d = docx.Document()
    for para in paragraphs:
        p = d.add_paragraph()
        for text, font in para:
            run = p.add_run(encoded(text, font))
            if font:
                run.font.name = font  # w:ascii and w:hAnsi, as Word writes a chosen font
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def to_rtf(paragraphs: list[Paragraph]) -> bytes:
    fonts = [UNI] + sorted({f for p in paragraphs for _t, f in p if f and f != UNI})
    table = "".join(
        "{\\f%d\\f%s\\fcharset%d %s;}" % (i, "tech" if font_kind(f) == "symbol" else "roman",
                                          2 if font_kind(f) == "symbol" else 0, f)
        for i, f in enumerate(fonts))
    body = []
    for para in paragraphs:
        runs = "".join("{\\f%d %s}" % (fonts.index(font or UNI), _rtf_escape(encoded(text, font)))
                       for text, font in para)
        body.append("{\\pard\\plain " + runs + "\\par}")
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl" + table + "}" + "".join(body) + "}").encode("ascii")


def _rtf_escape(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\t":
            out.append("\\tab ")
        elif ch in "\\{}":
            out.append("\\" + ch)
        elif code < 0x80:
            out.append(ch)
        else:
            try:  # a legacy font's byte, written as the byte (Word does so)
                out.append("\\'%02x" % ch.encode("cp1252")[0])
            except UnicodeEncodeError:
                out.append("\\u%d?" % (code if code < 32768 else code - 65536))
    return "".join(out)


def to_html(paragraphs: list[Paragraph]) -> bytes:
    """As Word's "Save as Web Page" writes it: a leading dot escaped in CSS ("\\.VnTime")."""
    body = []
    for para in paragraphs:
        spans = "".join(
            "<span style='font-family:\"%s\"'>%s</span>" % (re.sub(r"^\.", r"\\.", font or UNI),
                                                           html.escape(encoded(text, font)))
            for text, font in para)
        body.append("<p class=MsoNormal>" + spans + "</p>")
    page = ("<html><head><meta http-equiv=Content-Type content=\"text/html; charset=utf-8\"></head><body>"
            + "\n".join(body) + "</body></html>")
    return page.encode("utf-8")


def to_xlsx(paragraphs: list[Paragraph]) -> bytes:
    """One cell per run (a sheet has no runs within a cell), a row per paragraph."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    for r, para in enumerate(paragraphs, 1):
        for c, (text, font) in enumerate((t, f) for t, f in para if t.strip()):
            cell = ws.cell(r, c + 1, encoded(text, font))
            if font:
                cell.font = Font(name=font)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def expected_cells(paragraphs: list[Paragraph]) -> list[str]:
    return [" ".join(expected_text((t, f)).split()) for p in paragraphs for t, f in p if t.strip()]


# -- scoring -----------------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+|\u2022")


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", text))


def recall(expected: str, got: str) -> tuple[int, int]:
    """(words of `expected` found in `got`, counted with multiplicity; words of `expected`)."""
    want = words(expected)
    have: dict[str, int] = {}
    for w in words(got):
        have[w] = have.get(w, 0) + 1
    hit = 0
    for w in want:
        if have.get(w, 0):
            have[w] -= 1
            hit += 1
    return hit, len(want)
