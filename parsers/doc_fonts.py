"""The font of every character of a Word 97-2003 (.doc) file, read from its binary structures
([MS-DOC]), for the path that reads a .doc without LibreOffice.

Why: a .doc can mix TCVN3, VNI and Unicode runs, and upper-case TCVN3 fonts (.VnTimeH) look
exactly like lower-case ones in the bytes; only each run's font tells them apart. Word keeps it
in three places, looked up in this order:
- the run's character properties (CHPX in the FKP pages of PlcBteChpx): sprmCRgFtc2/0, the
  font for non-ASCII and for ASCII text (as w:hAnsi and w:ascii in .docx), and sprmCSymbol, a
  symbol character (Insert Symbol) whose text is a placeholder "(";
- the paragraph's style (the istd of its PAPX in PlcBtePapx), through the style sheet's chain;
- the style sheet's default font (Stshi.rgftcStandardChpStsh).
Font indexes name entries of the font table (SttbfFfn). Anything malformed raises ValueError
(or struct.error/IndexError), and the caller falls back to decoding without fonts.
"""
from __future__ import annotations

import bisect
import struct

# Indexes into FibRgFcLcb97 (pairs of fc, lcb).
_STSHF, _PLCF_BTE_CHPX, _PLCF_BTE_PAPX, _STTBF_FFN = 1, 12, 13, 15
_SPRM_FONTS = (0x4A51, 0x4A4F)  # sprmCRgFtc2 (hAnsi) before sprmCRgFtc0 (ASCII)
_SPRM_SYMBOL = 0x6A09
_PAGE = 512


def _u16(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<H", buf, pos)[0]


def _u32(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<I", buf, pos)[0]


def _sprms(grpprl: bytes):
    """(sprm, operand) pairs of a property list."""
    i = 0
    while i + 2 <= len(grpprl):
        sprm = _u16(grpprl, i)
        i += 2
        spra = sprm >> 13
        if spra in (0, 1):
            size = 1
        elif spra in (2, 4, 5):
            size = 2
        elif spra == 3:
            size = 4
        elif spra == 7:
            size = 3
        elif sprm == 0xD608:  # sprmTDefTable: a 2-byte count
            size = _u16(grpprl, i) + 1
        elif sprm == 0xC615 and grpprl[i] == 255:  # sprmPChgTabs, long form: give up on the rest
            return
        else:
            size = grpprl[i] + 1
        yield sprm, grpprl[i:i + size]
        i += size


def _font_sprm(grpprl: bytes) -> tuple[int | None, bool]:
    """The font index a property list sets (hAnsi first) and whether it makes a symbol."""
    found: dict[int, int] = {}
    symbol = False
    for sprm, operand in _sprms(grpprl):
        if sprm in _SPRM_FONTS and len(operand) >= 2:
            found[sprm] = _u16(operand, 0)
        elif sprm == _SPRM_SYMBOL:
            symbol = True
    return next((found[s] for s in _SPRM_FONTS if s in found), None), symbol


def _font_names(table: bytes, fc: int, lcb: int) -> list[str]:
    """SttbfFfn: each entry a 1-byte size then an FFN whose name (UTF-16) starts at byte 39."""
    data = table[fc:fc + lcb]
    count = _u16(data, 0)
    pos, names = 4, []
    for _ in range(count):
        size = data[pos]
        ffn = data[pos + 1:pos + 1 + size]
        name = ffn[39:].decode("utf-16-le", "replace").split("\x00")[0]
        names.append(name)
        pos += 1 + size
    return names


class _Styles:
    """Font index per style (istd), through istdBase, and the style sheet's default."""

    def __init__(self, table: bytes, fc: int, lcb: int) -> None:
        stsh = table[fc:fc + lcb]
        cb_stshi = _u16(stsh, 0)
        stshi = stsh[2:2 + cb_stshi]
        count, cb_base = _u16(stshi, 0), _u16(stshi, 2)
        self.default = _u16(stshi, 12) if len(stshi) >= 14 else None
        self.own: dict[int, int | None] = {}
        self.base: dict[int, int] = {}
        pos = 2 + cb_stshi
        for istd in range(count):
            if pos + 2 > len(stsh):
                break
            cb_std = _u16(stsh, pos)
            std = stsh[pos + 2:pos + 2 + cb_std]
            pos += 2 + cb_std
            if cb_std < 10:
                continue
            stk, base = _u16(std, 2) & 0xF, _u16(std, 2) >> 4
            if base != 0xFFF:
                self.base[istd] = base
            self.own[istd] = self._chpx_font(std, cb_base, stk)

    @staticmethod
    def _chpx_font(std: bytes, cb_base: int, stk: int) -> int | None:
        p = cb_base + 2 + 2 * _u16(std, cb_base) + 2  # past the name (length, chars, NUL)
        upxs = []
        while p + 2 <= len(std) and len(upxs) < 3:
            size = _u16(std, p)
            upxs.append(std[p + 2:p + 2 + size])
            p += 2 + size + (size & 1)
        # A paragraph style's second UPX holds its character properties; a character style's first.
        chpx = upxs[1] if stk == 1 and len(upxs) > 1 else upxs[0] if stk == 2 and upxs else b""
        return _font_sprm(chpx)[0] if chpx else None

    def font(self, istd: int | None) -> int | None:
        seen = set()
        while istd is not None and istd not in seen:
            seen.add(istd)
            if self.own.get(istd) is not None:
                return self.own[istd]
            istd = self.base.get(istd)
        return self.default


def _fkp_pages(table: bytes, fc: int, lcb: int) -> list[int]:
    n = (lcb - 4) // 8
    return [_u32(table, fc + 4 * (n + 1) + 4 * k) & 0x3FFFFF for k in range(n)]


class DocFonts:
    """font_at(stream offset) -> (font name or None, is a symbol) for the WordDocument stream."""

    def __init__(self, wd: bytes, table: bytes, fclcb: int) -> None:
        def pair(index: int) -> tuple[int, int]:
            return _u32(wd, fclcb + 8 * index), _u32(wd, fclcb + 8 * index + 4)

        self.names = _font_names(table, *pair(_STTBF_FFN))
        stshf = pair(_STSHF)
        self.styles = _Styles(table, *stshf) if stshf[1] else None
        self.chp_starts, self.chp = self._chpx(wd, table, *pair(_PLCF_BTE_CHPX))
        self.pap_starts, self.pap = self._papx(wd, table, *pair(_PLCF_BTE_PAPX))
        if not self.names or not self.chp_starts:
            raise ValueError("no font information")

    @staticmethod
    def _chpx(wd: bytes, table: bytes, fc: int, lcb: int):
        starts: list[int] = []
        props: list[tuple[int | None, bool]] = []
        for pn in _fkp_pages(table, fc, lcb):
            page = wd[pn * _PAGE:(pn + 1) * _PAGE]
            crun = page[511]
            for k in range(crun):
                b = page[4 * (crun + 1) + k]
                grpprl = page[2 * b + 1:2 * b + 1 + page[2 * b]] if b else b""
                starts.append(_u32(page, 4 * k))
                props.append(_font_sprm(grpprl))
        return starts, props

    @staticmethod
    def _papx(wd: bytes, table: bytes, fc: int, lcb: int):
        starts: list[int] = []
        istds: list[int | None] = []
        for pn in _fkp_pages(table, fc, lcb):
            page = wd[pn * _PAGE:(pn + 1) * _PAGE]
            cpara = page[511]
            for k in range(cpara):
                offset = page[4 * (cpara + 1) + 13 * k]
                istd = None
                if offset:
                    x = 2 * offset
                    data = page[x + 2:] if page[x] == 0 else page[x + 1:]
                    istd = _u16(data, 0) if len(data) >= 2 else None
                starts.append(_u32(page, 4 * k))
                istds.append(istd)
        return starts, istds

    def font_at(self, fc: int) -> tuple[str | None, bool]:
        i = bisect.bisect_right(self.chp_starts, fc) - 1
        ftc, symbol = self.chp[i] if i >= 0 else (None, False)
        if ftc is None and self.styles is not None:
            j = bisect.bisect_right(self.pap_starts, fc) - 1
            ftc = self.styles.font(self.pap[j] if j >= 0 else 0)
        name = self.names[ftc] if ftc is not None and 0 <= ftc < len(self.names) else None
        return name, symbol
