"""Word 97-2003 binary text and other OLE files without LibreOffice (the fallback; the caller adds
a problem): the .doc's piece table with each run's font (parsers.doc_fonts), else loose strings."""
from __future__ import annotations

import io
import re
import struct

from parsers.docx_reader import Blocks
from parsers.model import Limits
from parsers.text import decode_runs
from parsers.txt_reader import CP1252_VIEW, fix_legacy, lines_of


def _u16(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<H", buf, pos)[0]


def _u32(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<I", buf, pos)[0]


def doc_binary_text(ole) -> str:
    """Main-document text of a Word 97+ file from its piece table ([MS-DOC] 2.4.1)."""
    return "".join(text for text, _font in doc_binary_runs(ole, fonts=False))


def doc_binary_runs(ole, fonts: bool = True) -> list[tuple[str, str | None]]:
    """The main-document text of a Word 97+ file as runs (text, font name), fonts read from
    the file's character and paragraph properties (parsers.doc_fonts). Every font is None when
    `fonts` is False or the file's font structures cannot be read."""
    wd = ole.openstream("WordDocument").read()
    flags = _u16(wd, 0x0A)
    if flags & 0x0100:
        raise ValueError("encrypted")
    table_name = "1Table" if flags & 0x0200 else "0Table"
    table = ole.openstream(table_name).read()
    pos = 32
    csw = _u16(wd, pos)
    pos += 2 + csw * 2
    cslw = _u16(wd, pos)
    lw_start = pos + 2
    ccp_text = _u32(wd, lw_start + 12)
    pos += 2 + cslw * 4 + 2
    fclcb = pos
    fc_clx, lcb_clx = _u32(wd, pos + 33 * 8), _u32(wd, pos + 33 * 8 + 4)
    clx = table[fc_clx: fc_clx + lcb_clx]
    i = 0
    while i < len(clx) and clx[i] == 0x01:
        i += 3 + _u16(clx, i + 1)
    if i >= len(clx) or clx[i] != 0x02:
        raise ValueError("no piece table")
    lcb = _u32(clx, i + 1)
    plc = clx[i + 5: i + 5 + lcb]
    n = (lcb - 4) // 12
    cps = [_u32(plc, k * 4) for k in range(n + 1)]
    font_at = _doc_font_lookup(wd, table, fclcb) if fonts else None
    chars: list[str] = []
    char_fonts: list[str | None] = []
    for k in range(n):
        start_cp, end_cp = cps[k], min(cps[k + 1], ccp_text)
        if end_cp <= start_cp:
            break
        fc = _u32(plc, 4 * (n + 1) + 8 * k + 2)
        count = end_cp - start_cp
        if fc & 0x40000000:
            off, width = (fc & 0x3FFFFFFF) // 2, 1
            text = "".join(CP1252_VIEW[b] for b in wd[off: off + count])
        else:
            off, width = fc, 2
            text = wd[fc: fc + 2 * count].decode("utf-16-le", "replace")
        chars.append(text)
        if font_at is None:
            char_fonts.extend([None] * len(text))
        else:
            char_fonts.extend(font_at(off + width * j) for j in range(len(text)))
    return _clean_doc_runs("".join(chars), char_fonts)


def _doc_font_lookup(wd: bytes, table: bytes, fclcb: int):
    """A function from a stream offset to its character's font name (Symbol for an inserted
    symbol), or None when the file's font structures cannot be read."""
    from parsers.doc_fonts import DocFonts

    try:
        fonts = DocFonts(wd, table, fclcb)
    except (ValueError, struct.error, IndexError):
        return None

    def font_at(fc: int) -> str | None:
        name, symbol = fonts.font_at(fc)
        return "Symbol" if symbol else name

    return font_at


def _clean_doc_text(text: str) -> str:
    return "".join(t for t, _f in _clean_doc_runs(text, [None] * len(text)))


def _clean_doc_runs(text: str, fonts: list[str | None]) -> list[tuple[str, str | None]]:
    """Field codes dropped, paragraph and cell marks as newlines; runs of one font joined."""
    runs: list[list] = []
    depth_instr: list[bool] = []  # per open field: still in its instruction part
    for ch, font in zip(text, fonts):
        if ch == "\x13":
            depth_instr.append(True)
            continue
        if ch == "\x14":
            if depth_instr:
                depth_instr[-1] = False
            continue
        if ch == "\x15":
            if depth_instr:
                depth_instr.pop()
            continue
        if any(depth_instr):
            continue
        if ch in "\r\x07\x0b\x0c\n":
            ch = "\n"
        elif ch == "\x1f":  # Word's optional hyphen: U+00AD, which TCVN3 uses for "ư"
            ch = "\u00ad"
        elif ch == "\x1e":  # non-breaking hyphen
            ch = "-"
        elif not (ch == "\t" or ch >= " "):
            continue
        if runs and runs[-1][1] == font:
            runs[-1][0] += ch
        else:
            runs.append([ch, font])
    return [(t, f) for t, f in runs]


_UTF16_RUN = re.compile(rb"(?:[\x09\x20-\x7e\xa0-\xff]\x00|[\x00-\xff][\x01\x1e\x20]){4,}")
_BYTE_RUN = re.compile(rb"[\x20-\x7e\xa0-\xff]{6,}")


def ole_strings(ole, limits: Limits) -> str:
    """Printable runs (UTF-16LE and 8-bit) of every stream: the last resort for .xls/.ppt."""
    found: list[str] = []
    seen: set[str] = set()
    budget = limits.max_text_chars
    for entry in ole.listdir(streams=True, storages=False):
        name = "/".join(entry)
        if name.lower().startswith(("\x05", "\x01")):  # property sets, OLE internals
            continue
        try:
            if ole.get_size(name) > 50 * 1024 * 1024:
                continue
            raw = ole.openstream(name).read()
        except Exception:
            continue
        runs = [m.group().decode("utf-16-le", "replace") for m in _UTF16_RUN.finditer(raw)]
        runs += ["".join(CP1252_VIEW[b] for b in m.group()) for m in _BYTE_RUN.finditer(raw)]
        for run in runs:
            run = run.strip()
            letters = sum(ch.isalpha() for ch in run)
            if letters < 3 or letters < len(run) * 0.5 or run in seen:
                continue
            seen.add(run)
            found.append(run)
            budget -= len(run) + 1
            if budget <= 0:
                return "\n".join(found)
    return "\n".join(found)


def read_ole_fallback(data: bytes, kind: str, limits: Limits = Limits()) -> Blocks:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:
        return Blocks(problems=["Tệp Office đời cũ bị hỏng, không đọc được; đề nghị đơn vị gửi lại."])
    try:
        text = ""
        if kind == "doc":
            try:
                runs = doc_binary_runs(ole)
                if runs and all(font is not None for _t, font in runs if _t.strip()):
                    # Every run's font is known: decoded run by run, as a .docx is.
                    return Blocks(lines=lines_of(decode_runs(runs)))
                text = "".join(t for t, _f in runs)
            except ValueError as exc:
                if str(exc) == "encrypted":
                    return Blocks(problems=[
                        "Tệp được đặt mật khẩu, không đọc được; đề nghị đơn vị gửi lại bản không đặt mật khẩu."
                    ])
                text = ""
            except (struct.error, OSError, IndexError):
                text = ""
        if not text.strip():
            text = ole_strings(ole, limits)
    finally:
        ole.close()
    return Blocks(lines=lines_of(fix_legacy(text)))
