"""PDFs written by hand whose lines mix fonts the way real office PDFs do (tests/test_pdf.py).

When a font lacks a glyph, Word and LibreOffice draw the line in the main font, leaving the
missing letters' room empty, and then draw those letters in a fallback font at their places
("fonts-liberation 1.07 lacks ế, ộ, ợ, so LibreOffice draws them in DejaVu Serif", issue 11).
Stamps and e-signature overlays do the same. A reader that follows the content stream puts the
fallback letters at the end of the line; one that follows glyph positions reads the line right.

These files need no font on the machine: fonts are not embedded, every font has fixed widths
(/Widths) and a /ToUnicode map, which is all a text extractor uses. So a test built on them
fails on every machine if the reader regresses, whatever fonts the machine has. Built from the
PDF 1.4 object model (ISO 32000-1: 9.6 simple fonts, 9.10.3 ToUnicode CMaps).
"""
from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

from fixtures_docs import pdf_file

GLYPH_WIDTH = 500  # every glyph is half an em wide: positions are easy to compute and check
PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points


def vietnamese_block(ch: str) -> bool:
    """The letters fonts-liberation 1.07 lacked: the Vietnamese block ạ..ỹ (U+1EA0-U+1EF9)."""
    return "\u1ea0" <= ch <= "\u1ef9"


@dataclass(frozen=True)
class Cell:
    x: float  # left edge, points from the left of the page
    y: float  # baseline, points from the top of the page
    text: str
    font: str = "F1"  # the main font of this piece of text


@dataclass
class _Font:
    tag: str
    base: str
    codes: dict[str, int]

    def code(self, ch: str) -> int:
        if ch not in self.codes:
            if len(self.codes) >= 255:
                raise ValueError("more than 255 distinct characters in one font")
            self.codes[ch] = len(self.codes) + 1
        return self.codes[ch]


def _hex(font: _Font, text: str) -> bytes:
    return b"<" + "".join(f"{font.code(ch):02X}" for ch in text).encode() + b">"


def _to_unicode(font: _Font) -> bytes:
    pairs = sorted((code, ch) for ch, code in font.codes.items())
    lines = [b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
             b"1 begincodespacerange <00> <FF> endcodespacerange"]
    for start in range(0, len(pairs), 100):
        chunk = pairs[start:start + 100]
        lines.append(b"%d beginbfchar" % len(chunk))
        for code, ch in chunk:
            utf16 = ch.encode("utf-16-be").hex().upper().encode()
            lines.append(b"<%02X> <%s>" % (code, utf16))
        lines.append(b"endbfchar")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return b"\n".join(lines)


def fallback_pdf(pages: Sequence[Sequence[Cell]], *, size: float = 12,
                 fallback: Callable[[str], bool] = vietnamese_block,
                 fallback_font: str = "DejaVuSerif", legacy_font: str = "ABCDEF+.VnTime",
                 overlay_last: bool = True, invisible: bool = False) -> bytes:
    """A PDF of `pages`, each a list of cells of text. Letters for which `fallback` is true are
    drawn in a second font after the whole page (overlay_last, as a fallback or an overlay
    does), or after each cell's line (overlay_last=False, as LibreOffice does line by line).
    A cell's `font` names its main font: "F1" (Times New Roman), "F3" (`legacy_font`, by default
    .VnTime, a TCVN3 font: its text is given as the 8-bit characters a TCVN3 font shows), the
    main fonts sharing the fallback F2. invisible: text render mode 3, the text layer a scanner
    lays over its image."""
    fonts = {"F1": _Font("F1", "TimesNewRomanPSMT", {}), "F2": _Font("F2", fallback_font, {}),
             "F3": _Font("F3", legacy_font, {})}
    advance = GLYPH_WIDTH * size / 1000
    contents = []
    for cells in pages:
        ops: list[bytes] = []
        later: list[bytes] = []
        for cell in cells:
            main = fonts[cell.font]
            y = PAGE_HEIGHT - cell.y
            # The main font's pass: a TJ array whose numbers skip the fallback letters' room.
            parts: list[bytes] = []
            run = ""
            for ch in cell.text:
                if fallback(ch) and cell.font != "F3":
                    if run:
                        parts.append(_hex(main, run))
                        run = ""
                    parts.append(b"-%d" % GLYPH_WIDTH)
                else:
                    run += ch
            if run:
                parts.append(_hex(main, run))
            ops.append(b"BT %s/%s %g Tf 1 0 0 1 %.2f %.2f Tm [%s] TJ ET"
                       % (b"3 Tr " if invisible else b"", main.tag.encode(), size, cell.x, y, b" ".join(parts)))
            # The fallback font's pass: each missing letter at its own place.
            missing = []
            for index, ch in enumerate(cell.text):
                if fallback(ch) and cell.font != "F3":
                    missing.append(b"BT %s/F2 %g Tf 1 0 0 1 %.2f %.2f Tm %s Tj ET"
                                   % (b"3 Tr " if invisible else b"", size, cell.x + index * advance, y,
                                      _hex(fonts["F2"], ch)))
            (later if overlay_last else ops).extend(missing)
        contents.append(b"\n".join(ops + later))
    return _assemble(contents, [f for f in fonts.values() if f.codes])


def _assemble(contents: list[bytes], fonts: list[_Font]) -> bytes:
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    font_refs = []
    for font in fonts:
        cmap = zlib.compress(_to_unicode(font))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(cmap) + cmap + b"\nendstream")
        last = max(font.codes.values())
        widths = b" ".join([b"%d" % GLYPH_WIDTH] * last)
        objects.append(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /FirstChar 1 /LastChar %d /Widths [%s] "
            b"/ToUnicode %d 0 R >>" % (font.base.encode(), last, widths, len(objects))
        )
        font_refs.append(b"/%s %d 0 R" % (font.tag.encode(), len(objects)))
    resources = b"<< /Font << " + b" ".join(font_refs) + b" >> >>"
    kids = []
    for stream in contents:
        body = zlib.compress(stream)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources %s /Contents %d 0 R >>"
                       % (PAGE_WIDTH, PAGE_HEIGHT, resources, len(objects)))
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    return pdf_file(objects)


# -- documents --------------------------------------------------------------------------------
LEFT, RIGHT = 60, 300  # the two columns of the ND30 header


def nd30_cells(*, number: str = "37/BC-UBND", left_top: float = 60) -> list[Cell]:
    """An ND30 report's first page as positioned text: the header's two columns (issuer left,
    national title and motto right, on the same baselines), number and place-date, the type,
    the title, the body and the signing block."""
    y = left_top
    cells = [
        Cell(LEFT, y, "ỦY BAN NHÂN DÂN"), Cell(RIGHT, y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        Cell(LEFT, y + 16, "XÃ MỸ HÒA"), Cell(RIGHT, y + 16, "Độc lập - Tự do - Hạnh phúc"),
        Cell(LEFT, y + 40, f"Số: {number}"), Cell(RIGHT, y + 40, "Mỹ Hòa, ngày 15 tháng 10 năm 2024"),
        Cell(LEFT, y + 80, "BÁO CÁO"),
        Cell(LEFT, y + 96, "Kết quả thực hiện công tác dân vận năm 2024"),
        Cell(LEFT, y + 120, "Kính gửi: Ủy ban nhân dân huyện Tháp Mười"),
    ]
    body = ["I. TÌNH HÌNH TRIỂN KHAI",
            "Đơn vị đã quán triệt Chỉ thị số 33/CT-TTg đến toàn thể cán bộ, công chức.",
            "Ủy ban nhân dân xã phân công đồng chí Phó Chủ tịch phụ trách công tác dân vận.",
            "II. KẾT QUẢ THỰC HIỆN",
            "Tổ chức được 12 cuộc tuyên truyền với hơn 1.234 lượt người tham dự.",
            "Thực hiện tốt quy chế dân chủ ở cơ sở, tiếp công dân đúng quy định."]
    for k, line in enumerate(body):
        cells.append(Cell(LEFT, y + 150 + 16 * k, line))
    sign = y + 150 + 16 * len(body) + 30
    cells += [Cell(LEFT, sign, "Nơi nhận:"), Cell(RIGHT + 40, sign, "TM. ỦY BAN NHÂN DÂN"),
              Cell(LEFT, sign + 16, "- UBND huyện;"), Cell(RIGHT + 70, sign + 16, "CHỦ TỊCH"),
              Cell(LEFT, sign + 32, "- Lưu: VT."), Cell(RIGHT + 55, sign + 80, "Đoàn Thanh Bình")]
    return cells


def with_text_layer(scan: bytes, layer: bytes) -> bytes:
    """The first page of `scan` (an image) with the first page of `layer` laid over it."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    page = writer.add_page(PdfReader(io.BytesIO(scan)).pages[0])
    page.merge_page(PdfReader(io.BytesIO(layer)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
