"""Consolidation over three sets of units' documents other than the demo's, as typed records (no
server, no Word): units writing under their own headings, units that send only a form, units
writing the same thing alike; the Ủy ban's voice, proposals, the outline's parts and the notes."""
from __future__ import annotations

from datetime import datetime

import docx
import pytest

from daemon.config_toml import load_config
from daemon.report.model import build_model
from daemon.report.notes import notes_lines, write_notes
from daemon.report.voice import proposal, strip_self, voiced
from daemon.report.text import Keys
from draft_cycle import EXAMPLE, NOW, TZ

CONFIG = load_config(EXAMPLE)
CAMPAIGN = CONFIG.campaign("dan-van")
EMPTY = "Chưa có đơn vị báo cáo nội dung này."


def report(unit_id: str, number: str, sections: list[tuple[str, int, str]], figures=(), n: int = 0) -> dict:
    """A ledger row of one unit's report, with the facts intake would have recorded."""
    facts = {"number": number, "date": "2024-10-10", "type": "BC", "title": "Báo cáo công tác dân vận năm 2024",
             "signer": "Nguyễn Văn A", "issuer": CONFIG.unit(unit_id).name.upper(),
             "sections": [{"heading": h, "number": "", "level": lvl, "text": t} for h, lvl, t in sections],
             "figures": [{"row": name, "column": "Số liệu", "value": v, "code": code} for code, name, v in figures],
             "leaders": [], "missing": []}
    return {"id": n, "campaign": "dan-van", "cycle": "2024", "unit_id": unit_id, "requirement": "bao-cao",
            "message": n, "received_at": datetime(2024, 10, 10, 9, n % 60, tzinfo=TZ).isoformat(),
            "doc_number": number, "doc_date": "2024-10-10", "doc_title": facts["title"],
            "filename": f"bc-{unit_id}.docx", "facts": facts}


def body(model) -> str:
    lines = [model.intro]
    for s in model.sections:
        lines.append(f"{s.number}. {s.title}")
        for p in s.paragraphs:
            lines.append(f"{p.lead} {p.text}".strip())
        for a in s.areas:
            lines.append(f"{s.number}.{a.number}. {a.title}")
            lines.extend(f"{p.lead} {p.text}".strip() for p in a.paragraphs)
    return "\n".join(lines)


def part(model, number: str):
    roman, _, area = number.partition(".")
    section = next(s for s in model.sections if s.number == roman)
    return next(a for a in section.areas if a.number == area) if area else section


# -- set 1: units writing their parts under their own headings ------------------------------

@pytest.fixture(scope="module")
def headings_model():
    rows = [
        report("phong-tu-phap", "31/BC-PTP", [
            ("I. Về công tác thông tin, phổ biến", 1,
             "Phòng đã phổ biến Chỉ thị số 33/CT-TTg đến 100% công chức."),
            ("II. Việc thực hiện Quy chế dân chủ ở cơ sở", 1,
             "Phòng tổ chức 2 hội nghị đối thoại với người dân về trợ giúp pháp lý."),
            ("III. Những tồn tại, hạn chế", 1, "Việc cập nhật văn bản mới còn chậm."),
            ("IV. Bài học kinh nghiệm", 1, "Phải gắn công tác dân vận với nhiệm vụ chuyên môn."),
            ("V. Phương hướng nhiệm vụ năm 2025", 1, "Phòng tiếp tục đổi mới hình thức phổ biến pháp luật."),
            ("VI. Đề xuất, kiến nghị", 1,
             "Đề nghị Ủy ban nhân dân tỉnh ban hành hướng dẫn chấm điểm mô hình. "
             "Đề nghị UBND huyện quan tâm bố trí kinh phí cho hoạt động hòa giải ở cơ sở."),
        ], n=1),
        report("xa-my-hoa", "12/BC-UBND", [
            ("1. Kết quả đạt được", 1, ""),
            ("a) Thi đua Dân vận khéo", 2,
             "UBND xã xây dựng mô hình \"Đường hoa nông thôn mới\" được Huyện ủy công nhận."),
            ("b) Cải cách thủ tục hành chính", 2, "Tiếp nhận 812 hồ sơ, giải quyết đúng hạn 100%."),
            ("2. Ưu điểm", 1, "Chúng tôi luôn lắng nghe ý kiến Nhân dân."),
        ], n=2),
    ]
    return build_model(CONFIG, CAMPAIGN, "2024", rows, NOW)


def test_sections_under_other_headings_reach_their_parts(headings_model):
    m = headings_model
    assert "Phòng Tư pháp đã phổ biến Chỉ thị số 33/CT-TTg đến 100% công chức." in part(m, "II.1").paragraphs[-1].text
    assert part(m, "II.5").paragraphs[-1].text.startswith("Phòng Tư pháp tổ chức 2 hội nghị đối thoại")
    assert part(m, "II.2").paragraphs[-1].text.startswith("UBND xã Mỹ Hòa xây dựng mô hình")
    assert part(m, "II.3").paragraphs[-1].text == "UBND xã Mỹ Hòa tiếp nhận 812 hồ sơ, giải quyết đúng hạn 100%."
    assert "Việc cập nhật văn bản mới còn chậm." in part(m, "III.2").paragraphs[-1].text
    assert "Phải gắn công tác dân vận" in part(m, "III.4").paragraphs[-1].text
    # "Chúng tôi" becomes who it was, named once in the lead.
    own = part(m, "III.1").paragraphs[-1]
    assert not own.lead and own.text == "UBND xã Mỹ Hòa luôn lắng nghe ý kiến Nhân dân."
    # Nobody wrote about public-service ethics: the area is there and says so.
    assert [p.text for p in part(m, "II.4").paragraphs] == [EMPTY]


def test_proposals_go_to_the_district_tasks_or_to_the_level_above(headings_model):
    m = headings_model
    text = body(m)
    assert "Đề nghị UBND huyện" not in text and "Đề nghị Ủy ban nhân dân huyện" not in text
    tasks = [p.text for p in part(m, "IV").paragraphs]
    assert "- Bố trí kinh phí cho hoạt động hòa giải ở cơ sở." in tasks
    assert "- Tiếp tục đổi mới hình thức phổ biến pháp luật." in tasks  # the unit's direction, no name
    above = [p.text for p in part(m, "V").paragraphs]
    assert "- Đề nghị Ủy ban nhân dân tỉnh ban hành hướng dẫn chấm điểm mô hình (Phòng Tư pháp)." in above
    assert EMPTY not in above


def test_every_sentence_traced_to_unit_document_and_heading(headings_model):
    m = headings_model
    sources = {(src.unit_id, src.document, src.heading) for s in m.sections
               for p in list(s.paragraphs) + [p for a in s.areas for p in a.paragraphs]
               for t in p.traces for src in t.sources}
    assert ("xa-my-hoa", "Báo cáo số 12/BC-UBND ngày 10/10/2024", "b) Cải cách thủ tục hành chính") in sources
    assert ("phong-tu-phap", "Báo cáo số 31/BC-PTP ngày 10/10/2024", "VI. Đề xuất, kiến nghị") in sources
    notes = notes_lines(m, None, conflicts=["DV04, UBND xã Mỹ Hòa: biểu 800, lời văn 812."])
    assert notes.conflicts == ("DV04, UBND xã Mỹ Hòa: biểu 800, lời văn 812.",)
    row = next(r for r in notes.sources if "812 hồ sơ" in r.sentence)
    assert row.part == "II.3"
    assert row.sources == "mục «b) Cải cách thủ tục hành chính»: UBND xã Mỹ Hòa (Báo cáo số 12/BC-UBND ngày 10/10/2024)."
    assert notes.changes.startswith("Bản dự thảo đầu tiên")
    missing = next(x for x in notes.missing if x.startswith("Báo cáo"))
    assert "(26 đơn vị chưa nộp)" in missing and "Phòng Tư pháp" not in missing


# -- set 2: units that send only a form ----------------------------------------------------

def test_units_sending_only_a_form_add_figures_and_no_text(tmp_path):
    form = [("DV04", "Số hồ sơ thủ tục hành chính tiếp nhận", 300.0), ("DV06", "Số buổi tiếp công dân", 12.0)]
    rows = [report("xa-thanh-my", "5/BC-UBND", [], figures=form, n=1),
            report("phong-y-te", "9/BC-PYT", [], figures=form, n=2),
            report("phong-giao-duc", "20/BC-PGD", [("1. Công tác tuyên truyền", 2, "Phòng đã tổ chức 4 cuộc "
                                                     "tuyên truyền trong ngành giáo dục.")], n=3)]
    m = build_model(CONFIG, CAMPAIGN, "2024", rows, NOW)
    assert {f.unit for f in m.figure_lines} >= {"UBND xã Thanh Mỹ", "Phòng Y tế"}
    text = body(m)
    assert "UBND xã Thanh Mỹ:" not in text and "Phòng Y tế:" not in text  # nothing written, nothing quoted
    assert "Phòng Giáo dục và Đào tạo đã tổ chức 4 cuộc tuyên truyền trong ngành giáo dục." in text
    for number in ("III.1", "III.2", "III.3", "III.4", "II.2", "II.4"):
        assert part(m, number).paragraphs[-1].text == EMPTY, number
    assert part(m, "V").paragraphs[-1].text == EMPTY
    checks = "\n".join(m.checks)
    assert "UBND xã Thanh Mỹ: chỉ gửi biểu số liệu" in checks and "Phòng Y tế: chỉ gửi biểu số liệu" in checks
    path = write_notes(m, tmp_path / "du-thao.docx")
    assert path.name == "du-thao-ghi-chu.docx"
    said = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "UBND xã Thanh Mỹ: chỉ gửi biểu số liệu" in said
    # Phòng Giáo dục's figure comes from its text alone ("4 cuộc tuyên truyền"): the notes say so.
    assert m.figure_checks and all(c in said for c in m.figure_checks)
    assert "Không phát hiện chênh lệch số liệu." not in said


# -- set 3: many units writing the same thing alike ----------------------------------------

def test_what_many_units_say_alike_is_one_sentence_in_the_committees_voice():
    alike = "đã tổ chức {n} cuộc tuyên truyền Chỉ thị số 33/CT-TTg cho cán bộ, công chức."
    offices = ["phong-tu-phap", "phong-van-hoa", "phong-y-te", "tt-dich-vu-nong-nghiep"]
    communes = ["xa-my-hoa", "xa-my-quy", "tt-my-an"]
    rows = []
    for n, uid in enumerate(offices + communes, 1):
        who = "Phòng" if uid.startswith("phong") else ("Trung tâm" if uid.startswith("tt-d") else "UBND xã")
        sections = [("II. Kết quả thực hiện", 1, ""), ("1. Tuyên truyền", 2, who + " " + alike.format(n=n))]
        if uid == "phong-van-hoa":
            sections.append(("2. Dân vận khéo", 2, "Xây dựng mô hình \"Tủ sách pháp luật số\" tại 13 xã."))
        rows.append(report(uid, f"{n}/BC", sections, n=n))
    m = build_model(CONFIG, CAMPAIGN, "2024", rows, NOW)
    merged = part(m, "II.1").paragraphs[-1]
    # 4 of the 4 offices and 3 of the 3 communes and town that reported: the collective, summed.
    assert merged.text == ("Các cơ quan, đơn vị và UBND các xã, thị trấn đã tổ chức 28 cuộc tuyên truyền Chỉ thị "
                           "số 33/CT-TTg cho cán bộ, công chức.")
    assert len(merged.traces[0].sources) == 7 and not merged.lead
    # A concrete contribution keeps its unit, named once.
    own = part(m, "II.2").paragraphs[-1]
    assert own.text.startswith("Phòng Văn hóa và Thông tin xây dựng mô hình \"Tủ sách pháp luật số\" tại 13 xã")
    text = body(m)
    for unit_voice in ("Phòng đã", "UBND xã đã", "Trung tâm đã", "đơn vị khác", "⟨S⟩"):
        assert unit_voice not in text


def test_few_units_are_named_with_unambiguous_joins():
    rows = [report(uid, f"{n}/BC", [("Công tác tuyên truyền", 1, "Phòng đã quán triệt Chỉ thị số 33/CT-TTg.")], n=n)
            for n, uid in enumerate(["phong-tu-phap", "phong-van-hoa", "phong-y-te"], 1)]
    m = build_model(CONFIG, CAMPAIGN, "2024", rows, NOW)
    assert part(m, "II.1").paragraphs[-1].text == ("Phòng Tư pháp; Phòng Văn hóa và Thông tin; Phòng Y tế đã quán "
                                                   "triệt Chỉ thị số 33/CT-TTg.")


# -- the voice rules themselves ------------------------------------------------------------

@pytest.mark.parametrize("written, subject, expected", [
    ("Phòng đã tổ chức 30 cuộc.", "Phòng Y tế", "Phòng Y tế đã tổ chức 30 cuộc."),
    ("UBND xã quán triệt Chỉ thị.", "UBND xã Mỹ Hòa", "UBND xã Mỹ Hòa quán triệt Chỉ thị."),
    ("Ngay từ đầu năm, Trung tâm quán triệt Chỉ thị.", "Các cơ quan, đơn vị",
     "Ngay từ đầu năm, các cơ quan, đơn vị quán triệt Chỉ thị."),
    ("Tổ chức 24 buổi tiếp công dân.", "UBND xã Mỹ Hòa", "UBND xã Mỹ Hòa tổ chức 24 buổi tiếp công dân."),
    ("Phòng Tư pháp đã tổ chức hội nghị.", "", "Phòng Tư pháp đã tổ chức hội nghị."),  # named: kept
    ("Đơn vị tiếp tục quán triệt Chỉ thị.", "", "Tiếp tục quán triệt Chỉ thị."),  # a task of the Ủy ban
    # Words that begin a common phrase, not the unit: left alone.
    ("Ban hành Kế hoạch số 12/KH-UBND.", "Phòng Y tế", "Phòng Y tế ban hành Kế hoạch số 12/KH-UBND."),
    ("Phòng chống dịch bệnh được quan tâm.", "", "Phòng chống dịch bệnh được quan tâm."),
    ("Cơ quan chức năng đã kiểm tra.", "", "Cơ quan chức năng đã kiểm tra."),
    ("Trung tâm hành chính công tiếp nhận hồ sơ.", "", "Trung tâm hành chính công tiếp nhận hồ sơ."),
])
def test_self_reference_becomes_third_person(written, subject, expected):
    assert voiced(strip_self(written), subject) == expected


def test_proposals_read_by_addressee():
    fold = Keys().fold
    names = CAMPAIGN.draft.district_names
    p = proposal("Đề nghị Ủy ban nhân dân huyện Tháp Mười quan tâm tổ chức tập huấn cho cán bộ.", names, fold)
    assert p.to_district and p.task == "Tổ chức tập huấn cho cán bộ."
    p = proposal("Đề nghị Sở Nội vụ sớm ban hành hướng dẫn.", names, fold)
    assert not p.to_district and p.task == "Đề nghị Sở Nội vụ sớm ban hành hướng dẫn."
    assert proposal("Tổ chức 3 hội nghị.", names, fold) is None
    # The district's Party committee is the level above, not the Ủy ban that signs.
    assert not proposal("Đề nghị Huyện ủy quan tâm chỉ đạo.", names, fold).to_district



def test_the_notes_list_the_figure_checks_of_the_model(headings_model, tmp_path):
    """The draft's reconciliation finds conflicts; the clerk's notes print them without the caller
    passing them again (the runner and `tonghop draft` pass none)."""
    from dataclasses import replace

    line = "Phòng Y tế: DV04 biểu số liệu ghi 612, nội dung báo cáo ghi 500."
    path = write_notes(replace(headings_model, figure_checks=(line,)), tmp_path / "du-thao.docx")
    said = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert line in said
