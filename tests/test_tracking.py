"""The clerk's tracking workbook (daemon/report/tracking.py) says, cell by cell, what status --json
says: each unit's status word, number, date and arrival per requirement, in its colour. Built on
the draft's realistic cycle (on time, late, missing, replaced), so a workbook that wrote "đúng hạn"
for every unit, or shifted a column, fails here."""
from __future__ import annotations

from datetime import datetime

import pytest

from daemon.clock import local_text
from daemon.report import tracking
from daemon.status import STATUS_WORDS, status_document
from draft_cycle import NOW, build_cycle


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    c = build_cycle(tmp_path_factory.mktemp("tracking"))
    yield c
    c.store.close()


def test_every_cell_matches_status_json(cycle):
    rows = cycle.store.submissions()
    doc = status_document(cycle.config, rows, NOW)
    book = tracking.workbook(cycle.config, rows, NOW)
    tz = cycle.config.office.timezone
    seen = set()
    for campaign in doc["campaigns"]:
        ws = book[f"{campaign['id']} {campaign['cycle']}"[:31]]
        for n, unit in enumerate(campaign["units"], 1):
            row = [c.value for c in ws[4 + n]]
            assert row[:2] == [n, unit["name"]]
            for k, req in enumerate(campaign["requirements"]):
                sub = unit["submissions"][req["id"]]
                status, number, day, received = row[2 + 4 * k: 6 + 4 * k]
                assert status == STATUS_WORDS[sub["status"]], (unit["id"], req["id"])
                assert number == (sub["doc_number"] or "")
                assert day == (datetime.fromisoformat(sub["doc_date"]).strftime("%d/%m/%Y") if sub["doc_date"] else "")
                assert received == local_text(sub["received_at"], tz)
                fill = ws.cell(row=4 + n, column=3 + 4 * k).fill.fgColor.rgb
                assert fill.endswith(tracking.FILLS[sub["status"]])
                seen.add(sub["status"])
    assert seen == {"on_time", "late", "missing"}  # the cycle really has all three


def test_late_and_missing_units_are_not_written_on_time(cycle):
    rows = cycle.store.submissions()
    ws = tracking.workbook(cycle.config, rows, NOW)["dan-van 2024"]
    by_name = {r[1].value: [c.value for c in r] for r in ws.iter_rows(min_row=5) if r[1].value}
    report_col = 2 + 4 * [r.id for r in cycle.campaign.requirements].index("bao-cao")
    for uid in cycle.late:
        assert by_name[cycle.config.unit(uid).name][report_col] == "trễ hạn"
    for uid in cycle.missing:
        assert by_name[cycle.config.unit(uid).name][report_col] == "chưa nộp"
