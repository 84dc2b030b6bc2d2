"""Generated sample documents, read back by the real reader, give back the facts they were made with."""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import date

import docx
import pytest
from docx.oxml.ns import qn

from tonghop_demo import samples
from parsers.document import read_document
from parsers.facts import FIELDS, extract_facts
from parsers.figures import read_form_indicators, read_indicators
from parsers.model import Attachment


def read_back(data: bytes, name: str = "bao-cao.docx"):
    doc = read_document(Attachment(name, "application/octet-stream", data))
    assert doc.problems == (), doc.problems
    return doc, extract_facts(doc.lines, doc.tables)


def assert_facts(report: samples.SampleReport, facts) -> None:
    expected = report.expected
    got = {name: getattr(facts, name).value for name in FIELDS}
    assert got == {name: expected[name] for name in FIELDS}
    assert facts.recipients == expected["recipients"]
    assert facts.leaders == expected["leaders"]
    assert tuple(s.heading for s in facts.sections) == expected["sections"]
    assert set(facts.missing) == {name for name in FIELDS if expected[name] is None}


CASES = [
    ("xa-my-hoa", "BC", "table"), ("xa-my-hoa", "KH", "paragraphs"), ("tt-my-an", "BC", "stacked"),
    ("xa-doc-binh-kieu", "KH", "table"), ("phong-tu-phap", "BC", "paragraphs"),
    ("phong-lao-dong", "KH", "table"), ("tt-gdnn-gdtx", "BC", "stacked"), ("ban-qlda", "KH", "paragraphs"),
    ("van-phong", "BC", "table"), ("thanh-tra", "KH", "stacked"), ("phong-nong-nghiep", "BC", "paragraphs"),
]


@pytest.mark.parametrize("unit_id,kind,header", CASES)
def test_report_and_plan_read_back(unit_id, kind, header):
    report = samples.build_report(samples.unit_by_id(unit_id), 2024, kind=kind)
    _, facts = read_back(samples.render_docx(report, header=header))
    assert_facts(report, facts)
    assert facts.type.confidence >= 0.9 and facts.issuer.confidence >= 0.9


@pytest.mark.parametrize("header", ["table", "paragraphs", "stacked"])
def test_district_letter_reads_back(header):
    report = samples.build_report(samples.DISTRICT_UNIT, 2023, kind="CV", number=1452, date=date(2023, 11, 10))
    _, facts = read_back(samples.render_docx(report, header=header))
    assert_facts(report, facts)
    assert facts.number.value == "1452/UBND-VX" and facts.type.value == "CV"
    assert facts.title.value == "tiếp tục triển khai thực hiện Chỉ thị số 33/CT-TTg và Quyết định số 311-QĐ/TU"


@pytest.mark.parametrize("legacy", ["tcvn3", "vni"])
@pytest.mark.parametrize("header", ["table", "paragraphs", "stacked"])
def test_legacy_fonts_read_back(legacy, header):
    report = samples.build_report(samples.unit_by_id("xa-my-quy"), 2024, kind="BC")
    data = samples.render_docx(report, header=header, legacy=legacy)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert (".VnTime" in xml) if legacy == "tcvn3" else ("VNI-Times" in xml)
    assert "Báo cáo" not in xml and "dân vận" not in xml  # the text really is legacy-encoded
    _, facts = read_back(data)
    assert_facts(report, facts)


def test_nfd_typos_draft_and_options_read_back():
    unit = samples.unit_by_id("xa-my-hoa")
    report = samples.build_report(unit, 2024, kind="BC", typos=True)
    data = samples.render_docx(report, nfd=True)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert unicodedata.normalize("NFD", "Mỹ Hòa") in xml and "Mỹ Hòa" not in xml  # NFD in the file
    assert "tháng10" in report.date_line and "Số " in report.number_line and "–" in report.motto
    _, facts = read_back(data)
    assert_facts(report, facts)
    assert facts.title.value.startswith("Kết qủa")

    draft = samples.build_report(unit, 2024, kind="BC", number=None, date=None, signer=None)
    _, facts = read_back(samples.render_docx(draft, header="paragraphs"))
    assert_facts(draft, facts)
    assert facts.number.value is None and facts.type.value == "BC" and facts.date.value is None
    assert facts.signer.value is None and {"number", "date", "signer"} <= set(facts.missing)

    pinned = samples.build_report(samples.unit_by_id("phong-y-te"), 2024, number=7, date=date(2024, 10, 3),
                                  signer="Lê Văn Hòa", leader="Trương Thị Thủy, Phó Trưởng phòng",
                                  figures={"DV01": 5, "DV03": "không có", "DV05": 99.5})
    doc, facts = read_back(samples.render_docx(pinned, header="stacked"))
    assert_facts(pinned, facts)
    assert facts.number.value == "7/BC-PYT" and facts.date.value == "2024-10-03"
    assert facts.signer.value == "Lê Văn Hòa" and facts.leaders == ("Trương Thị Thủy, Phó Trưởng phòng",)
    values, problems = read_indicators(doc.tables, samples.DAN_VAN_INDICATORS[:5])
    assert values == {"DV01": 5.0, "DV05": 99.5}
    assert len(problems) == 3 and "“không có”" in problems[1]


def test_report_figures_table_reads_back():
    report = samples.build_report(samples.unit_by_id("xa-thanh-my"), 2024, kind="BC")
    doc, _ = read_back(samples.render_docx(report))
    values, problems = read_indicators(doc.tables, samples.DAN_VAN_INDICATORS)
    assert problems == ()
    assert values == {code: float(v) for code, v in report.expected["figures"].items()}
    # the body cites the same numbers as the table
    assert f"{report.expected['figures']['DV06']} buổi tiếp công dân" in doc.text


def test_layout_is_nd30():
    data = samples.report_docx(samples.unit_by_id("xa-my-hoa"), 2024)
    d = docx.Document(io.BytesIO(data))
    section = d.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert round(section.left_margin.mm) == 30 and round(section.right_margin.mm) == 15
    header = d.tables[0]
    assert len(header.rows) == 2 and len(header.columns) == 2
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None and all(b.get(qn("w:val")) == "nil" for b in borders)
    runs = [r for p in d.paragraphs for r in p.runs if r.text.strip()]
    assert runs and all(r.font.name == "Times New Roman" for r in runs)
    assert all(r.font.size.pt in (11, 12, 13, 14) for r in runs)
    bold = {p.text for p in d.paragraphs if p.runs and p.runs[0].bold}
    assert "BÁO CÁO" in bold and "I. TÌNH HÌNH TRIỂN KHAI THỰC HIỆN" in bold


def test_wording_varies_by_unit_and_is_deterministic():
    bodies = set()
    for unit in samples.THAP_MUOI:
        if unit.kind != "commune":
            continue
        report = samples.build_report(unit, 2024, kind="BC")
        text = "\n".join(p.text for p in report.body)
        text = text.replace(unit.self_name, "X").replace(unit.place, "Y")
        bodies.add(re.sub(r"\d+(?:[.,]\d+)?", "N", text))
        assert samples.build_report(unit, 2024, kind="BC") == report
    assert len(bodies) >= 6
    heads = {u.head for u in samples.THAP_MUOI}
    assert len(heads) >= 20


def test_sample_unit_from_a_configured_unit():
    class Unit:  # the shape of daemon.config.Unit
        id, name, kind = "xa-my-quy", "UBND xã Mỹ Quý", "commune"

    unit = samples.sample_unit(Unit())
    assert unit.issuer == ("ỦY BAN NHÂN DÂN", "XÃ MỸ QUÝ") and unit.parent == () and unit.place == "Mỹ Quý"
    assert unit.code == "UBND" and unit.head_title == "CHỦ TỊCH" and unit.self_name == "Ủy ban nhân dân xã Mỹ Quý"
    town = samples.unit_by_id("tt-my-an")
    assert town.issuer == ("ỦY BAN NHÂN DÂN", "THỊ TRẤN MỸ AN") and town.place == "Mỹ An"
    dept = samples.unit_by_id("phong-lao-dong")
    assert dept.parent == ("ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI")
    assert dept.issuer == ("PHÒNG LAO ĐỘNG - THƯƠNG BINH", "VÀ XÃ HỘI") and dept.code == "LĐTBXH"
    assert samples.sample_unit(dept) is dept


def test_form_xlsx_blank_and_filled_read_back():
    blank = read_document(Attachment("bieu-mau.xlsx", "application/octet-stream", samples.form_xlsx()))
    assert read_form_indicators(blank.tables) == samples.DAN_VAN_INDICATORS
    filled_bytes = samples.form_xlsx(samples.DAN_VAN_INDICATORS, {"DV01": 12, "DV02": 1250, "DV05": 98.5,
                                                                  "DV07": "chưa thống kê"},
                                     unit_name="UBND xã Mỹ Hòa")
    filled = read_document(Attachment("bieu-mau.xlsx", "application/octet-stream", filled_bytes))
    values, problems = read_indicators(filled.tables, samples.DAN_VAN_INDICATORS)
    assert values == {"DV01": 12.0, "DV02": 1250.0, "DV05": 98.5}
    assert len(problems) == 6
    assert any("DV07" in p and "“chưa thống kê”" in p for p in problems)
    assert sum("chưa có số liệu" in p for p in problems) == 5
