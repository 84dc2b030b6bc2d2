"""RTF without LibreOffice (the fallback; the caller adds a problem saying the text may be
incomplete): runs decoded by the font table (\\fonttbl, \\f, \\fcharset)."""
from __future__ import annotations

import re

from parsers.docx_reader import Blocks
from parsers.model import Limits
from parsers.text import decode_runs, font_kind, nfc
from parsers.txt_reader import CP1252_VIEW, fix_legacy, lines_of

_RTF_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}\r\n]+)|[\r\n]+", re.S)
_RTF_SKIP = {
    b"colortbl", b"stylesheet", b"info", b"pict", b"object", b"themedata", b"datastore",
    b"latentstyles", b"listtable", b"listoverridetable", b"rsidtbl", b"generator", b"xmlnstbl",
    b"mmathPr", b"fldinst", b"header", b"footer", b"headerl", b"headerr", b"headerf", b"footerl",
    b"footerr", b"footerf", b"bkmkstart", b"bkmkend", b"filetbl", b"revtbl", b"pgdsctbl",
    b"listtext", b"pntext", b"shppict", b"nonshppict", b"xe", b"tc", b"atnid", b"atnauthor",
}
_RTF_CHARSETS = {163: "cp1258", 0: None, 1: None}


def _is_legacy_font(font: str | None) -> bool:
    return font_kind(font) is not None


def read_rtf(data: bytes, limits: Limits = Limits()) -> Blocks:
    """RTF text with control words stripped; runs decoded by their font's legacy encoding."""
    fonts: dict[int, str] = {}
    charsets: dict[int, str] = {}
    codepage = "cp1252"
    # Group state: [skip destination, font id, inside the font table, \uc count].
    stack: list[list] = []
    state: list = [False, None, False, 1]
    pieces: list[list] = []
    name_buf: list[str] = []
    table_font: int | None = None
    pending_skip = 0
    raw = bytearray()

    def emit(text: str) -> None:
        if state[0] or not text:
            return
        if state[2]:
            name_buf.append(text)
            return
        font = fonts.get(state[1]) if state[1] is not None else None
        if pieces and pieces[-1][1] == font:
            pieces[-1][0] += text
        else:
            pieces.append([text, font])

    def flush_raw() -> None:
        if not raw:
            return
        fid = state[1]
        font = fonts.get(fid) if fid is not None else None
        # Legacy fonts keep their 8-bit codes as a Western code page shows them.
        enc = "cp1252" if _is_legacy_font(font) else charsets.get(fid) or codepage
        try:
            text = bytes(raw).decode(enc, "replace")
        except LookupError:
            text = "".join(CP1252_VIEW[b] for b in raw)
        raw.clear()
        emit(text)

    def end_font_entry() -> None:
        if table_font is not None and name_buf:
            fonts[table_font] = "".join(name_buf).split(";")[0].strip()
        name_buf.clear()

    for m in _RTF_TOKEN.finditer(data[: limits.max_text_chars * 4]):
        word, arg, hexbyte, symbol, brace, text = m.groups()
        if hexbyte is not None:
            if pending_skip:
                pending_skip -= 1
            else:
                raw.append(int(hexbyte, 16))
            continue
        if text is not None:
            if pending_skip:
                cut = min(pending_skip, len(text))
                text, pending_skip = text[cut:], pending_skip - cut
            raw.extend(text)
            continue
        flush_raw()
        if brace == b"{":
            stack.append(state[:])
            pending_skip = 0
        elif brace == b"}":
            if state[2]:
                end_font_entry()
            state = stack.pop() if stack else [False, None, False, 1]
        elif word is not None:
            pending_skip = 0
            if word in _RTF_SKIP:
                state[0] = True
            elif word == b"fonttbl":
                state[2] = True
            elif word == b"ansicpg" and arg:
                codepage = f"cp{int(arg)}"
            elif word == b"f" and arg is not None:
                if state[2]:
                    end_font_entry()
                    table_font = int(arg)
                else:
                    state[1] = int(arg)
            elif word == b"fcharset" and arg is not None and state[2] and table_font is not None:
                enc = _RTF_CHARSETS.get(int(arg))
                if enc:
                    charsets[table_font] = enc
            elif word == b"uc" and arg is not None:
                state[3] = max(0, int(arg))
            elif word == b"u" and arg is not None:
                code = int(arg) + (65536 if int(arg) < 0 else 0)
                if 0 <= code < 0x110000:
                    emit(chr(code))
                pending_skip = state[3]
            elif word in (b"par", b"line", b"row", b"cell", b"sect", b"page"):
                emit("\n")
            elif word == b"tab":
                emit("\t")
            elif word in (b"emdash", b"endash"):
                emit("-")
            elif word in (b"lquote", b"rquote"):
                emit("'")
            elif word in (b"ldblquote", b"rdblquote"):
                emit('"')
        elif symbol is not None:
            if symbol == b"*":
                state[0] = True
            elif symbol in (b"\\", b"{", b"}"):
                emit(symbol.decode())
            elif symbol == b"~":
                emit("\u00a0")
            elif symbol == b"-":  # optional hyphen: U+00AD, the TCVN3 letter "ư"
                emit("\u00ad")
            elif symbol == b"_":  # non-breaking hyphen
                emit("-")
            elif symbol in (b"\n", b"\r"):
                emit("\n")
    flush_raw()
    # Decoded by each run's font from the font table; runs of one encoding together (a VNI
    # letter can be split by a formatting group), symbol-font runs as bullets.
    runs = [(text, font if font_kind(font) else None) for text, font in pieces]
    joined = decode_runs(runs)
    decoded_any = any(font for _text, font in runs) and joined != nfc("".join(text for text, _f in runs))
    if not decoded_any:
        joined = fix_legacy(joined)
    return Blocks(lines=lines_of(joined))
