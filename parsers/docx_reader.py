"""Text and tables of a .docx/.docm (and .pptx text) read straight from the package XML.

Why not python-docx's object walk: a benchmark holds us to a few times the cost of unzipping and
parsing word/document.xml, and python-docx builds a proxy object per paragraph, run and cell
(and repeats merged cells in `row.cells`); walking it took 13x that floor on a 3,000-paragraph
report. So we parse the parts python-docx would, with lxml and a parser that never resolves
entities, in one of two ways:
- no legacy font named in the part (the common case): one XSLT pass (libxslt, in C) writes the
  text with markers for table structure, read back by read_marked(): about 2-3x the floor;
- a legacy font somewhere: a Python walk that resolves each run's font (_Walker), since the text
  must be decoded run by run; the decoding itself then dominates the cost.
python-docx remains the library that writes our test files and drafts.

What comes out, per block in reading order:
- a paragraph's text, with line breaks (w:br, w:cr) splitting it into several lines;
- a table flattened row by row, cell by cell, each cell's paragraphs as lines; a merged cell is
  read once (its continuation cells are padded with "" in the table grid so columns still align);
- text boxes (w:txbxContent) after the paragraph that anchors them; mc:Fallback copies skipped;
- header and footer parts first and last (bare page numbers dropped).

Legacy Vietnamese fonts: each run's font comes from w:rFonts (hAnsi, else ascii: the bytes that
carry TCVN3/VNI letters are above 0x7F, which Word draws with the hAnsi font; a theme reference is
looked up in the theme part), else the run's character style, the paragraph's style chain, the
default paragraph style, the document defaults. Symbol-font runs and w:sym give "•".
Runs are decoded by parsers.text.decode_runs, which joins adjacent runs of one legacy encoding
(Word splits runs anywhere, even inside a VNI letter).
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from parsers.model import Limits
from parsers.text import decode_runs, font_kind, nfc
from parsers.xmlsafety import PackageInfo, UnsafePackage, open_package, read_checked, safe_xml_parser

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"

MACRO_PROBLEM = (
    "Tệp có chứa macro (mã lệnh tự động); hệ thống chỉ đọc nội dung, không chạy macro."
    " Đề nghị đơn vị gửi bản .docx/.xlsx thông thường."
)

_PAGE_NUMBER = re.compile(r"^(?:trang\s*)?[-–\s]*\d{1,4}[-–\s]*(?:/\s*\d{1,4})?$", re.I)


@dataclass
class Blocks:
    """What a reader collects: lines in reading order, tables, problems."""

    lines: list[str] = field(default_factory=list)
    tables: list[tuple[tuple[str, ...], ...]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # The reader guarantees that lines and cells are NFC, stripped and free of soft hyphens, so
    # read_document need not normalise them again (the .docx reader does; others leave False).
    clean: bool = False


class _Names:
    """Clark-notation tag names for one WordprocessingML namespace (transitional or strict)."""

    def __init__(self, ns: str) -> None:
        w = "{%s}" % ns
        self.w = w
        for local in ("body", "p", "r", "t", "tab", "br", "cr", "tbl", "tr", "tc", "sdt", "sdtContent",
                      "hyperlink", "ins", "del", "moveFrom", "moveTo", "smartTag", "customXml",
                      "fldSimple", "txbxContent", "rPr", "pPr", "rFonts", "rStyle", "pStyle",
                      "noBreakHyphen", "softHyphen", "tcPr", "gridSpan", "vMerge", "style", "styleId",
                      "basedOn", "docDefaults", "rPrDefault", "type", "default", "val",
                      "ascii", "hAnsi", "asciiTheme", "hAnsiTheme", "drawing", "pict", "object",
                      "dir", "bdo", "trPr", "sym"):
            setattr(self, local, w + local)


_NAMES = {ns: _Names(ns) for ns in (W_NS, W_STRICT_NS)}  # built once: ~50 names each
_MC_ALT = "{%s}AlternateContent" % MC_NS
_MC_CHOICE = "{%s}Choice" % MC_NS
_MC_FALLBACK = "{%s}Fallback" % MC_NS


_MISSING = object()
INHERIT = object()  # a run without a font of its own: its paragraph's font applies


class _Styles:
    """Font names by style id, resolved through basedOn; run fonts decide legacy decoding."""

    def __init__(self, root: etree._Element | None, n: _Names, theme: dict[str, str] | None = None) -> None:
        self.n = n
        self.theme = theme or {}
        self.fonts: dict[str, str | None] = {}
        self.based_on: dict[str, str] = {}
        self.default_para: str | None = None
        self.doc_default: str | None = None
        self._cache: dict[str, str | None] = {}
        self._run_keys: dict[str, object] = {}
        if root is None:
            return
        defaults = root.find(f"{n.docDefaults}/{n.rPrDefault}/{n.rPr}")
        if defaults is not None:
            self.doc_default = self.font_of_rpr(defaults)
        for style in root.iterchildren(n.style):
            sid = style.get(n.styleId)
            if not sid:
                continue
            rpr = style.find(n.rPr)
            self.fonts[sid] = self.font_of_rpr(rpr) if rpr is not None else None
            based = style.find(n.basedOn)
            if based is not None and based.get(n.val):
                self.based_on[sid] = based.get(n.val)
            if style.get(n.type) == "paragraph" and style.get(n.default) in ("1", "true", "on"):
                self.default_para = sid

    def font_of_rpr(self, rpr: etree._Element) -> str | None:
        fonts = rpr.find(self.n.rFonts)
        if fonts is None:
            return None
        # A theme font wins over an explicit name in Word. An office template can set the theme's
        # fonts to .VnTime; "" (a Unicode font) when the theme names none.
        theme = fonts.get(self.n.hAnsiTheme) or fonts.get(self.n.asciiTheme)
        if theme:
            return self.theme.get("major" if theme.startswith("major") else "minor", "")
        return fonts.get(self.n.hAnsi) or fonts.get(self.n.ascii)

    def style_font(self, sid: str | None) -> str | None:
        if not sid:
            return None
        if sid in self._cache:
            return self._cache[sid]
        seen, cur, font = set(), sid, None
        while cur and cur not in seen:
            seen.add(cur)
            font = self.fonts.get(cur)
            if font is not None:
                break
            cur = self.based_on.get(cur)
        self._cache[sid] = font
        return font

    def font_for_style_id(self, sid: str | None) -> str | None:
        """paragraph_font's answer for a paragraph whose w:pStyle names `sid` ("" or None: none)."""
        font = self.style_font(sid or self.default_para)
        if font is None and sid:
            font = self.style_font(self.default_para)
        return font if font is not None else self.doc_default

    def font_for_run_key(self, key: str):
        """_Walker._run_font's answer for a run described by the legacy transform (see
        _P_LEGACY): the run's own font, or INHERIT when its paragraph's font applies."""
        font = self._run_keys.get(key, _MISSING)
        if font is _MISSING:
            attrs = {item[0]: item[1:] for item in key.split("\ue015") if item}
            theme = attrs.get("H") or attrs.get("A")
            if theme:
                font = self.theme.get("major" if theme.startswith("major") else "minor", "")
            else:  # as font_of_rpr: hAnsi, else ascii (None when the run names neither)
                font = attrs.get("h") or attrs.get("a")
            if font is None:
                font = self.style_font(attrs.get("s"))
            self._run_keys[key] = font = INHERIT if font is None else font
        return font

    def paragraph_font(self, p: etree._Element) -> str | None:
        n = self.n
        ppr = p.find(n.pPr)
        sid = None
        if ppr is not None:
            ps = ppr.find(n.pStyle)
            if ps is not None:
                sid = ps.get(n.val)
        font = self.style_font(sid or self.default_para)
        if font is None and sid:
            font = self.style_font(self.default_para)
        return font if font is not None else self.doc_default


class _Walker:
    """One pass over a body-like element (w:body, w:hdr, w:txbxContent, a table cell)."""

    def __init__(self, n: _Names, styles: _Styles | None, max_chars: int) -> None:
        self.n = n
        self.styles = styles
        self.out = Blocks()
        self.chars = 0
        self.max_chars = max_chars
        self.truncated = False
        self.legacy = False  # does the part being read name a legacy font anywhere?
        self.boxes: dict[etree._Element, list[etree._Element]] = {}
        self._text_tags = (n.t, n.tab, n.br, n.cr, n.noBreakHyphen, n.softHyphen, n.sym)

    def prepare(self, root: etree._Element, legacy: bool) -> None:
        """Drop removed text and detach text boxes before the walk.

        mc:Fallback repeats its mc:Choice (a VML copy of a shape), w:moveFrom is text moved away
        (tracked changes): neither is read. Each w:txbxContent is detached and read after the
        paragraph that anchors it, so paragraph text can be gathered with one C-level iter().
        """
        n = self.n
        self.legacy = legacy
        for el in list(root.iter(_MC_FALLBACK, n.moveFrom)):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
        # Give tabs, breaks and hyphens their text so itertext() reads a paragraph in one C loop
        # (only inside runs: w:pPr/w:tabs/w:tab are tab stops, not text).
        # w:softHyphen is U+00AD, which in a TCVN3 run is the letter "ư" (LibreOffice writes it so
        # when it converts a .doc); decode_runs turns it into "ư" there, _add drops the rest.
        # w:sym is a symbol-font character (a bullet, a box): "•", never a letter.
        marks = {n.tab: "\t", n.br: "\n", n.cr: "\n", n.noBreakHyphen: "-", n.softHyphen: "\u00ad",
                 n.sym: "\u2022"}
        for el in root.iter(*marks):
            if el.getparent().tag == n.r:
                el.text = marks[el.tag]
        for box in list(root.iter(n.txbxContent)):
            anchor = box.getparent()
            while anchor is not None and anchor.tag != n.p:
                anchor = anchor.getparent()
            parent = box.getparent()
            if anchor is None or parent is None:
                continue
            parent.remove(box)
            self.boxes.setdefault(anchor, []).append(box)

    # -- blocks ---------------------------------------------------------------------------
    def blocks(self, parent: etree._Element, lines: list[str]) -> None:
        n = self.n
        for child in parent:
            if self.truncated:
                return
            tag = child.tag
            if tag == n.p:
                self.paragraph(child, lines)
            elif tag == n.tbl:
                self.table(child, lines)
            elif tag in (n.sdt, n.customXml, n.ins, n.moveTo):
                inner = child.find(n.sdtContent) if tag == n.sdt else child
                if inner is not None:
                    self.blocks(inner, lines)
            elif tag == _MC_ALT:
                choice = child.find(_MC_CHOICE)
                if choice is not None:
                    self.blocks(choice, lines)

    def _add(self, lines: list[str], text: str) -> None:
        if "\u00ad" in text:  # invisible; removing it may leave letters to compose again
            text = nfc(text.replace("\u00ad", ""))
        for piece in text.split("\n") if "\n" in text else (text,):
            piece = piece.strip()
            if piece:
                if self.chars + len(piece) > self.max_chars:
                    self.truncated = True
                    return
                self.chars += len(piece) + 1
                lines.append(piece)

    def paragraph(self, p: etree._Element, lines: list[str]) -> None:
        if self.legacy:
            text = self._legacy_paragraph(p)
        else:
            # No legacy font in this part: fonts do not matter, only the text in order.
            text = nfc("".join(p.itertext(*self._text_tags, with_tail=False)))
        if text:
            self._add(lines, text)
        boxes = self.boxes.get(p)
        if boxes:
            for box in boxes:
                self.blocks(box, lines)

    def _legacy_paragraph(self, p: etree._Element) -> str:
        """Runs with their fonts, decoded run by run (adjacent runs of one encoding together)."""
        n = self.n
        pieces: list[list] = []  # [text, font], consecutive same-font runs merged
        para_font = self.styles.paragraph_font(p)
        for run in p.iter(n.r):
            text = self._run_text(run)
            if not text:
                continue
            font = self._run_font(run, para_font)
            if pieces and pieces[-1][1] == font:
                pieces[-1][0] += text
            else:
                pieces.append([text, font])
        return decode_runs(pieces) if pieces else ""

    def _run_text(self, run: etree._Element) -> str:
        return "".join(run.itertext(*self._text_tags, with_tail=False))

    def _run_font(self, run: etree._Element, para_font: str | None) -> str | None:
        rpr = run.find(self.n.rPr)
        if rpr is not None:
            font = self.styles.font_of_rpr(rpr)
            if font is not None:
                return font
            rs = rpr.find(self.n.rStyle)
            if rs is not None:
                font = self.styles.style_font(rs.get(self.n.val))
                if font is not None:
                    return font
        return para_font

    # -- tables ---------------------------------------------------------------------------
    def table(self, tbl: etree._Element, lines: list[str]) -> None:
        n = self.n
        rows: list[tuple[str, ...]] = []
        for tr in self._rows(tbl):
            cells: list[str] = []
            for tc in self._cells(tr):
                span, continued = 1, False
                tcpr = tc.find(n.tcPr)
                if tcpr is not None:
                    # As the transforms read w:tcPr: the first w:gridSpan that has a value, plain
                    # digits only; continued when any w:vMerge has no value or "continue".
                    value = next((v for v in (g.get(n.val) for g in tcpr.iterchildren(n.gridSpan)) if v is not None), "")
                    if value.isdigit() and len(value) <= 8:
                        span = max(1, min(int(value), 64))
                    continued = any(vm.get(n.val, "continue") == "continue" for vm in tcpr.iterchildren(n.vMerge))
                cell_lines: list[str] = []
                if not continued:
                    self.blocks(tc, cell_lines)
                lines.extend(cell_lines)
                cells.append("\n".join(cell_lines))
                cells.extend([""] * (span - 1))
            rows.append(tuple(cells))
        if rows:
            self.out.tables.append(tuple(rows))

    def _rows(self, tbl: etree._Element):
        n = self.n
        for child in tbl:
            if child.tag == n.tr:
                yield child
            elif child.tag in (n.sdt, n.customXml, n.ins):
                inner = child.find(n.sdtContent) if child.tag == n.sdt else child
                if inner is not None:
                    yield from self._rows(inner)

    def _cells(self, tr: etree._Element):
        n = self.n
        for child in tr:
            if child.tag == n.tc:
                yield child
            elif child.tag in (n.sdt, n.customXml):
                inner = child.find(n.sdtContent) if child.tag == n.sdt else child
                if inner is not None:
                    yield from self._cells(inner)


class _PartMemo(dict):
    """What was worked out from a package part, by the part's CRC-32 and size in the zip
    directory (and whatever else the key needs): units' files repeat the same templates, so the
    same parts come back in document after document. A forged CRC can only make a file borrow
    what an identical-looking part of another file gave: targets are still checked against the
    package's own parts, and a part that is never parsed cannot harm. Emptied when full."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key, value):
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value

    cache_clear = dict.clear  # what bench/parse.py --cold calls on every memo


# Parsed relationship parts by (name, CRC, size): Word writes the same _rels/.rels in nearly
# every file, and parsing a 1 KB part costs lxml a parser set-up each time (~7% of a report's
# reading, py-spy).
_RELS_MEMO = _PartMemo(256)  # -> ((type suffix, target, id), ...)


def _rels(zf: zipfile.ZipFile, part: str, parser, kinds: frozenset[str]) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type suffix, target part name) for one part, for the relationship
    types in `kinds` (a document relates to a dozen parts; the reader needs three kinds)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    try:
        info = zf.getinfo(rels_name)
    except KeyError:
        return {}
    key = (rels_name, info.CRC, info.file_size)
    rels = _RELS_MEMO.get(key)
    if rels is None:
        try:
            root = etree.fromstring(read_checked(zf, rels_name), parser)
        except etree.XMLSyntaxError:
            return {}
        rels = _RELS_MEMO.remember(key, tuple(
            ((rel.get("Type") or "").rsplit("/", 1)[-1], rel.get("Target") or "", rel.get("Id", ""))
            for rel in root if rel.get("TargetMode") != "External"))
    out = {}
    for kind, target, rid in rels:
        if kind in kinds and target:
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[rid] = (kind, full)
    return out


def _main_part(zf: zipfile.ZipFile, parser, names: set[str]) -> str:
    """The officeDocument part named by the package relationships (word/document.xml usually)."""
    for _rid, (_kind, target) in _rels(zf, "", parser, frozenset({"officeDocument"})).items():
        if target in names:
            return target
    return "word/document.xml"


_STYLE_VERDICTS = _PartMemo(256)  # (CRC, size) of a styles part -> does it name a legacy font?
_STYLES_MEMO = _PartMemo(64)  # ((CRC, size), namespace) -> its _Styles
# The attributes of each w:rFonts element (any namespace prefix). The pattern starts with a
# literal, which sre finds with a fast substring search; an attribute pattern starting with
# ":" tried a match at every namespaced tag of the part.
_RFONTS = re.compile(rb"rFonts\s([^>]{0,2000})")
_FONT_ATTR = re.compile(rb'(?:^|[\s:])(?:ascii|hAnsi)\s*=\s*"([^"]{1,100})"')


def _names_legacy_font(xml: bytes) -> bool:
    """Does any w:rFonts in this part name a legacy (TCVN3/VNI/VISCII) or a symbol font? A scan
    of the bytes is far cheaper than resolving every run's font, and most documents say no.
    (A Symbol or Wingdings run must be read by its font too: its bullet 0xB7 is no letter.)"""
    names = {name for attrs in set(_RFONTS.findall(xml)) for name in _FONT_ATTR.findall(attrs)}
    return any(font_kind(name.decode("utf-8", "replace")) for name in names)


_THEME_MEMO = _PartMemo(64)  # (CRC, size) of a theme part -> {"major": font, "minor": font}
_THEME_LATIN = re.compile(rb"<(?:\w+:)?(major|minor)Font>\s*<(?:\w+:)?latin\s[^>]*?typeface=\"([^\"]{0,100})\"")


def _theme_fonts(zf: zipfile.ZipFile, part: str | None) -> dict[str, str]:
    """The theme's Latin heading ("major") and body ("minor") fonts, for w:asciiTheme runs."""
    if not part:
        return {}
    info = zf.getinfo(part)
    key = (info.CRC, info.file_size)
    fonts = _THEME_MEMO.get(key)
    if fonts is None:
        try:
            xml = read_checked(zf, part)
        except (zipfile.BadZipFile, OSError, EOFError):
            xml = b""
        fonts = _THEME_MEMO.remember(key, {kind.decode(): name.decode("utf-8", "replace")
                                           for kind, name in _THEME_LATIN.findall(xml)})
    return fonts


# The common case (no legacy font in the part) is read by one XSLT pass in C (libxslt): it
# writes the part's text with private-use markers for table structure, which read_marked() turns
# into lines and tables. Measured on a 3,000-paragraph report: 1.5x the cost of parsing
# document.xml alone, against 4x for the Python walk (kept for legacy fonts and Strict OOXML).
_TBL_START, _TBL_END, _ROW, _CELL, _CELL_END = "\ue001", "\ue002", "\ue003", "\ue004", "\ue005"
_XSLT_SOURCE = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
 xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<xsl:output method="text" encoding="utf-8"/>
<xsl:template match="/"><xsl:apply-templates select="*/w:body|w:hdr|w:ftr"/></xsl:template>
<xsl:template match="w:p">
  <xsl:apply-templates/><xsl:text>&#10;</xsl:text>
  <xsl:variable name="depth" select="count(ancestor::w:txbxContent)"/>
  <xsl:apply-templates mode="box"
    select=".//w:txbxContent[not(ancestor::mc:Fallback)][count(ancestor::w:txbxContent) = $depth]"/>
</xsl:template>
<xsl:template match="w:txbxContent" mode="box"><xsl:apply-templates/></xsl:template>
<xsl:template match="w:t"><xsl:value-of select="."/></xsl:template>
<xsl:template match="w:r/w:tab"><xsl:text>&#9;</xsl:text></xsl:template>
<xsl:template match="w:r/w:br|w:r/w:cr"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template match="w:r/w:noBreakHyphen"><xsl:text>-</xsl:text></xsl:template>
<xsl:template match="w:r/w:softHyphen"><xsl:text>&#xAD;</xsl:text></xsl:template>
<xsl:template match="w:r/w:sym"><xsl:text>&#x2022;</xsl:text></xsl:template>
<xsl:template match="w:tbl"><xsl:text>&#xE001;</xsl:text><xsl:apply-templates/><xsl:text>&#xE002;</xsl:text></xsl:template>
<xsl:template match="w:tr"><xsl:text>&#xE003;</xsl:text><xsl:apply-templates/></xsl:template>
<xsl:template match="w:tc">
  <xsl:text>&#xE004;</xsl:text>
  <xsl:value-of select="w:tcPr/w:gridSpan/@w:val"/>
  <xsl:text>&#xE005;</xsl:text>
  <xsl:if test="not(w:tcPr/w:vMerge[not(@w:val) or @w:val='continue'])"><xsl:apply-templates/></xsl:if>
</xsl:template>
<xsl:template match="w:pPr|w:rPr|w:tcPr|w:trPr|w:tblPr|w:tblGrid|w:tblPrEx|w:sectPr|w:sdtPr|w:sdtEndPr"/>
<xsl:template match="w:instrText|w:delText|w:del|w:moveFrom|mc:Fallback|w:txbxContent"/>
<xsl:template match="text()"/>
</xsl:stylesheet>"""
# Without text boxes the per-paragraph search for them is dropped (30% of the transform).
_XSLT_LEAN_SOURCE = _XSLT_SOURCE.replace(
    _XSLT_SOURCE[_XSLT_SOURCE.index('  <xsl:variable name="depth"'):_XSLT_SOURCE.index("</xsl:template>", _XSLT_SOURCE.index('  <xsl:variable name="depth"'))],
    "",
)
# (A span of any length is taken with its cell; only 1-8 plain digits count as a span.)
_MARKED = re.compile("\ue001|\ue002|\ue003|\ue004([^\ue005]*)\ue005|[^\ue001-\ue005]+")

# The same transform writing what read_lines_marked() can take apart with a few C-level splits:
# a cell is its marker alone, and the cells a grid span covers follow it as empty cells (up to
# 63, as read_marked pads); a span that is not plain digits (at most 8) writes U+E005, which
# sends the part back to the token format above, so both read every file alike.
# libxslt writes each cell's marker and, from its w:tcPr, a note per w:gridSpan (U+E006, the
# value, U+E008) and per w:vMerge (U+E007, U+E009 when it has no w:val, the value, U+E008);
# place_spans() then drops a continued cell's text and pads the span after the cell, in Python,
# for the few cells that have such notes. Deciding it in the transform (a test and a variable
# per cell) took 45% of libxslt's time on the real-looking reports (0.69 -> 0.49 ms).
_TC_TOKENS = _XSLT_SOURCE[_XSLT_SOURCE.index('<xsl:template match="w:tc">'):]
_TC_TOKENS = _TC_TOKENS[:_TC_TOKENS.index("</xsl:template>") + len("</xsl:template>")]
_TC_LINES = """<xsl:template match="w:tc"><xsl:text>&#xE004;</xsl:text><xsl:apply-templates/></xsl:template>
<xsl:template match="w:tcPr"><xsl:apply-templates mode="cell" select="*"/></xsl:template>
<xsl:template mode="cell" match="*"/>
<xsl:template mode="cell" match="w:gridSpan">
  <xsl:if test="@w:val"><xsl:text>&#xE006;</xsl:text><xsl:value-of select="@w:val"/><xsl:text>&#xE008;</xsl:text></xsl:if>
</xsl:template>
<xsl:template mode="cell" match="w:vMerge">
  <xsl:text>&#xE007;</xsl:text><xsl:if test="not(@w:val)"><xsl:text>&#xE009;</xsl:text></xsl:if>
  <xsl:value-of select="@w:val"/><xsl:text>&#xE008;</xsl:text>
</xsl:template>"""
_IGNORED = '<xsl:template match="w:pPr|w:rPr|w:tcPr|'


def _lines_source(source: str) -> str:
    assert _TC_TOKENS in source and _IGNORED in source
    return source.replace(_TC_TOKENS, _TC_LINES).replace(_IGNORED, _IGNORED.replace("w:tcPr|", ""))


# A cell with notes from its w:tcPr, and its text up to the next cell, row or table end.
_NOTED_CELL = re.compile("\ue004((?:[\ue006\ue007][^\ue008]*\ue008)+)([^\ue002-\ue004]*)")
_PADS = "\ue004" * 63


def _noted_cell(m: re.Match) -> str:
    """One noted cell as _TC_TOKENS reads it: the first w:gridSpan value (a w:val, even empty);
    continued when any w:vMerge has no w:val or w:val="continue". U+E005 where only the token
    format reads it alike (a span that is not 1-8 plain digits)."""
    span, continued = None, False
    for note in m.group(1).split("\ue008")[:-1]:
        if note[0] == "\ue006":
            if span is None:
                span = note[1:]
        elif note[1:] in ("\ue009", "continue"):
            continued = True
    # A table inside the cell needs no care here: the text stops before its end marker, which
    # is left for read_lines_marked to find nested (and hand the part to the token format).
    out = "\ue004" if continued else "\ue004" + m.group(2)
    if span:
        if len(span) < 9 and span.isascii() and span.isdigit():
            out += _PADS[:max(0, int(span) - 1)]
        else:
            out += "\ue005"
    return out


def place_spans(marked: str) -> str:
    """The lines format with each noted cell resolved (see _TC_LINES); a note left over (not
    right after its cell's marker) gives U+E005, so the part is read in the token format."""
    if "\ue006" not in marked and "\ue007" not in marked:
        return marked
    marked = _NOTED_CELL.sub(_noted_cell, marked)
    if "\ue006" in marked or "\ue007" in marked:
        return marked + "\ue005"
    return marked


_xslt: dict[tuple[bool, bool], etree.XSLT] = {}


def _fast_transform(boxes: bool = True, lines: bool = False) -> etree.XSLT:
    """The compiled transform: with or without the text-box search, in the token format
    (read_marked) or the lines format (read_lines_marked)."""
    key = (boxes, lines)
    if key not in _xslt:
        source = _XSLT_SOURCE if boxes else _XSLT_LEAN_SOURCE
        _xslt[key] = etree.XSLT(etree.fromstring((_lines_source(source) if lines else source).encode()))
    return _xslt[key]


# The markers' own code points in a part's XML (UTF-8, or a character reference): such a part
# is read in the token format, where a marker in the text has always meant what it means there.
_OWN_MARKERS = re.compile(rb"\xee\x80[\x81-\x89]|&#(?:[xX]0*[eE]00[1-9]|0*5734[5-9]|0*5735[0-3]);")


def _has_char_reference(xml: bytes) -> bool:
    # A one-byte search is a memchr, 50x faster than a two-byte one (0.06 ms on a 76 KB part):
    # most parts hold no "&" at all.
    return b"&" in xml and b"&#" in xml


def _holds_markers(xml: bytes) -> bool:
    # 0xEE first, by memchr, for the same reason (most parts hold no U+E000-U+EFFF).
    return (((b"\xee" in xml and b"\xee\x80" in xml) or _has_char_reference(xml))
            and _OWN_MARKERS.search(xml) is not None)


def read_lines_marked(walker: "_Walker", marked: str, lines: list[str]) -> bool:
    """read_marked's lines and tables from the lines format (see _TC_LINES), False (and nothing
    done) when only read_marked's token loop reads it alike: a span that is not plain digits,
    a nested table, more text than the character budget.

    A report has a few thousand lines and cells, and a Python step for each cost as much as
    parsing the part: here the lines come from one split, and each table from one per row."""
    marked = place_spans(marked)
    # Soft hyphens are invisible: out before NFC, so that what they separated may compose.
    text = nfc(marked.replace("\u00ad", "") if "\u00ad" in marked else marked)
    if "\ue005" in text:
        return False
    tabled = "\ue001" in text or "\ue002" in text
    flat = text
    if tabled or "\ue003" in text or "\ue004" in text:  # every marker ends a line
        flat = text.replace("\ue001", "\n").replace("\ue002", "\n").replace("\ue003", "\n").replace("\ue004", "\n")
    pieces = list(filter(None, map(str.strip, flat.split("\n"))))
    used = sum(map(len, pieces)) + len(pieces)
    if used > walker.max_chars - walker.chars + 1:
        return False  # the token loop stops at the piece that crosses the budget
    tables = []
    if tabled:
        parts = text.split("\ue001")
        if "\ue002" in parts[0]:
            return False
        for part in parts[1:]:
            if part.count("\ue002") != 1:  # a nested table (or one left open)
                return False
            table = _marked_table(part[:part.index("\ue002")])
            if table:
                tables.append(table)
    lines.extend(pieces)
    walker.chars += used
    walker.out.tables.extend(tables)
    return True


def _marked_table(seg: str) -> tuple[tuple[str, ...], ...]:
    """A table's rows from its text in the lines format (no table inside): each cell the
    stripped non-empty lines of its text joined by newlines, as read_marked makes them."""
    # Markers as pieces of their own, then the pieces stripped and joined by single newlines;
    # the newlines next to a marker then go, leaving each cell's text as read_marked joins it.
    canon = "\n".join(filter(None, map(str.strip, seg.replace("\ue003", "\n\ue003\n").replace("\ue004", "\n\ue004\n").split("\n"))))
    canon = canon.replace("\n\ue003", "\ue003").replace("\ue003\n", "\ue003").replace("\n\ue004", "\ue004").replace("\ue004\n", "\ue004")
    parts = canon.split("\ue003")
    # Text before the first row marker makes a row only if a cell starts there; text in a row
    # before its first cell is a line but no cell.
    rows = [tuple(part.split("\ue004")[1:]) for part in parts[1:]]
    if "\ue004" in parts[0]:
        rows.insert(0, tuple(parts[0].split("\ue004")[1:]))
    return tuple(rows)


# Parts with a legacy font: each paragraph's runs with what decides their font, so that the
# tree walk of _Walker (a Python step per paragraph, run and cell: 3/4 of reading a TCVN3
# report) is done by libxslt. A paragraph is U+E010, its w:pStyle, then per run (every w:r in
# it, in order, as _Walker._legacy_paragraph takes them) U+E012, the run's key, U+E013 and the
# run's text (as _Walker._run_text reads it); then U+E014. The key holds what _Walker._run_font
# looks at, each item a letter and a value ended by U+E015: "H", "A", "h", "a" for w:rFonts'
# hAnsiTheme, asciiTheme, hAnsi and ascii, "s" for w:rStyle, only those the run has (so an
# empty attribute and a missing one differ); read by _Styles.font_for_run_key. Attribute
# templates rather than a value-of per possible attribute: a third less time in libxslt on the
# real TCVN3 reports (0.75 -> 0.56 ms per document.xml). A run's text is that of its children
# (w:t, w:tab...), not a search of its descendants (0.56 -> 0.45 ms): the walker's itertext
# finds more only under a w:ruby, or in a text box or mc:AlternateContent, whose parts are
# walked. Tables as in the lines format. Only for parts without text boxes, mc:AlternateContent,
# w:ruby, w:moveFrom, character references or code points U+E000-U+EFFF (those are walked, as
# before), so no value can hold a marker.
_P_LEGACY = """<xsl:template match="w:p">
  <xsl:text>&#xE010;</xsl:text><xsl:value-of select="w:pPr[1]/w:pStyle[1]/@w:val"/>
  <xsl:for-each select=".//w:r">
    <xsl:text>&#xE012;</xsl:text>
    <xsl:apply-templates mode="key" select="w:rPr[1]/w:rFonts[1]/@*|w:rPr[1]/w:rStyle[1]/@w:val"/>
    <xsl:text>&#xE013;</xsl:text>
    <xsl:apply-templates mode="run" select="*"/>
  </xsl:for-each>
  <xsl:text>&#xE014;</xsl:text>
</xsl:template>
<xsl:template mode="key" match="@*"/>
<xsl:template mode="key" match="w:rFonts/@w:hAnsiTheme">H<xsl:value-of select="."/>&#xE015;</xsl:template>
<xsl:template mode="key" match="w:rFonts/@w:asciiTheme">A<xsl:value-of select="."/>&#xE015;</xsl:template>
<xsl:template mode="key" match="w:rFonts/@w:hAnsi">h<xsl:value-of select="."/>&#xE015;</xsl:template>
<xsl:template mode="key" match="w:rFonts/@w:ascii">a<xsl:value-of select="."/>&#xE015;</xsl:template>
<xsl:template mode="key" match="w:rStyle/@w:val">s<xsl:value-of select="."/>&#xE015;</xsl:template>
<xsl:template mode="run" match="*"/>
<xsl:template mode="run" match="w:t"><xsl:value-of select="."/></xsl:template>
<xsl:template mode="run" match="w:tab"><xsl:text>&#9;</xsl:text></xsl:template>
<xsl:template mode="run" match="w:br|w:cr"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template mode="run" match="w:noBreakHyphen"><xsl:text>-</xsl:text></xsl:template>
<xsl:template mode="run" match="w:softHyphen"><xsl:text>&#xAD;</xsl:text></xsl:template>
<xsl:template mode="run" match="w:sym"><xsl:text>&#x2022;</xsl:text></xsl:template>"""
_legacy_xslt: list[etree.XSLT] = []


def _legacy_transform() -> etree.XSLT:
    if not _legacy_xslt:
        source = _lines_source(_XSLT_LEAN_SOURCE)
        start = source.index('<xsl:template match="w:p">')
        end = source.index("</xsl:template>", start) + len("</xsl:template>")
        _legacy_xslt.append(etree.XSLT(etree.fromstring((source[:start] + _P_LEGACY + source[end:]).encode())))
    return _legacy_xslt[0]


_WALKED_ONLY = (b"txbxContent", b"AlternateContent", b"ruby", b"moveFrom")


def _walked_only(xml: bytes) -> bool:
    """Must this part be walked rather than read by the legacy transform? Byte 0xEE is the lead
    byte of U+E000-U+EFFF in UTF-8 (one memchr instead of a search per marker)."""
    return b"\xee" in xml or _has_char_reference(xml) or any(mark in xml for mark in _WALKED_ONLY)


_ONLY_TABLE_MARKS = re.compile("(?:[\ue001-\ue004]|[\ue006\ue007][^\ue008\ue010]*\ue008)*")  # and cell notes


@lru_cache(maxsize=8192)
def _decode_paragraph(pieces: tuple[tuple[str, str | None], ...]) -> str:
    """decode_runs of one paragraph's (text, font) pieces, remembered: a pure function of them,
    and table cells, headings and the national header come back in document after document
    (--cold in bench/parse.py forgets it with the other memos)."""
    return decode_runs(pieces)


def _legacy_lines(styles: _Styles, out: str) -> str | None:
    """The legacy transform's output with each paragraph decoded (decode_runs, as _Walker
    does it), in the lines format for read_lines_marked; None when something outside the
    paragraphs is not table structure (the walker would not read it: walk the part)."""
    chunks = out.split("\ue010")
    if not _ONLY_TABLE_MARKS.fullmatch(chunks[0]):
        return None
    res = [chunks[0]]
    para_fonts: dict[str, object] = {}
    run_font = styles.font_for_run_key
    for chunk in chunks[1:]:
        body, _, tail = chunk.partition("\ue014")
        if tail and not _ONLY_TABLE_MARKS.fullmatch(tail):
            return None
        runs = body.split("\ue012")
        sid = runs[0]
        para_font = para_fonts.get(sid, _MISSING)
        if para_font is _MISSING:
            para_font = para_fonts[sid] = styles.font_for_style_id(sid)
        pieces: list[list] = []  # [text, font], consecutive same-font runs merged
        for run in runs[1:]:
            key, _, text = run.partition("\ue013")
            if not text:
                continue
            font = run_font(key)
            if font is INHERIT:
                font = para_font
            if pieces and pieces[-1][1] == font:
                pieces[-1][0] += text
            else:
                pieces.append([text, font])
        if pieces:
            res.append(_decode_paragraph(tuple(map(tuple, pieces))))
        res.append("\n")
        res.append(tail)
    return "".join(res)


def read_marked(walker: "_Walker", marked: str, lines: list[str]) -> None:
    """Lines and tables from the XSLT output (see _XSLT_SOURCE); same shapes as the walker's."""
    # Open tables, innermost last: [rows, lines of the open cell or None, padding after it].
    stack: list[list] = []
    budget = walker.max_chars - walker.chars
    used = 0
    # Soft hyphens are invisible: out before NFC, so that what they separated may compose.
    for m in _MARKED.finditer(nfc(marked.replace("\u00ad", "") if "\u00ad" in marked else marked)):
        token = m.group()
        first = token[0]
        if first > "\ue000" and first < "\ue006":
            if not stack and first != _TBL_START:
                continue
            if first == _TBL_START:
                stack.append([[], None, 0])
                continue
            table = stack[-1]
            if table[1] is not None:  # close the open cell
                row = table[0][-1]
                row.append("\n".join(table[1]))
                if table[2]:
                    row.extend([""] * table[2])
                table[1] = None
            if first == _TBL_END:
                stack.pop()
                if table[0]:
                    walker.out.tables.append(tuple(tuple(row) for row in table[0]))
            elif first == _ROW:
                table[0].append([])
            else:  # a cell: its grid span follows the marker
                if not table[0]:
                    table[0].append([])
                group = m.group(1)
                span = int(group) if group.isdigit() and len(group) <= 8 else 1
                table[1], table[2] = [], max(0, min(span, 64) - 1)
            continue
        for piece in token.split("\n"):
            piece = piece.strip()
            if not piece:
                continue
            used += len(piece) + 1
            if used > budget + 1:
                walker.truncated = True
                walker.chars += used
                return
            lines.append(piece)
            # A nested table's text also belongs to every cell that contains it.
            for table in stack:
                if table[1] is not None:
                    table[1].append(piece)
    walker.chars += used


def read_docx(data: bytes, limits: Limits = Limits()) -> Blocks:
    """Lines, tables and problems of a WordprocessingML package. Raises nothing for bad input
    it can describe (problems); unexpected errors propagate to read_document's guard."""
    try:
        # Each part is checked for a DOCTYPE as it is read (read_checked), not every part first.
        zf, info = open_package(data, limits, xml_heads=False)
        with zf:
            return _read_docx(zf, info, limits)
    except UnsafePackage as exc:
        return Blocks(problems=[str(exc)])


def _read_docx(zf: zipfile.ZipFile, info: PackageInfo, limits: Limits) -> Blocks:
    """read_docx's work on an opened package; UnsafePackage when a part it reads declares a DOCTYPE."""
    names = set(info.names)
    parser = safe_xml_parser()
    main = _main_part(zf, parser, names)
    try:
        main_xml = read_checked(zf, main)
        root = etree.fromstring(main_xml, parser)
    except KeyError:
        return Blocks(problems=["Tệp Word không có phần nội dung chính (word/document.xml); tệp bị hỏng."])
    except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError) as exc:
        return Blocks(problems=[f"Tệp Word bị hỏng, không đọc được nội dung ({_short(exc)})."])
    ns = etree.QName(root).namespace or W_NS
    n = _NAMES[ns if ns in _NAMES else W_NS]
    rels = _rels(zf, main, parser, frozenset({"styles", "header", "footer", "theme"}))
    styles_part = next((t for k, t in rels.values() if k == "styles" and t in names), None)
    theme = _theme_fonts(zf, next((t for k, t in rels.values() if k == "theme" and t in names), None))
    theme_legacy = any(font_kind(font) for font in theme.values())
    styles_xml: bytes | None = None

    def read_styles() -> bytes:
        try:
            return read_checked(zf, styles_part) if styles_part else b""
        except (zipfile.BadZipFile, OSError, EOFError):
            return b""

    # Styles are only resolved when some font is a legacy one (parsing them costs as much as
    # a short document); otherwise fonts cannot change the text. Whether a styles part names
    # a legacy font is remembered by its CRC and size from the zip directory: units reuse
    # one template (python-docx's alone is 350 KB of styles), so most documents skip it.
    style_legacy = False
    key = None
    if styles_part:
        info_s = zf.getinfo(styles_part)
        key = (info_s.CRC, info_s.file_size)
        style_legacy = _STYLE_VERDICTS.get(key)
        if style_legacy is None:
            styles_xml = read_styles()
            style_legacy = _STYLE_VERDICTS.remember(key, _names_legacy_font(styles_xml))
    walker = _Walker(n, None, limits.max_text_chars)

    def read_part(part_root: etree._Element, part_xml: bytes, lines: list[str]) -> None:
        legacy = style_legacy or theme_legacy or _names_legacy_font(part_xml)
        if not legacy and n.w == "{%s}" % W_NS:
            boxes = b"txbxContent" in part_xml
            if not _holds_markers(part_xml):
                if read_lines_marked(walker, str(_fast_transform(boxes, lines=True)(part_root)), lines):
                    return
            read_marked(walker, str(_fast_transform(boxes)(part_root)), lines)
            return
        if walker.styles is None:
            # The resolved styles are remembered like the verdict: parsing python-docx's
            # template took half the time of reading a TCVN3 document.
            memo_key = (key, n.w, tuple(sorted(theme.items()))) if styles_part else None
            walker.styles = _STYLES_MEMO.get(memo_key) if memo_key else None
            if walker.styles is None:
                raw = styles_xml if styles_xml is not None else read_styles()
                try:
                    styles_root = etree.fromstring(raw, parser) if raw else None
                except etree.XMLSyntaxError:
                    styles_root = None
                walker.styles = _Styles(styles_root, n, theme)
                if memo_key:
                    _STYLES_MEMO.remember(memo_key, walker.styles)
        if n.w == "{%s}" % W_NS and not _walked_only(part_xml):
            marked = _legacy_lines(walker.styles, str(_legacy_transform()(part_root)))
            if marked is not None and read_lines_marked(walker, marked, lines):
                return
        walker.prepare(part_root, legacy)
        body = part_root.find(n.body)
        walker.blocks(body if body is not None else part_root, lines)

    header_lines, footer_lines = [], []
    seen_parts: set[str] = set()
    for _rid, (kind, target) in sorted(rels.items(), key=lambda kv: kv[1][1]):
        if kind not in ("header", "footer") or target not in names or target in seen_parts:
            continue
        seen_parts.add(target)
        try:
            part_xml = read_checked(zf, target)
            part = etree.fromstring(part_xml, parser)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError):
            continue
        part_lines: list[str] = []
        read_part(part, part_xml, part_lines)
        dest = header_lines if kind == "header" else footer_lines
        for line in part_lines:
            if not _PAGE_NUMBER.match(line) and line not in dest:
                dest.append(line)
    body_lines: list[str] = []
    read_part(root, main_xml, body_lines)
    out = walker.out
    out.lines = header_lines + body_lines + footer_lines
    out.clean = True  # read_marked and the walker give NFC lines without soft hyphens
    if walker.truncated:
        out.problems.append(truncated_problem(limits))
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        out.problems.append(MACRO_PROBLEM)
    return out


def read_pptx(data: bytes, limits: Limits = Limits()) -> Blocks:
    """Slide text (a:p paragraphs of every slide, in slide order); no tables, no notes."""
    try:
        zf, info = open_package(data, limits)
    except UnsafePackage as exc:
        return Blocks(problems=[str(exc)])
    with zf:
        parser = safe_xml_parser()
        slides = [nm for nm in info.names if re.fullmatch(r"ppt/slides/slide\d+\.xml", nm)]
        slides.sort(key=lambda nm: int(re.sub(r"\D", "", nm)))
        out = Blocks()
        chars = 0
        a_p, a_t = "{%s}p" % A_NS, "{%s}t" % A_NS
        for name in slides:
            try:
                root = etree.fromstring(zf.read(name), parser)
            except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError):
                out.problems.append("Một trang trình chiếu bị hỏng, đã bỏ qua.")
                continue
            for para in root.iter(a_p):
                text = nfc("".join(t.text or "" for t in para.iter(a_t))).strip()
                if text:
                    chars += len(text) + 1
                    if chars > limits.max_text_chars:
                        out.problems.append(truncated_problem(limits))
                        return out
                    out.lines.append(text)
        if any(nm.lower().endswith("vbaproject.bin") for nm in info.names):
            out.problems.append(MACRO_PROBLEM)
        return out


def truncated_problem(limits: Limits) -> str:
    return f"Văn bản quá dài; hệ thống chỉ đọc {limits.max_text_chars:,} ký tự đầu.".replace(",", ".")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
