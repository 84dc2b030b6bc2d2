"""bench/latency.py, backlog.py and memory.py run end to end on a few messages against the real
servers. Their figures are not checked (speed is measured by the scripts, never gated by a test);
what they count is: every message recorded, answered, and the machine they ran on printed."""
from __future__ import annotations

import importlib
import io
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        yield {name: importlib.import_module(name) for name in ("_servers", "latency", "backlog", "memory")}
    finally:
        sys.path.remove(str(BENCH))


def test_backlog_bench_processes_every_message_and_prints_its_ratio(bench):
    out = io.StringIO()
    result = bench["backlog"].run(6, floor_rounds=1, out=out)
    text = out.getvalue()
    assert result["check"]["ok"], result["check"]
    assert result["check"]["statuses"] == {"recorded": 6} and result["check"]["acks_queued"] == 6
    assert result["check"]["sink_received"] >= 6 and result["floor"] > 0 and result["processing"] > 0
    assert "\nmachine: " in text and "ratio to the floor: processing" in text
    assert 30 < result["peak_rss_mb"] < 1000  # the daemon's own VmHWM, reported by bench/_probe.py


def test_latency_bench_times_each_acknowledgement_and_its_parts(bench):
    out = io.StringIO()
    result = bench["latency"].run(3, warm=1, out=out)
    assert result["missed"] == 0 and len(result["samples"]) == 3
    for sample in result["samples"]:
        parts = sample["append"] + sample["dovecot"] + sample["ours"] + sample["smtp"]
        assert all(sample[k] >= 0 for k in ("append", "dovecot", "ours", "smtp"))
        assert abs(parts - sample["total"]) < 1e-6
    assert "p95" in out.getvalue() and "\nmachine: " in out.getvalue()


def test_memory_bench_reports_the_daemons_own_peak(bench):
    out = io.StringIO()
    results = bench["memory"].run([4], [], out=out)
    assert [r["case"] for r in results] == ["baseline (one 40 KB .docx)", "backlog of 4"]
    assert results[0]["statuses"] == {"recorded": 1} and results[1]["statuses"] == {"recorded": 4}
    assert all(30 < r["peak_mb"] < 1000 and r["code"] == 0 for r in results)
    assert "highest peak" in out.getvalue()


def test_the_big_attachments_are_as_big_as_asked(bench):
    memory = bench["memory"]
    png = memory.noise_png(0.3)
    assert png.startswith(b"\x89PNG") and 280_000 < len(png) < 330_000
    unit = bench["_servers"].units()[0]
    assert 280_000 < len(memory.big_docx(unit, 0.3)) < 400_000
