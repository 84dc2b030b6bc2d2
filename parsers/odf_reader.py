"""OpenDocument (.odt, .ods, .odp) text without LibreOffice: paragraphs and table cells from
content.xml, through the same package checks as OOXML."""
from __future__ import annotations

import zipfile

from parsers.docx_reader import Blocks
from parsers.model import Limits
from parsers.txt_reader import fix_legacy, lines_of
from parsers.xmlsafety import UnsafePackage, open_package, safe_xml_parser

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
