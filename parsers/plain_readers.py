"""Readers that need no external program: text files, HTML, and the reduced-accuracy paths used
when LibreOffice is missing or fails (RTF, Word 97 binary, other OLE files, ODF).

HTML is read here rather than through LibreOffice on purpose: LibreOffice would fetch the images
and frames an HTML file links to, and parsers/ never touch the network. The others are fallbacks;
the caller adds a problem saying the text may be incomplete.

Legacy Vietnamese text: where a font name is known (RTF font table, HTML face, font-family or CSS
class) runs are decoded by parsers.text.decode_runs; where it is not (plain text, PDF text layers,
Word binary, ODF), fix_legacy() decodes the words that detect_legacy confirms.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile

from parsers.docx_reader import Blocks
from parsers.model import Limits
from parsers.text import (VIETNAMESE_LETTERS, decode_legacy, decode_runs, detect_legacy, font_kind,
                          legacy_readings, nfc)
from parsers.xmlsafety import UnsafePackage, open_package, safe_xml_parser

# cp1252 where defined, Latin-1 for its five holes: legacy 8-bit text keeps every byte.
_CP1252 = "".join(
    (bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)) for b in range(256)
)
_CP1258_MARK_BYTES = re.compile(rb"[A-Za-z\xc2\xca\xd4\xe2\xea\xf4\xc3\xe3][\xcc\xec\xd2\xde\xf2]")


def lines_of(text: str) -> list[str]:
    return [line for line in (nfc(raw).strip() for raw in text.splitlines()) if line]


_UNICODE_ONLY = frozenset(c for c in VIETNAMESE_LETTERS if ord(c) > 0xFF)


def _unicode_token(token: str) -> bool:
    """Does this token certainly hold Unicode (a letter or mark no legacy byte can give)?"""
    return any(c in _UNICODE_ONLY or "\u0300" <= c <= "\u036f" for c in token)


_FIX_CANDIDATES = ("tcvn3", "vni", "viscii")


def fix_legacy(text: str) -> str:
    """Decode legacy-encoded words in text that carries no font information (PDF text layers,
    plain text, Word binary text, ODF without styles).

    Documents often mix both: a title typed in .VnTime above a Unicode body, and a .doc can mix
    VNI and TCVN3 runs (pasted from two offices). So the main encoding is detected on the whole
    text, or failing that on the lines with no Unicode-only letter; then each word is decoded on
    its own, by the main encoding when that makes it a Vietnamese syllable it was not before,
    else by another one that does ("caùc" is VNI các, not TCVN3 "caực"); a Unicode "tháng"
    stays, TCVN3 "Céng" becomes "Cộng".
    """
    if not text or all(ord(c) < 0x80 for c in text[:200_000]):
        return text
    encoding = detect_legacy(text)
    if encoding is None:
        candidates = "\n".join(line for line in text.splitlines() if not _unicode_token(line))
        encoding = detect_legacy(candidates) if candidates.strip() else None
    if encoding is None:
        return text
    # TCVN3 and VNI are what offices mix; VISCII only when it is the document's own (its codes
    # make too many chance syllables of VNI words: "vaø" would read "vaụ").
    order = (encoding,) + tuple(e for e in _FIX_CANDIDATES if e != encoding and e != "viscii")
    readings: dict[str, tuple[str, ...]] = {}
    out = []
    for line in text.split("\n"):
        tokens = re.split(r"(\s+)", line)
        words = tokens[::2]
        hits = []
        for word in words:
            if word not in readings:
                readings[word] = legacy_readings(word, order)
            hits.append(readings[word])
        if not any(hits):
            out.append(line)
            continue
        # A line with no Unicode-only letter was typed in legacy fonts: once one of its words is
        # surely legacy, so are the ones the syllable check cannot decide ("Céng" is a possible
        # spelling, "hoµ" is not).
        whole = not any(_unicode_token(w) for w in words)
        for i, word in enumerate(words):
            if hits[i] or (whole and not _unicode_token(word) and not word.isascii()):
                tokens[2 * i] = decode_legacy(word, _pick_encoding(hits, i, order))
        out.append("".join(tokens))
    return "\n".join(out)


def _pick_encoding(hits: list[tuple[str, ...]], i: int, order: tuple[str, ...]) -> str:
    """The encoding for word i of a line: its only reading; else the one of the nearest word
    that has only one reading (a run of VNI or TCVN3 words was typed in one font), if it is
    one of word i's; else the first of its readings in the document's order."""
    own = hits[i] or order
    if len(own) == 1:
        return own[0]
    for distance in range(1, len(hits)):
        for j in (i - distance, i + distance):
            if 0 <= j < len(hits) and len(hits[j]) == 1 and hits[j][0] in own:
                return hits[j][0]
    return next(e for e in order if e in own)


# -- bytes -> text --------------------------------------------------------------------------
def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Best-effort decoding: BOM, declared charset, UTF-8, then 8-bit (cp1258 or cp1252).

    8-bit text that is not Windows-1258 is decoded byte-for-byte through cp1252, which is how
    TCVN3/VNI text looks in a Western code page, so detect_legacy can recognise it afterwards.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    if declared:
        enc = declared.strip().lower()
        if enc not in ("utf-8", "utf8"):
            try:
                return data.decode(enc)
            except (LookupError, UnicodeDecodeError):
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:
            return data.decode("utf-8", "replace")
    if len(_CP1258_MARK_BYTES.findall(data[:200_000])) >= 3:
        candidate = data.decode("cp1258", "replace")
        if detect_legacy(data.decode("latin-1")) is None:
            return nfc(candidate)
    return "".join(_CP1252[b] for b in data)


def read_txt(data: bytes, limits: Limits = Limits()) -> Blocks:
    text = decode_bytes(data[: limits.max_text_chars * 4])
    return Blocks(lines=lines_of(fix_legacy(text)))


# -- HTML -----------------------------------------------------------------------------------
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "title",
    "section", "article", "blockquote", "pre", "hr", "center", "dd", "dt", "dl", "address", "form",
    "header", "footer", "main", "nav", "aside", "caption", "tbody", "thead", "tfoot",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "object", "iframe", "svg", "head", "xml", "math"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_FONT_FAMILY = re.compile(r"""font-family\s*:\s*["']?([^;"',]+)""", re.I)


class _HtmlWalker:
    def __init__(self, max_chars: int, charset: str | None = None) -> None:
        # Legacy-font text must be seen through cp1252 (what decode_run expects); a page declared
        # in another 8-bit code page (windows-1258) is turned back into its bytes first.
        self.recode = None
        if charset and charset.lower().replace("-", "").replace("_", "") not in (
                "utf8", "cp1252", "windows1252", "iso88591", "latin1", "usascii", "ascii"):
            try:
                if len("\u00e0".encode(charset)) == 1:
                    self.recode = charset
            except (LookupError, UnicodeEncodeError):
                self.recode = None
        self.lines: list[str] = []
        self.tables: list[tuple[tuple[str, ...], ...]] = []
        self.pieces: list[list] = []
        self.max_chars = max_chars
        self.chars = 0
        self.decoded_by_font = False
        self.class_fonts: dict[str, str] = {}

    def text(self, text: str | None, font: str | None) -> None:
        if not text:
            return
        text = re.sub(r"\s+", " ", text)
        if self.pieces and self.pieces[-1][1] == font:
            self.pieces[-1][0] += text
        else:
            self.pieces.append([text, font])

    def flush(self, into: list[str]) -> None:
        if not self.pieces:
            return
        runs = []
        for text, font in self.pieces:
            kind = font_kind(font) if font else None
            if kind and kind != "symbol" and self.recode:
                try:
                    text = "".join(_CP1252[b] for b in text.encode(self.recode))
                except UnicodeEncodeError:
                    pass
            runs.append((text, font if kind else None))
        raw = "".join(text for text, _font in runs)
        # decode_runs: runs of one encoding decoded together (a VNI letter split by a tag),
        # symbol-font runs (a Symbol bullet) give "•".
        joined = decode_runs(runs)
        self.decoded_by_font |= any(font for _text, font in runs) and joined != nfc(raw)
        self.pieces = []
        for line in lines_of(joined):
            self.chars += len(line) + 1
            if self.chars <= self.max_chars:
                into.append(line)

    def walk(self, el, font: str | None, into: list[str]) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS:
            return
        font = _font_of(el, self.class_fonts) or font
        if tag == "table":
            self.flush(into)
            self.table(el, font, into)
            return
        block = tag in _BLOCK_TAGS
        if block:
            self.flush(into)
        self.text(el.text, font)
        for child in el:
            self.walk(child, font, into)
            if isinstance(child.tag, str) and child.tag.lower() in _BLOCK_TAGS:
                self.flush(into)
            self.text(child.tail, font)
        if block:
            self.flush(into)

    def table(self, table, font: str | None, into: list[str]) -> None:
        rows: list[tuple[str, ...]] = []
        for tr in table.iter("tr"):
            if _nearest_table(tr) is not table:
                continue
            cells: list[str] = []
            for td in tr:
                if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                    continue
                cell_lines: list[str] = []
                cell_font = _font_of(td, self.class_fonts) or font
                self.text(td.text, cell_font)
                for child in td:
                    self.walk(child, cell_font, cell_lines)
                    if isinstance(child.tag, str) and child.tag.lower() in _BLOCK_TAGS:
                        self.flush(cell_lines)
                    self.text(child.tail, cell_font)
                self.flush(cell_lines)
                into.extend(cell_lines)
                cells.append("\n".join(cell_lines))
                try:
                    span = max(1, min(int(td.get("colspan", "1")), 64))
                except ValueError:
                    span = 1
                cells.extend([""] * (span - 1))
            if any(cells):
                rows.append(tuple(cells))
        if rows:
            self.tables.append(tuple(rows))


def _nearest_table(el):
    cur = el.getparent()
    while cur is not None and cur.tag != "table":
        cur = cur.getparent()
    return cur


_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CSS_CLASS = re.compile(r"\.([A-Za-z_][\w-]*)\s*$")


def css_class_fonts(css: str) -> dict[str, str]:
    """Class name -> font-family from a style sheet (Word and LibreOffice put fonts in classes:
    "p.MsoNormal {font-family:'.VnTime'}", ".T1 {font-family:'.VnTime'}")."""
    fonts: dict[str, str] = {}
    for selectors, body in _CSS_RULE.findall(css):
        m = _FONT_FAMILY.search(body)
        if not m:
            continue
        for selector in selectors.split(","):
            cls = _CSS_CLASS.search(selector.strip())
            if cls:
                fonts[cls.group(1)] = m.group(1).strip()
    return fonts


def _font_of(el, class_fonts: dict[str, str] | None = None) -> str | None:
    face = el.get("face")
    if face:
        return face.split(",")[0].strip().strip("'\"") or None
    style = el.get("style")
    if style and "font-family" in style.lower():
        m = _FONT_FAMILY.search(style)
        if m:
            return m.group(1).strip() or None
    if class_fonts:
        for cls in (el.get("class") or "").split():
            if cls in class_fonts:
                return class_fonts[cls]
    return None


def read_html(data: bytes, limits: Limits = Limits()) -> Blocks:
    import lxml.html
    from lxml import etree

    m = _CHARSET.search(data[:8192])
    charset = m.group(1).decode("ascii") if m else None
    text = decode_bytes(data, charset)
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    if not text.strip():
        return Blocks()
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        return Blocks(problems=[f"Tệp HTML bị hỏng, không đọc được ({type(exc).__name__})."])
    body = root.find("body")
    walker = _HtmlWalker(limits.max_text_chars, charset)
    for style in root.iter("style"):
        walker.class_fonts.update(css_class_fonts(style.text or ""))
    lines: list[str] = []
    walker.walk(body if body is not None else root, None, lines)
    walker.flush(lines)
    if not walker.decoded_by_font:
        lines = fix_legacy("\n".join(lines)).split("\n")
        walker.tables = [tuple(tuple(fix_legacy(c) for c in row) for row in t) for t in walker.tables]
    return Blocks(lines=lines, tables=walker.tables)


# -- RTF ------------------------------------------------------------------------------------
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
            text = "".join(_CP1252[b] for b in raw)
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


# -- Word 97-2003 binary (.doc) ---------------------------------------------------------------
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
            text = "".join(_CP1252[b] for b in wd[off: off + count])
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
        runs += ["".join(_CP1252[b] for b in m.group()) for m in _BYTE_RUN.finditer(raw)]
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


# -- ODF (OpenDocument) -------------------------------------------------------------------------
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def read_odf(data: bytes, limits: Limits = Limits()) -> Blocks:
    """Paragraphs and tables of content.xml (odt, ods, odp)."""
    from lxml import etree

    try:
        zf, _ = open_package(data, limits)
    except UnsafePackage as exc:
        return Blocks(problems=[str(exc)])
    with zf:
        try:
            root = etree.fromstring(zf.read("content.xml"), safe_xml_parser())
        except (KeyError, etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError):
            return Blocks(problems=["Tệp OpenDocument bị hỏng, không đọc được nội dung."])
    t, tb = "{%s}" % _TEXT_NS, "{%s}" % _TABLE_NS
    out = Blocks()

    def para_text(p) -> str:
        parts: list[str] = []

        def visit(node) -> None:
            tag = node.tag
            if tag == t + "s":
                try:
                    parts.append(" " * max(1, min(int(node.get(t + "c", "1")), 50)))
                except ValueError:
                    parts.append(" ")
            elif tag == t + "tab":
                parts.append("\t")
            elif tag == t + "line-break":
                parts.append("\n")
            elif tag in (t + "note", t + "tracked-changes") or not isinstance(tag, str):
                pass
            else:
                parts.append(node.text or "")
                for child in node:
                    visit(child)
                    parts.append(child.tail or "")
                return
            return

        visit(p)
        return "".join(parts)

    def walk(el, into: list[str]) -> None:
        for child in el:
            tag = child.tag
            if tag in (t + "p", t + "h"):
                into.extend(lines_of(fix_legacy(para_text(child))))
            elif tag == tb + "table":
                rows = []
                for row in child.iter(tb + "table-row"):
                    cells = []
                    for cell in row:
                        if cell.tag not in (tb + "table-cell", tb + "covered-table-cell"):
                            continue
                        cell_lines: list[str] = []
                        walk(cell, cell_lines)
                        into.extend(cell_lines)
                        value = "\n".join(cell_lines)
                        repeat = int(cell.get(tb + "number-columns-repeated", "1") or 1)
                        cells.extend([value] * max(1, min(repeat, 100)))
                    while cells and not cells[-1]:
                        cells.pop()
                    if cells:
                        rows.append(tuple(cells))
                if rows:
                    out.tables.append(tuple(rows))
            elif isinstance(tag, str):
                walk(child, into)

    walk(root, out.lines)
    return out
