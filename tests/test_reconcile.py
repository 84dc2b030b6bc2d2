"""Figures reconciled (daemon.report.figures.reconcile): pure, over typed records, no ledger.

One value per indicator and unit (form, then the report's table, then its text), one total per
indicator equal to the sum of those values, rates recomputed from their parts, and every
disagreement a check line for the clerk instead of a second total."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from daemon.config import Campaign, FigureRules, RateRule
from daemon.config_toml import load_config
from daemon.report.figures import FORM, TABLE, TEXT, UnitFigures, reconcile
from daemon.report.stated import StatedReader
from parsers.figures import Indicator
from parsers.model import Figure

CONFIG = Path(__file__).resolve().parents[1] / "config"
INDICATORS = (
    Indicator("DV01", "Số cuộc tuyên truyền, quán triệt Chỉ thị số 33/CT-TTg", "cuộc"),
    Indicator("DV04", "Số hồ sơ thủ tục hành chính tiếp nhận", "hồ sơ"),
    Indicator("DV05", "Tỷ lệ hồ sơ giải quyết đúng hạn", "%"),
    Indicator("DV07", "Số đơn khiếu nại, tố cáo, kiến nghị, phản ánh tiếp nhận", "đơn"),
    Indicator("DV08", "Số đơn đã giải quyết", "đơn"),
)


def campaign(rules: FigureRules = FigureRules(rates=(RateRule("DV05", "DV04"),), at_most=(("DV08", "DV07"),))):
    return Campaign(id="dan-van", title="t", recurrence="yearly", opens="01-01", unit_ids=(), requirements=(),
                    source=Path("x.toml"), indicators=INDICATORS, figure_rules=rules)


def table(**values) -> tuple[Figure, ...]:
    return tuple(Figure(row=next(i.name for i in INDICATORS if i.code == code), column="Số liệu", value=v, code=code)
                 for code, v in values.items())


def totals_of(result):
    return {t.code: t for t in result.totals}


def test_one_total_per_indicator_equal_to_the_sum_of_the_units_values():
    units = [
        UnitFigures("a", "Phòng Tư pháp", recorded={"DV01": 5, "DV04": 100, "DV05": 90}),  # form only
        UnitFigures("b", "UBND xã Mỹ Hòa", table=table(DV01=3, DV04=300, DV05=100, DV07=4, DV08=4)),  # table only
        UnitFigures("c", "UBND xã Thanh Mỹ", texts=["Tổ chức 2 cuộc quán triệt, tuyên truyền Chỉ thị số 33/CT-TTg; "
                                                     "tiếp nhận 50 hồ sơ thủ tục hành chính."]),  # text only
        UnitFigures("d", "Phòng Y tế"),  # nothing: no line
    ]
    result = reconcile(campaign(), units)
    assert [x.unit_id for x in result.lines] == ["a", "b", "c"]
    totals = totals_of(result)
    codes = [t.code for t in result.totals]
    for code in ("DV01", "DV04", "DV07", "DV08"):
        column = [x.values[codes.index(code)] for x in result.lines if x.values[codes.index(code)] is not None]
        assert totals[code].total == sum(column) and totals[code].method == "sum"
    assert totals["DV01"].total == 10 and totals["DV04"].total == 450
    assert result.lines[2].sources[codes.index("DV04")] == TEXT
    assert result.lines[0].sources[codes.index("DV01")] == FORM and result.lines[1].sources[0] == TABLE
    # The unit whose only source was its text is named once for the clerk.
    assert any(c.startswith("UBND xã Thanh Mỹ: 2 chỉ tiêu") and "DV04 = 50" in c for c in result.checks)


def test_the_rate_is_weighted_by_its_denominator_not_a_mean_of_rates():
    units = [UnitFigures("a", "A", recorded={"DV04": 100, "DV05": 90}),
             UnitFigures("b", "B", recorded={"DV04": 900, "DV05": 100}),
             UnitFigures("c", "C", recorded={"DV05": 50})]  # no denominator: left out, and said so
    result = reconcile(campaign(), units)
    rate = totals_of(result)["DV05"]
    assert rate.method == "weighted" and rate.total == 99.0 and rate.reported == 2  # not (90+100+50)/3
    assert rate.denominator == "DV04" and "bình quân" not in rate.total_text
    assert any(c.startswith("C: có DV05") and "không tính vào tỷ lệ chung" in c for c in result.checks)
    # Without the rule, a rate is a plain mean and says so.
    plain = totals_of(reconcile(campaign(FigureRules()), units))["DV05"]
    assert plain.method == "mean" and plain.total == 80.0 and plain.total_text == "80 (bình quân)"


def test_a_rate_from_a_numerator_and_a_denominator():
    rules = FigureRules(rates=(RateRule("DV05", "DV07", "DV08"),))
    units = [UnitFigures("a", "A", recorded={"DV07": 10, "DV08": 9}), UnitFigures("b", "B", recorded={"DV07": 30, "DV08": 30})]
    rate = totals_of(reconcile(campaign(rules), units))["DV05"]
    assert rate.method == "ratio" and rate.total == 97.5 and rate.numerator == "DV08"


def test_text_and_form_disagree_one_total_and_a_conflict_line():
    """Phòng Lao động in the demo: its form says 612 files, its report's text 500."""
    text = ("Triển khai Kế hoạch cải cách hành chính theo Quyết định số 10763/QĐ-UBND giai đoạn 2021 - 2030; tiếp "
            "nhận 500 hồ sơ thủ tục hành chính, tỷ lệ giải quyết đúng hạn đạt 98%.")
    units = [UnitFigures("ld", "Phòng Lao động - Thương binh và Xã hội", recorded={"DV04": 612, "DV05": 98.7},
                         texts=[text]),
             UnitFigures("tp", "Phòng Tư pháp", recorded={"DV04": 88, "DV05": 100})]
    result = reconcile(campaign(), units)
    totals = totals_of(result)
    assert totals["DV04"].total == 700  # 612 + 88, once: never 612 and 500 side by side
    assert len([t for t in result.totals if t.code == "DV04"]) == 1
    conflict = [c for c in result.checks if "DV04" in c]
    assert conflict == ["Phòng Lao động - Thương binh và Xã hội: DV04 (Số hồ sơ thủ tục hành chính tiếp nhận): "
                        "biểu số liệu ghi 612, nội dung báo cáo ghi 500; dự thảo dùng số liệu của biểu số liệu, "
                        "đề nghị đơn vị xác nhận."]
    assert any("DV05" in c and "ghi 98,7" in c and "ghi 98;" in c for c in result.checks)


def test_form_against_table_versions_ranges_and_pairs():
    units = [
        UnitFigures("a", "UBND xã Mỹ An", recorded={"DV01": 4}, table=table(DV01=6), earlier={"DV01": 3}),
        UnitFigures("b", "UBND xã Phú Điền", recorded={"DV04": -5, "DV05": 120, "DV07": 3, "DV08": 5}),
    ]
    result = reconcile(campaign(), units)
    checks = "\n".join(result.checks)
    assert "UBND xã Mỹ An: DV01 (Số cuộc tuyên truyền, quán triệt Chỉ thị số 33/CT-TTg): biểu số liệu ghi 4, bảng số " \
           "liệu trong báo cáo ghi 6" in checks
    assert "UBND xã Mỹ An: DV01 (Số cuộc tuyên truyền, quán triệt Chỉ thị số 33/CT-TTg): bản gửi trước ghi 3, bản " \
           "gửi sau ghi 4" in checks
    assert "UBND xã Phú Điền: DV04 (Số hồ sơ thủ tục hành chính tiếp nhận) có giá trị âm (-5); không tính vào " \
           "tổng hợp." in checks
    assert "tỷ lệ lớn hơn 100% (120)" in checks
    assert "UBND xã Phú Điền: DV08 (Số đơn đã giải quyết) (5) lớn hơn DV07" in checks
    totals = totals_of(result)
    assert totals["DV01"].total == 4 and totals["DV04"].total is None and totals["DV05"].total is None
    assert totals["DV08"].total == 5  # a pair out of order is flagged, the value still counts


def test_the_text_reader_is_cautious():
    reader = StatedReader(INDICATORS)
    text = ("Tiếp nhận 10 đơn khiếu nại, tố cáo, kiến nghị, phản ánh, đã giải quyết 9 đơn. Năm 2024 tổ chức 3 cuộc "
            "quán triệt, tuyên truyền Chỉ thị. Quyết định số 311-QĐ/TU.")
    assert reader.read([text]) == {"DV07": 10, "DV08": 9, "DV01": 3}
    # The same indicator stated with two numbers: not read at all.
    assert "DV01" not in reader.read([text, "Tổ chức 5 cuộc tuyên truyền, quán triệt Chỉ thị."])
    # A number without the unit, or a unit without the indicator's words, is not a figure.
    assert reader.read(["Có 12 cán bộ tham gia; 4 cuộc họp giao ban."]) == {}


def test_the_example_config_defines_the_rate_and_the_pair():
    camp = next(c for c in load_config(CONFIG).campaigns if c.id == "dan-van")
    assert camp.figure_rules.rates == (RateRule("DV05", "DV04"),)
    assert camp.figure_rules.at_most == (("DV08", "DV07"),)


def test_figures_config_mistakes_are_named(tmp_path):
    import shutil

    from daemon.config import ConfigError

    shutil.copytree(CONFIG, tmp_path / "c")
    path = tmp_path / "c" / "campaigns" / "dan-van.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('rates = [["DV05", "DV04"]]', 'rates = [["DV05", "DV99"]]')
                    .replace('at_most = [["DV08", "DV07"]]', 'at_most = "DV08"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "c")
    text = str(err.value)
    assert "figures.rates" in text and "DV99" in text and "figures.at_most" in text


def test_no_form_no_indicators_no_text_reading():
    bare = replace(campaign(), indicators=())
    result = reconcile(bare, [UnitFigures("a", "A", texts=["tiếp nhận 500 hồ sơ thủ tục hành chính"])])
    assert result.totals == () and result.checks == ()
