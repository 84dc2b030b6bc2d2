"""HTML attachments (and Word's "Save as HTML" .doc files), read without LibreOffice on purpose:
LibreOffice would fetch the images and frames an HTML file links to, and parsers/ never touch the
network. Legacy runs are decoded by their face, font-family or CSS class font."""
from __future__ import annotations

import re

from parsers.docx_reader import Blocks
from parsers.model import Limits
from parsers.text import decode_runs, font_kind, nfc
from parsers.txt_reader import CP1252_VIEW, decode_bytes, fix_legacy, lines_of

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
                    text = "".join(CP1252_VIEW[b] for b in text.encode(self.recode))
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
