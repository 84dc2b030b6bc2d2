"""bench/parse.py runs end to end on a handful of documents. Its figures are not checked: speed
is measured by the script, never gated by a test."""
from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "parse.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_parse", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_parse_bench_runs_on_every_set(bench):
    sets = bench.sample_sets(standard=3, long=1, tcvn3=1)
    out = io.StringIO()
    results = bench.run(n=3, rounds=1, sets=sets, out=out)
    text = out.getvalue()
    assert [r.name for r in results] == ["standard", "long", "tcvn3"]
    for r in results:
        assert set(r.rates) == {"floor", "floor_text", "reader", "docx", "facts"}
        assert all(len(rates) == 1 and rates[0] > 0 for rates in r.rates.values())
        assert r.ratio() > 0 and f"  {r.name}: {r.ratio():.2f}x, target {3 if r.name == 'tcvn3' else 2}x" in text
        assert r.part("docx") > 0 and r.part("facts") > 0
    assert text.startswith("bench/parse.py, ") and "\nmachine: " in text
    standard, long = results[0], results[1]
    assert long.chars > 2 * standard.chars and long.xml_kb > 2 * standard.xml_kb  # really longer


def test_bench_check_refuses_a_document_the_reader_misreads(bench):
    sample = bench.standard_samples(1)[0]
    bench.check([sample])
    with pytest.raises(RuntimeError, match="999/BC-KHAC"):
        bench.check([bench.Sample(sample.name, sample.data, "999/BC-KHAC")])


def test_bench_cli_rejects_a_zero_count(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--n", "0", "--set", "standard"])
    assert exc.value.code == 2
    assert "--n and --rounds must be at least 1" in capsys.readouterr().err


def test_cold_run_empties_the_parsers_memos(bench):
    from parsers import docx_reader, figures, text

    sets = bench.sample_sets(["standard"], standard=2)
    bench.run(n=2, rounds=1, sets=sets, out=io.StringIO())  # warm: the memos fill
    assert docx_reader._RELS_MEMO and docx_reader._STYLE_VERDICTS and figures.cell_number.cache_info().currsize
    out = io.StringIO()
    bench.forget_caches()
    assert not docx_reader._RELS_MEMO and not docx_reader._STYLE_VERDICTS
    assert figures.cell_number.cache_info().currsize == 0 and text.letters_key.cache_info().currsize == 0
    results = bench.run(n=2, rounds=1, sets=sets, out=out, cold=True)
    assert results[0].ratio() > 0 and "memos emptied before each document (--cold)" in out.getvalue()
