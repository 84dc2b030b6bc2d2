#!/usr/bin/env python3
"""Writes config/campaigns/cong-van-1234-UBND-NV.docx: the example campaign's basis document
([basis] of config/campaigns/dan-van.toml), the district's letter that sets the duty to report.

The opening notice attaches it to every unit. It is generated (reproducible, reviewable as code);
a real office puts the signed scan (.pdf) of its own letter in its place and edits [basis].

Usage: python scripts/make_basis_example.py [OUT.docx]
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "config" / "campaigns" / "cong-van-1234-UBND-NV.docx"
FONT = "Times New Roman"

BODY = [
    "Thực hiện Chỉ thị số 33/CT-TTg ngày 26/11/2021 của Thủ tướng Chính phủ về tăng cường và nâng cao "
    "hiệu quả công tác dân vận của cơ quan hành chính nhà nước, chính quyền các cấp trong tình hình mới và "
    "Quyết định số 311-QĐ/TU ngày 06/01/2022 của Ban Thường vụ Tỉnh ủy;",
    "Để có cơ sở tổng hợp, báo cáo Ban Thường vụ Huyện ủy kết quả thực hiện công tác dân vận năm 2024, "
    "Ủy ban nhân dân huyện đề nghị Thủ trưởng các cơ quan chuyên môn, đơn vị sự nghiệp thuộc Ủy ban nhân dân "
    "huyện và Chủ tịch Ủy ban nhân dân các xã, thị trấn thực hiện một số nội dung sau:",
    "1. Xây dựng Kế hoạch thực hiện công tác dân vận năm 2024 của cơ quan, đơn vị, địa phương.",
    "2. Báo cáo kết quả thực hiện công tác dân vận năm 2024, trong đó đánh giá cụ thể việc thực hiện mô hình "
    "«Dân vận khéo», công tác tiếp công dân, giải quyết khiếu nại, tố cáo và số liệu theo biểu mẫu kèm theo.",
    "Kế hoạch và báo cáo gửi về Ủy ban nhân dân huyện (qua Phòng Nội vụ, địa chỉ thư điện tử "
    "phongnoivu@thapmuoi.example) trước ngày 20/10/2024 để tổng hợp, báo cáo theo quy định.",
    "Giao Phòng Nội vụ theo dõi, đôn đốc, tổng hợp kết quả thực hiện, báo cáo Ủy ban nhân dân huyện./.",
]


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def _line(cell_or_doc, text: str, *, bold=False, italic=False, size=13, align=WD_ALIGN_PARAGRAPH.CENTER):
    p = cell_or_doc.add_paragraph()
    p.alignment = align
    run = p.add_run(text)
    run.bold, run.italic, run.font.size, run.font.name = bold, italic, Pt(size), FONT
    return p


def build(out: Path) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    doc.styles["Normal"].font.name = FONT
    doc.styles["Normal"].font.size = Pt(14)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run("ỦY BAN NHÂN DÂN").font.size = Pt(13)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(left, "HUYỆN THÁP MƯỜI", bold=True)
    _line(left, "Số: 1234/UBND-NV")
    _line(left, "V/v báo cáo công tác dân vận năm 2024", size=12)
    right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=14)
    _line(right, "Tháp Mười, ngày 15 tháng 9 năm 2024", italic=True, size=14)
    _line(doc, "")
    _line(doc, "Kính gửi:", size=14)
    _line(doc, "- Thủ trưởng các cơ quan chuyên môn, đơn vị sự nghiệp thuộc Ủy ban nhân dân huyện;", size=14)
    _line(doc, "- Chủ tịch Ủy ban nhân dân các xã, thị trấn.", size=14)
    for text in BODY:
        p = _line(doc, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        p.paragraph_format.first_line_indent = Mm(10)
    sign = doc.add_table(rows=1, cols=2)
    _no_borders(sign)
    recipients, signer = sign.rows[0].cells
    _line(recipients, "Nơi nhận:", bold=True, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in ("- Như trên;", "- TT. Huyện ủy, TT. HĐND huyện (b/c);", "- CT, các PCT UBND huyện;",
                 "- Lưu: VT, NV."):
        _line(recipients, line, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _line(signer, "TM. ỦY BAN NHÂN DÂN", bold=True)
    _line(signer, "KT. CHỦ TỊCH", bold=True)
    _line(signer, "PHÓ CHỦ TỊCH", bold=True)
    _line(signer, "(Đã ký)", italic=True)
    _line(signer, "Trần Văn Minh", bold=True)
    fixed = datetime(2024, 9, 15, 8, 0)
    doc.core_properties.created = doc.core_properties.modified = fixed
    doc.core_properties.author = doc.core_properties.last_modified_by = "UBND huyện Tháp Mười"
    doc.core_properties.title = "Công văn số 1234/UBND-NV"
    doc.save(out)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    build(target)
    print(target)
