"""The consolidated draft's model: counts agree with status --json, passages are routed, merged
and attributed, figures summed, leaders flagged, versions compared; config [draft] validated."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from daemon.config import ConfigError, DraftSpec
from daemon.config_toml import load_config
from daemon.report.model import build_model, changes_note, draft_due, header_lines, model_to_json
from daemon.report.text import Keys, Merger, name_list, sentences
from daemon.status import status_document
from draft_cycle import EXAMPLE, FLAGGED, NOW, REPLACED, TZ, build_cycle


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    c = build_cycle(tmp_path_factory.mktemp("ledger"))
    yield c
    c.store.close()


@pytest.fixture(scope="module")
def model(cycle):
    return build_model(cycle.config, cycle.campaign, "2024", cycle.rows(), NOW)


def all_text(model) -> str:
    parts = []
    for s in model.sections:
        parts.append(f"{s.number}. {s.title}")
        for p in list(s.paragraphs) + [p for a in s.areas for p in a.paragraphs]:
            parts.append(f"{p.lead} {p.text}")
    return "\n".join(parts)


def test_counts_and_statuses_agree_with_status_json(cycle, model):
    doc = status_document(cycle.config, cycle.rows(), NOW, "dan-van", "2024")["campaigns"][0]
    expected = {r["id"]: {"on_time": 0, "late": 0, "missing": 0} for r in doc["requirements"]}
    for unit in doc["units"]:
        for req, sub in unit["submissions"].items():
            expected[req][sub["status"]] += 1
    assert model.counts == expected
    assert model.units_total == len(doc["units"]) == 28
    assert expected["bao-cao"] == {"on_time": 21, "late": len(cycle.late), "missing": len(cycle.missing)}
    # Phụ lục I lists every unit and requirement with the status and number status --json has.
    by_unit = {u["name"]: u["submissions"] for u in doc["units"]}
    unit = None
    for line in model.submission_lines:
        unit = line.unit or unit
        req = "ke-hoach" if line.document == "Kế hoạch" else "bao-cao"
        sub = by_unit[unit][req]
        assert line.status == sub["status"]
        # The number and date status --json has, or nothing at all for a unit that sent nothing.
        if sub["status"] == "missing":
            assert line.number_date == "" and line.received == ""
        else:
            assert line.number_date.startswith(f"Số {sub['doc_number']}" if sub["doc_number"] else "Chưa rõ số")
            if sub["doc_date"]:
                y, m, d = sub["doc_date"].split("-")
                assert line.number_date.endswith(f"ngày {d}/{m}/{y}")
            assert line.received
    assert len(model.submission_lines) == 2 * 28
    # The corrected version counts (its number), the first one decides "on time".
    replaced = next(d for d in model.documents if d.unit_id == REPLACED and d.requirement == "bao-cao")
    assert replaced.doc_number.startswith("199/") and replaced.status == "on_time" and replaced.versions == 2


def test_section_one_names_late_and_missing_units(cycle, model):
    section = model.sections[0]
    assert section.number == "I" and section.title == "CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI THỰC HIỆN"
    # The Ủy ban's own account first: the framing sentence citing the letter and the directives.
    assert section.paragraphs[0].text.startswith("Thực hiện Chỉ thị số 33/CT-TTg") and not section.paragraphs[0].traces
    assert "Công văn số      /UBND-NV" in section.paragraphs[0].text
    report = next(p for p in section.paragraphs if p.lead.startswith("Báo cáo kết quả"))
    assert "hạn nộp trước ngày 20/10/2024" in report.lead
    for uid in cycle.late | cycle.missing:
        assert cycle.config.unit(uid).name in report.text
    assert f"{len(cycle.late)} đơn vị gửi trễ hạn" in report.text
    # The units' document numbers are in Phụ lục I, not a run-on list in the body.
    body = " ".join(p.text for p in section.paragraphs)
    assert "chi tiết tại Phụ lục I" in body
    assert not any(f"số {d.doc_number}" in body for d in model.documents if d.doc_number)


def test_leaders_flag_a_commune_whose_chairman_is_not_in_charge(model):
    flagged = [x for x in model.leaders if x.ok is False]
    assert [x.unit_id for x in flagged] == [FLAGGED]
    assert all(x.ok for x in model.leaders if x.unit_id != FLAGGED)
    area = model.sections[1].areas[5]  # II.6, the letter's point 3
    assert area.title == "Phân công lãnh đạo phụ trách công tác dân vận"
    para = next(p for p in area.paragraphs if p.flag and "Chưa đúng yêu cầu" in p.lead)
    assert "UBND xã Mỹ Quý" in para.text and "Phó Chủ tịch" in para.text
    departments = next(p for p in area.paragraphs if p.lead == "Lãnh đạo được phân công phụ trách:")
    assert "Phòng Tư pháp:" in departments.text


def test_body_sections_areas_and_attribution(cycle, model):
    titles = [f"{s.number}. {s.title}" for s in model.sections]
    assert titles == ["I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI THỰC HIỆN", "II. KẾT QUẢ THỰC HIỆN",
                      "III. ĐÁNH GIÁ CHUNG", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", "V. KIẾN NGHỊ, ĐỀ XUẤT"]
    areas = model.sections[1].areas
    assert len(areas) == 6 and areas[1].title == 'Phong trào thi đua "Dân vận khéo"'
    for area in areas:  # every area got something from the units
        assert [p for p in area.paragraphs if p.traces or p.lead], area.title
    assert [a.title for a in model.sections[2].areas] == ["Ưu điểm", "Hạn chế, tồn tại", "Nguyên nhân",
                                                         "Bài học kinh nghiệm"]
    text = all_text(model)
    # A sentence many units wrote word for word appears once.
    assert text.count("Các mô hình được nhân rộng, mang lại hiệu quả thiết thực.") == 1
    # Shortcomings and causes land in III's own parts; the causes' sentences are not shortcomings.
    shortcomings, causes = model.sections[2].areas[1], model.sections[2].areas[2]
    assert all("Nguyên nhân" not in p.text for p in shortcomings.paragraphs)
    assert causes.paragraphs and "Khối lượng công việc chuyên môn lớn" in causes.paragraphs[0].text
    assert "Nguyên nhân:" not in causes.paragraphs[0].text  # the area's title says it
    # Nobody wrote lessons: the part is there and says so.
    assert [p.text for p in model.sections[2].areas[3].paragraphs] == ["Chưa có đơn vị báo cáo nội dung này."]
    # The Ủy ban signs: no unit proposes to it in its own report; the proposals are its tasks in IV.
    assert "Đề nghị Ủy ban nhân dân huyện" not in text and "Đề nghị UBND huyện" not in text
    tasks = [p.text for p in model.sections[3].paragraphs]
    assert "- Tổ chức tập huấn nghiệp vụ công tác dân vận cho cán bộ, công chức." in tasks
    assert model.sections[3].paragraphs[0].text.startswith("Năm 2025, Ủy ban nhân dân huyện")
    assert all(not p.lead for p in model.sections[3].paragraphs)  # the direction names no unit
    assert model.sections[4].paragraphs[-1].text == "Chưa có đơn vị báo cáo nội dung này."
    # The units' own voice never reaches the draft; no "N đơn vị khác".
    for unit_voice in ("Phòng đã", "UBND xã quán triệt", "UBND xã đã", "Trung tâm đã", "Ban đã", "chúng tôi",
                       "đơn vị khác", "Tổng hợp từ", "⟨S⟩"):
        assert unit_voice not in text, unit_voice
    assert "Các cơ quan, đơn vị và UBND các xã, thị trấn tổ chức" in text
    # The units' closing sentence is not copied.
    assert "Trên đây là báo cáo kết quả thực hiện công tác dân vận năm 2024 của Ủy ban nhân dân xã" not in text
    # Missing units contribute nothing; every unit sentence is traced to units that sent a report.
    sent = {d.unit_id for d in model.documents if d.requirement == "bao-cao"}
    traced = {src.unit_id for s in model.sections for p in list(s.paragraphs) + [p for a in s.areas for p in a.paragraphs]
              for t in p.traces for src in t.sources}
    assert traced and traced <= sent


def test_figures_summed_and_quoted_in_their_areas(model):
    totals = {i.code: i for i in model.indicators}
    assert set(totals) == {f"DV0{k}" for k in range(1, 10)}
    lines = model.figure_lines
    codes = [i.code for i in model.indicators]
    assert len(lines) == 25  # the units whose report arrived
    for n, ind in enumerate(model.indicators):
        values = [f.values[n] for f in lines if f.values[n] is not None]
        if ind.method == "sum":
            assert ind.total == pytest.approx(sum(values))
        else:  # [figures] rates = [["DV05", "DV04"]]: weighted by the files received, not a mean of rates
            files = codes.index("DV04")
            pairs = [(f.values[n], f.values[files]) for f in lines if None not in (f.values[n], f.values[files])]
            assert ind.code == "DV05" and ind.method == "weighted" and ind.denominator == "DV04"
            assert ind.total == pytest.approx(sum(r * w for r, w in pairs) / sum(w for _, w in pairs), abs=0.005)
            assert ind.reported == len(pairs) and "bình quân" not in ind.total_text
    area5 = model.sections[1].areas[4]
    figures = area5.paragraphs[0]
    assert figures.lead.startswith("Số liệu tổng hợp") and totals["DV06"].total_text in figures.text
    # "Tổ chức N buổi tiếp công dân": the units' sentences differ only in quantities -> summed.
    summed = next(p for p in area5.paragraphs if p.traces and "buổi tiếp công dân" in p.text)
    assert f"tổ chức {totals['DV06'].value_text} buổi tiếp công dân" in summed.text
    assert "Quyết định số 10763/QĐ-UBND giai đoạn 2021 - 2030" in all_text(model)  # identifiers never summed


def test_model_json_is_plain_and_stable(cycle, model):
    data = model_to_json(model)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    again = build_model(cycle.config, cycle.campaign, "2024", cycle.rows(), NOW)
    assert model_to_json(again) == data


def test_preview_before_the_deadline_and_due_after_the_delay(cycle):
    config, campaign = cycle.config, cycle.campaign
    before = datetime(2024, 10, 15, 9, 30, tzinfo=TZ)
    m = build_model(config, campaign, "2024", cycle.rows(), before)
    assert m.preview and m.preview_note.startswith("BẢN XEM TRƯỚC")
    assert "09:30 ngày 15/10/2024" in m.preview_note
    assert not build_model(config, campaign, "2024", cycle.rows(), NOW).preview
    deadline = datetime(2024, 10, 20, 0, 0, tzinfo=TZ)
    assert not draft_due(config, campaign, "2024", deadline - timedelta(seconds=1))
    assert draft_due(config, campaign, "2024", deadline)
    delayed = replace(campaign, draft=replace(campaign.draft, delay_hours=8))
    assert not draft_due(config, delayed, "2024", deadline + timedelta(hours=7, minutes=59))
    assert draft_due(config, delayed, "2024", deadline + timedelta(hours=8))


def test_changes_note_names_late_arrivals(cycle, model):
    assert changes_note(None, model) == ("Bản dự thảo đầu tiên, tổng hợp từ văn bản của 25/28 đơn vị "
                                         "(tính đến 08:00 ngày 22/10/2024).")
    assert changes_note(model, model) == "Không có văn bản mới so với phiên bản trước."
    unit_id = sorted(cycle.missing)[0]
    cycle.send(unit_id, "BC", datetime(2024, 10, 23, 10, 0, tzinfo=TZ))
    try:
        later = build_model(cycle.config, cycle.campaign, "2024", cycle.rows(), NOW + timedelta(days=1))
        note = changes_note(model, later)
        name = cycle.config.unit(unit_id).name
        assert note.startswith("So với phiên bản trước, có văn bản mới của 1 đơn vị: " + name)
        assert "trễ hạn" in note and "26/28" in note
        assert changes_note(model_to_json(model), later) == note  # the runner may keep the JSON
        assert later.counts["bao-cao"]["late"] == model.counts["bao-cao"]["late"] + 1
    finally:
        cycle.store.db.execute("delete from submissions where unit_id = ?", [unit_id])


def test_header_and_texts_from_config(model):
    assert model.parent_lines == ()
    assert model.issuer_lines == ("ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI")
    assert model.number_line == "Số:      /BC-UBND"
    assert model.place_date == "Tháp Mười, ngày    tháng    năm 2024"
    assert model.summary == "Kết quả thực hiện công tác dân vận năm 2024"
    assert model.addressee_lines == ("Kính gửi: Ban Thường vụ Huyện ủy Tháp Mười.",)
    assert model.authority == ("TM. ỦY BAN NHÂN DÂN",) and model.signer_title == "CHỦ TỊCH"
    assert model.recipients[0] == "- Như trên;" and model.recipients[-1] == "- Lưu: VT, NV."
    assert "22/10/2024" in model.intro
    assert header_lines("PHÒNG NỘI VỤ") == ("PHÒNG NỘI VỤ",)
    assert header_lines("SỞ NỘI VỤ\nTỈNH ĐỒNG THÁP") == ("SỞ NỘI VỤ", "TỈNH ĐỒNG THÁP")


# -- pure text helpers --------------------------------------------------------------------------

def test_sentences_split_at_full_stops_not_abbreviations():
    text = ("Đề nghị TT. HĐND huyện hỗ trợ. Tổ chức 12 cuộc; đạt 98,5%.\n"
            "Nguyên nhân: thiếu người. \"Dân vận khéo\" được nhân rộng.")
    assert sentences(text) == ["Đề nghị TT. HĐND huyện hỗ trợ.", "Tổ chức 12 cuộc; đạt 98,5%.",
                               "Nguyên nhân: thiếu người.", "\"Dân vận khéo\" được nhân rộng."]


def test_near_duplicates_merge_but_numbers_never_mix():
    m = Merger(0.9, Keys())
    m.add("Cán bộ, công chức chấp hành nghiêm kỷ luật, kỷ cương hành chính.", 0)
    m.add("Cán bộ công chức chấp hành nghiêm kỷ luật, kỷ cương hành chính", 1)  # punctuation only
    m.add("Cán bộ, công chức chấp hành nghiêm kỷ luật, kỷ cương hành chánh.", 2)  # one word differs (difflib)
    m.add("Công tác hoà giải được quan tâm.", 3)
    m.add("Công tác hòa giải được quan tâm.", 4)  # tone placement
    m.add("Tiếp nhận 12 đơn, giải quyết 10 đơn.", 5)
    m.add("Tiếp nhận 30 đơn, giải quyết 30 đơn.", 6)  # same words, other numbers: summed, never merged
    m.add("Ban hành Kế hoạch số 12/KH-UBND.", 7)
    m.add("Ban hành Kế hoạch số 45/KH-UBND.", 8)  # identifiers: neither merged nor summed
    m.add("Tỷ lệ hồ sơ đúng hạn đạt 98%.", 9)
    m.add("Tỷ lệ hồ sơ đúng hạn đạt 100%.", 10)
    assert [g.units for g in m.groups[:2]] == [[0, 1, 2], [3, 4]]
    groups = m.consolidated()
    texts = {g.text: g.units for g in groups}
    assert texts["Tiếp nhận 42 đơn, giải quyết 40 đơn."] == [5, 6]
    assert texts["Ban hành Kế hoạch số 12/KH-UBND."] == [7] and texts["Ban hành Kế hoạch số 45/KH-UBND."] == [8]
    assert texts["Tỷ lệ hồ sơ đúng hạn đạt bình quân 99%."] == [9, 10]


def test_name_list_is_unambiguous_and_complete():
    names = [f"Xã {k}" for k in range(12)]
    assert name_list(names[:3]) == "Xã 0; Xã 1 và Xã 2"
    assert name_list(names).endswith("Xã 10 và Xã 11") and "khác" not in name_list(names)
    # A name holding "và" is never joined by another "và".
    assert name_list(["Phòng Tư pháp", "Phòng Văn hóa và Thông tin"]) == "Phòng Tư pháp; Phòng Văn hóa và Thông tin"
    assert name_list(["Phòng Y tế"]) == "Phòng Y tế" and name_list([]) == ""


# -- configuration ------------------------------------------------------------------------------

@pytest.fixture
def cfg(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(EXAMPLE, target)
    shutil.copytree(EXAMPLE.parent / "templates", tmp_path / "templates")
    return target


def test_draft_config_mistakes_name_file_and_key(cfg):
    path = cfg / "campaigns" / "dan-van.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('requirement = "bao-cao"', 'requirement = "bao-cao-quy"')
    text = text.replace('facts = ["submissions"]', 'facts = ["submissions", "lanh-dao"]')
    text = text.replace('role = "proposals"', 'role = "kien-nghi"')
    text = text.replace('facts = ["leaders"]', 'facts = ["leaders"]\nlead = "Năm {nam}"')
    text = text.replace('delay_hours = 0', 'delay_hours = -2\nsignature = "x"')
    text = text.replace('summary = "Kết quả thực hiện công tác dân vận năm {cycle}"', 'summary = "Năm {nam}"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    problems = "\n".join(err.value.problems)
    assert "campaigns/dan-van.toml: khóa «draft.requirement»: yêu cầu «bao-cao-quy» không có" in problems
    assert "khóa «draft.section[1].facts»: «lanh-dao» không hợp lệ" in problems
    assert "khóa «draft.delay_hours»: không được âm" in problems
    assert "khóa «draft.signature»: không có khóa này" in problems
    assert "khóa «draft.summary»: chỗ điền 'nam' không hợp lệ" in problems
    # The outline's own keys, named by file, part and area.
    assert "khóa «draft.section[5].role»: «kien-nghi» không hợp lệ" in problems
    assert "khóa «draft.section[2].area[6].lead»: chỗ điền 'nam' không hợp lệ" in problems


def test_admins_rename_reorder_and_remove_outline_parts(cfg):
    path = cfg / "campaigns" / "dan-van.toml"
    text = path.read_text(encoding="utf-8")
    head, outline = text.split("\n[[draft.section]]\n", 1)
    parts = ["\n[[draft.section]]\n" + p for p in outline.split("\n[[draft.section]]\n")]
    # Drop "Đánh giá chung", put the proposals before the direction, rename part I.
    parts = [parts[0].replace('title = "Công tác lãnh đạo, chỉ đạo, triển khai thực hiện"', 'title = "Tình hình chung"'),
             parts[1], parts[4], parts[3]]
    path.write_text(head + "".join(parts), encoding="utf-8")
    config = load_config(cfg)
    m = build_model(config, config.campaign("dan-van"), "2024", [], NOW)
    assert [s.title for s in m.sections] == ["TÌNH HÌNH CHUNG", "KẾT QUẢ THỰC HIỆN", "KIẾN NGHỊ, ĐỀ XUẤT",
                                             "PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025"]
    # Nobody sent anything: every part and area is there and says so politely.
    for s in m.sections:
        for area in s.areas:
            assert area.paragraphs[-1].text.startswith("Chưa có đơn vị")
        if not s.areas and "submissions" not in config.campaign("dan-van").draft.sections[m.sections.index(s)].facts:
            assert s.paragraphs[-1].text == "Chưa có đơn vị báo cáo nội dung này."
    # Two parts with the same role are refused, naming the key.
    path.write_text(head + "".join(parts + [parts[2]]), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "khóa «draft.section»: chỉ một mục [[draft.section]] được có role = \"proposals\"" in str(err.value)


def test_a_campaign_without_draft_table_loads_with_defaults(cfg):
    path = cfg / "campaigns" / "dan-van.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("[draft]")], encoding="utf-8")
    config = load_config(cfg)
    campaign = config.campaign("dan-van")
    assert campaign.draft == DraftSpec()
    m = build_model(config, campaign, "2024", [], NOW)
    assert m.issuer_lines == ("PHÒNG NỘI VỤ",) and m.parent_lines == ("ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI")
    assert m.number_line == "Số:      /BC-PNV" and [s.title for s in m.sections] == ["TÌNH HÌNH THỰC HIỆN"]
    assert m.counts["bao-cao"]["missing"] == 28 and m.figure_lines == ()
    # The campaign's form (Campaign.form) still lists the indicators, with nothing to add up.
    assert [i.code for i in m.indicators][:2] == ["DV01", "DV02"] and m.indicators[0].unit == "cuộc"
    assert all(i.total is None and i.reported == 0 for i in m.indicators)


def test_bench_runs_end_to_end_on_a_small_size():
    """bench/draft.py works (its figures are printed by the script, never gated here)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "draft.py"
    spec = importlib.util.spec_from_file_location("bench_draft", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run_one(30)
    assert result["units"] == 30 and result["rows"] > 50 and result["docx_kb"] > 0 and result["paragraphs"] > 20


def test_recorded_figures_come_first_then_the_reports_own_table(cycle, model):
    """The figures table (what intake read from a unit's filled form) is the draft's first source;
    an indicator the form leaves out still comes from the unit's report table; a unit whose report
    has no table but whose form was recorded gets its own line (issue 12: Phòng Lao động)."""
    codes = [i.code for i in model.indicators]
    reporting = {f.unit_id: f for f in model.figure_lines}
    with_table = model.figure_lines[0]
    without = next(u for u in cycle.campaign.unit_ids if u not in reporting)
    recorded = {with_table.unit_id: {"DV02": 9999.0}, without: {"DV01": 3.0, "DV04": 40.0}}
    m = build_model(cycle.config, cycle.campaign, "2024", cycle.rows(), NOW, recorded)
    lines = {f.unit_id: f for f in m.figure_lines}
    mine = lines[with_table.unit_id].values
    assert mine[codes.index("DV02")] == 9999.0  # the form wins over the report's table
    assert all(mine[k] == with_table.values[k] for k, c in enumerate(codes) if c != "DV02")  # the rest: its table
    assert lines[without].values[codes.index("DV04")] == 40.0 and len(m.figure_lines) == len(model.figure_lines) + 1
    totals = {i.code: i for i in m.indicators}
    before = {i.code: i for i in model.indicators}
    assert totals["DV04"].total == pytest.approx(before["DV04"].total + 40.0)
    assert totals["DV04"].reported == before["DV04"].reported + 1
    assert totals["DV02"].total == pytest.approx(before["DV02"].total - with_table.values[codes.index("DV02")] + 9999.0)


def test_a_deadline_not_at_midnight_reads_the_same_in_mail_and_draft(cycle):
    """Notices said "17:00 ngày 19/10/2024", the draft "trước 17:00 ngày 19/10/2024" (issue 12):
    one wording now, clock.deadline_words, in the acknowledgements, reminders and the draft."""
    from datetime import time

    from daemon.outgoing.notices import deadline_text

    config, campaign = cycle.config, cycle.campaign
    reqs = tuple(replace(r, deadline="10-19", deadline_time=time(17, 0)) for r in campaign.requirements)
    evening = replace(campaign, requirements=reqs)
    config = replace(config, campaigns=(evening,) + tuple(c for c in config.campaigns if c.id != evening.id))
    req = evening.requirements[-1]
    assert deadline_text(evening, req.id, "2024", config) == "trước 17:00 ngày 19/10/2024"
    model = build_model(config, evening, "2024", cycle.rows(), NOW)
    report = next(p for p in model.sections[0].paragraphs if p.lead.startswith(req.name))
    assert "(hạn nộp trước 17:00 ngày 19/10/2024)" in report.lead
    midnight = campaign.requirement(req.id)
    assert deadline_text(campaign, midnight.id, "2024", cycle.config) == "trước ngày 20/10/2024"


def test_one_total_per_indicator_in_the_body(cycle, model):
    """A sentence summed over units that states an indicator otherwise than its reconciled total
    (here: the units' "tỷ lệ ... đạt 98%" averaged, against the rate weighted by files) is left
    out, and the clerk reads why; every summed sentence left states the totals of the figures."""
    from daemon.report.stated import StatedReader
    from daemon.report.text import number_text

    reader = StatedReader(cycle.campaign.indicators)
    totals = {i.code: i.total for i in model.indicators}
    paras = [p for s in model.sections for p in list(s.paragraphs) + [p for a in s.areas for p in a.paragraphs]]
    summed = [t for p in paras for t in p.traces if len({src.unit_id for src in t.sources}) > 1]
    assert summed
    reported = {i.code: i.reported for i in model.indicators}
    for trace in summed:
        many = len({src.unit_id for src in trace.sources})
        for code, value in reader.read([trace.sentence]).items():
            if 2 * many > reported[code]:  # a breakdown over fewer units may state its own sum
                assert value == pytest.approx(totals[code]), (code, trace.sentence)
    area = model.sections[1].areas[2]  # cải cách hành chính: the units' rates averaged, restated weighted
    text = " ".join(p.text for p in area.paragraphs)
    assert f"đúng hạn đạt {number_text(totals['DV05'])}%" in text and "bình quân" not in text
    assert "Quyết định số 10763/QĐ-UBND giai đoạn 2021 - 2030" in text
    assert any(c.startswith("Câu tổng hợp từ nội dung báo cáo của 25 đơn vị nêu DV05 = ")
               and c.endswith(f"dự thảo ghi số liệu tổng hợp {number_text(totals['DV05'])}.") for c in model.figure_checks)
