"""Small pieces of WordprocessingML the office's documents share: the report template
(scripts/make_report_template.py) and the sample documents of the demo and the tests."""
from __future__ import annotations

from docx.oxml import OxmlElement
from docx.oxml.ns import qn


def no_borders(table) -> None:
    """A borderless table (the ND30 header and signing block), its w:tblBorders placed where the
    schema wants it inside w:tblPr, so Word opens the file without repairing it."""
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                           "w:tblCaption", "w:tblDescription", "w:tblPrChange")
