"""`tonghop demo` end to end: the real command in a child process walks the whole reporting cycle of
the Tháp Mười case (tonghop_demo/story.py) on a Maildir and a directory outbox; then the outcome is
read back the way an office would: `messages --json`, `status --json`, the .eml files in the
outbox and the draft files.

What is expected comes from the story's plan (who sends, when, from which address) and, for the
reminders, from the recorded arrival times: a unit is reminded at a moment exactly when it still
owed something at that moment.
"""
from __future__ import annotations

import email
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from email import policy
from pathlib import Path

import docx
import pytest

from daemon.config_toml import load_config
from tonghop_demo import story as demo_story
from parsers.convert import Converter

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SECONDS = 120  # the demo takes ~10-15 s here; generous for a loaded CI machine


@dataclass
class Run:
    folder: Path
    stdout: str
    stderr: str
    seconds: float

    def cli(self, *args: str) -> str:
        res = subprocess.run([sys.executable, "-m", "daemon.cli", "--config", str(self.folder / "config"), *args],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert res.returncode == 0, res.stderr
        return res.stdout


@dataclass
class Sent:
    kind: str
    to: tuple[str, ...]
    date: datetime
    subject: str
    in_reply_to: str | None
    attachments: tuple[str, ...]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    folder = tmp_path_factory.mktemp("demo") / "demo-run"
    began = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "daemon.cli", "demo", "--dir", str(folder)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=False)
    seconds = time.monotonic() - began
    print(f"\n`tonghop demo` took {seconds:.1f} s")
    assert res.returncode == 0, res.stdout + res.stderr
    return Run(folder, res.stdout, res.stderr, seconds)


@pytest.fixture(scope="module")
def config(run):
    return load_config(run.folder / "config")


@pytest.fixture(scope="module")
def planned(run, config) -> list[demo_story.Arrival]:
    """The story's mail that can be made on this machine (two documents need LibreOffice)."""
    arrivals = demo_story.arrivals(config, config.smtp.path)
    office = Converter().has_office
    return [a for a in arrivals if office or not a.needs_office]


@pytest.fixture(scope="module")
def messages(run) -> list[dict]:
    return json.loads(run.cli("messages", "--json"))


@pytest.fixture(scope="module")
def outbox(config) -> list[Sent]:
    out = []
    for path in sorted(config.smtp.path.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        out.append(Sent(str(msg["X-Tonghop-Kind"]), tuple(a.addr_spec.lower() for a in msg["To"].addresses),
                        msg["Date"].datetime, str(msg["Subject"]),
                        str(msg["In-Reply-To"]) if msg["In-Reply-To"] else None,
                        tuple(p.get_filename() or "" for p in msg.iter_attachments())))
    return out


def test_demo_tells_the_story_within_a_minute(run, config):
    assert run.seconds < LIMIT_SECONDS, f"the demo took {run.seconds:.1f} s"
    assert "Traceback" not in run.stderr and "LỖI" not in run.stderr and "ERROR" not in run.stderr, run.stderr
    total = len(demo_story.MOMENTS)
    for n, moment in enumerate(demo_story.MOMENTS, 1):
        assert f"[{n}/{total}]" in run.stdout and moment.at.strftime("%d/%m/%Y %H:%M") in run.stdout
        assert moment.title in run.stdout
    assert "viết dự thảo bản 1" in run.stdout and "viết dự thảo bản 2" in run.stdout
    assert "STT  Đơn vị" in run.stdout and "Tổng: đúng hạn" in run.stdout  # the status table
    for line in run.stdout.splitlines():  # every path the summary prints exists
        if line.startswith("  ") and ": /" in line:
            assert Path(line.split(": ", 1)[1].strip()).exists(), line
    assert str(config.smtp.path) in run.stdout


def test_every_message_gets_its_decision(messages, planned):
    assert len(messages) == len(planned)
    by_arrival = {(m["from"], datetime.fromisoformat(m["received_at"])): m for m in messages}
    for arrival in planned:
        # received_at is the Maildir file's mtime (the INTERNALDATE), never the Date header
        m = by_arrival[(arrival.sender, arrival.at)]
        assert m["status"] == arrival.expect, (arrival.sender, m["reason"])
        assert m["unit"] == (arrival.unit if arrival.expect == "recorded" else None), m
    statuses = [m["status"] for m in messages]
    assert statuses.count("recorded") == sum(a.expect == "recorded" for a in planned) >= 24
    assert [m["from"] for m in messages if m["status"] == "review"] == [demo_story.UNKNOWN_SENDER]
    assert [m["from"] for m in messages if m["status"] == "ignored"] == [demo_story.AUTO_REPLIER]
    assert "failed" not in statuses
    for m in messages:
        if m["status"] == "recorded":
            assert {s["requirement"] for s in m["submissions"]} <= {"ke-hoach", "bao-cao"} and m["submissions"]


def test_acknowledgements_go_to_each_sender_and_never_to_noise(messages, outbox):
    recorded = [m for m in messages if m["status"] == "recorded"]
    acks = [s for s in outbox if s.kind == "ack"]
    assert sorted((a.to, a.in_reply_to) for a in acks) == sorted(((m["from"],), m["message_id"]) for m in recorded)
    noise = {demo_story.AUTO_REPLIER, demo_story.UNKNOWN_SENDER}
    assert not [s for s in outbox if noise & set(s.to)]
    ignored_ids = {m["message_id"] for m in messages if m["status"] != "recorded"}
    assert not [s for s in outbox if s.in_reply_to in ignored_ids]
    reviews = [s for s in outbox if s.kind == "review"]
    assert len(reviews) == 1 and reviews[0].attachments  # the original mail, for the clerk to look at


def owed_at(moment: datetime, messages: list[dict], config) -> dict[str, set[str]]:
    """unit id -> requirements it had not sent by `moment`, from the recorded arrival times."""
    campaign = config.campaign("dan-van")
    sent = {(m["unit"], s["requirement"]) for m in messages if m["status"] == "recorded"
            and datetime.fromisoformat(m["received_at"]) <= moment for s in m["submissions"]}
    owed = {u: {r.id for r in campaign.requirements if (u, r.id) not in sent} for u in campaign.unit_ids}
    return {u: reqs for u, reqs in owed.items() if reqs}


def moment_of(sent: Sent) -> datetime:
    return max(m.at for m in demo_story.MOMENTS if m.at <= sent.date)


def test_reminders_and_overdue_notices_go_only_to_units_still_owing(messages, outbox, config):
    unit_of = {a: u.id for u in config.units for a in u.emails}
    chased = {}
    for s in outbox:
        if s.kind in ("reminder", "overdue"):
            chased.setdefault((s.kind, moment_of(s)), set()).add(unit_of[s.to[0]])
    tz = config.office.timezone
    expected_moments = {
        ("reminder", datetime(2024, 10, 11, 8, 5, tzinfo=tz)), ("reminder", datetime(2024, 10, 17, 8, 5, tzinfo=tz)),
        ("reminder", datetime(2024, 10, 18, 8, 5, tzinfo=tz)), ("overdue", datetime(2024, 10, 21, 8, 5, tzinfo=tz)),
        ("overdue", datetime(2024, 10, 24, 8, 5, tzinfo=tz)),
    }
    assert set(chased) == expected_moments
    for (kind, moment), units in chased.items():
        assert units == set(owed_at(moment, messages, config)), (kind, moment)
    # the last ones chased are exactly those that never sent; the late unit was chased before
    assert chased[("overdue", datetime(2024, 10, 24, 8, 5, tzinfo=tz))] >= set(demo_story.NEVER_SEND)
    assert demo_story.LATE in chased[("reminder", datetime(2024, 10, 18, 8, 5, tzinfo=tz))]
    # Phòng Tư pháp sent its report first: its reminder asks for the plan only
    tu_phap = [s for s in outbox if s.kind == "reminder" and unit_of[s.to[0]] == "phong-tu-phap"]
    assert len(tu_phap) == 1 and "kế hoạch" in tu_phap[0].subject and "báo cáo" not in tu_phap[0].subject


def test_two_draft_versions_reach_the_staff_with_their_tables(outbox, config, run):
    drafts = sorted((s for s in outbox if s.kind == "draft"), key=lambda s: s.date)
    assert len(drafts) == 2
    for version, mail in enumerate(drafts, 1):
        assert set(mail.to) == set(config.office.staff)
        assert {Path(a).suffix for a in mail.attachments} == {".docx", ".xlsx"}
        assert sum(a.endswith("-ghi-chu.docx") for a in mail.attachments) == 1  # the clerk's notes
        assert all(f"-v{version}." in a or f"-v{version}-ghi-chu." in a for a in mail.attachments)
    folder = config.storage.root / "drafts" / "dan-van" / "2024"
    texts = {}
    for version in (1, 2):
        files = {p.suffix: p for p in (folder / f"v{version}").iterdir() if not p.stem.endswith("-ghi-chu")}
        assert files[".xlsx"].stat().st_size > 0
        texts[version] = "\n".join(p.text for p in docx.Document(str(files[".docx"])).paragraphs)
    late = config.unit(demo_story.LATE).name
    assert "1 đơn vị gửi trễ hạn" not in texts[1] and f"gửi trễ hạn ({late})" in texts[2]
    missing_v1 = next(line for line in texts[1].splitlines() if "chưa gửi" in line)
    assert late in missing_v1
    # The clerk's notes of v2 say what changed since v1 and list every sentence's sources.
    notes_v2 = next((folder / "v2").glob("*-ghi-chu.docx"))
    notes = docx.Document(str(notes_v2))
    said = "\n".join(p.text for p in notes.paragraphs)
    assert "So với phiên bản trước, có văn bản mới của 1 đơn vị" in said and late in said
    sources = notes.tables[0]
    assert sources.rows[0].cells[1].text == "Câu trong dự thảo" and len(sources.rows) > 10
    assert any(late in row.cells[2].text for row in sources.rows[1:])


def test_status_at_the_end(run, planned, config):
    doc = json.loads(run.cli("--now", "2024-10-24T09:00", "status", "--json"))
    (campaign,) = doc["campaigns"]
    sent = {a.unit for a in planned if a.expect == "recorded"}
    for unit in campaign["units"]:
        statuses = {s["status"] for s in unit["submissions"].values()}
        if unit["id"] == demo_story.LATE:
            assert statuses == {"late"}
        elif unit["id"] in sent:
            assert statuses == {"on_time"}, unit
        else:
            assert statuses == {"missing"}, unit
    assert set(demo_story.NEVER_SEND) <= {u["id"] for u in campaign["units"]} - sent


def test_the_filled_form_of_phong_lao_dong_is_in_the_draft(run, config):
    """Phòng Lao động sends its report without a table and the campaign's form filled in .xlsx:
    intake records the form's values in the figures table; the draft must show them in Phụ lục II
    (its own line) and count them in the totals (formulas over every unit's line, one per
    indicator); its report's text says 500 files where its form says 612: one total, and the
    disagreement is listed in "Cần kiểm tra"."""
    import sqlite3

    import openpyxl

    ledger = sqlite3.connect(config.storage.db_path)
    recorded = dict(ledger.execute("select code, value from figures where unit_id = 'phong-lao-dong'").fetchall())
    ledger.close()
    assert recorded and recorded["DV02"] == 146 and recorded["DV04"] == 612
    name = config.unit("phong-lao-dong").name
    for version in (1, 2):
        (xlsx,) = (config.storage.root / "drafts" / "dan-van" / "2024" / f"v{version}").glob("*.xlsx")
        wb = openpyxl.load_workbook(xlsx)
        ws = wb["Phụ lục II"]
        rows = [tuple(c.value for c in r) for r in ws.iter_rows()]
        header = next(r for r in rows if r[:2] == ("STT", "Đơn vị"))
        codes = [h.rsplit("\n", 1)[1] for h in header[2:]]
        start = rows.index(header) + 1
        lines = [r for r in rows[start:] if r[1] and r[1] != "Tổng hợp"]
        totals = next(r for r in rows[start:] if r[1] == "Tổng hợp")
        mine = next((r for r in lines if r[1] == name), None)
        assert mine is not None, f"v{version}: {name} missing from Phụ lục II"
        for code, value in recorded.items():
            assert mine[2 + codes.index(code)] == value, (version, code)
        # One total per indicator: a formula over all the units' rows, and the totals sheet points to it.
        first, last = start + 1, start + len(lines)
        for k, code in enumerate(codes):
            assert totals[2 + k].startswith("=") and f"{first}:" in totals[2 + k] and f"{last})" in totals[2 + k]
        by_code = {r[0]: r[3] for r in wb["Tổng hợp theo chỉ tiêu"].iter_rows(values_only=True) if r[0] in codes}
        assert len(by_code) == len(codes) and all(v.startswith("='Phụ lục II'!") for v in by_code.values())
        checks = [r[1] for r in wb["Cần kiểm tra"].iter_rows(values_only=True) if isinstance(r[0], int)]
        assert any(c.startswith(f"{name}: DV04") and "biểu số liệu ghi 612, nội dung báo cáo ghi 500" in c
                   for c in checks), checks


def test_draft_command_prints_the_draft_its_tables_and_the_notes(run, tmp_path):
    out = run.cli("--now", "2024-10-24T09:00", "draft", "dan-van", "--out", str(tmp_path))
    paths = [Path(line) for line in out.splitlines() if line.strip()]
    assert [p.suffix for p in paths] == [".docx", ".xlsx", ".docx"] and all(p.is_file() for p in paths)
    assert paths[2].name == paths[0].stem + "-ghi-chu.docx"
    said = "\n".join(p.text for p in docx.Document(str(paths[2])).paragraphs)
    # Compared with v2 (the last version the service wrote), nothing new has arrived.
    assert "Không có văn bản mới so với phiên bản trước." in said
