"""The held-out set (tests/heldout/corpus.json) read through the real reader, field by field.

The set was written apart from the fact rules (tests/heldout_make.py), so it checks them on
layouts their author did not write; it holds the same floor as tests/test_realdocs.py on its
non-PDF documents made here in memory (the PDFs and .doc files, made by LibreOffice, are left to
bench/facts.py --corpus tests/heldout).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import heldout_make
from parsers.document import read_document
from parsers.model import CONTRACT_FACTS, Attachment


def _bench():
    spec = importlib.util.spec_from_file_location("bench_facts", Path(__file__).resolve().parent.parent / "bench" / "facts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


score = _bench().score

FLOOR = 0.95
ENTRIES = [e for e in heldout_make.load() if e["fmt"] not in heldout_make.CONVERTED]


@pytest.fixture(scope="module")
def tally(tmp_path_factory):
    folder = tmp_path_factory.mktemp("heldout")
    for e in ENTRIES:
        name, data = heldout_make.build(e)
        (folder / name).write_bytes(data)
    return score(ENTRIES, folder)


def test_set_is_large_and_varied():
    entries = heldout_make.load()
    assert len(entries) >= 30
    assert {e["fmt"] for e in entries} >= {"docx", "txt", "html", "pdf"}
    assert {e["expect"]["type"] for e in entries} >= {"QĐ", "KH", "BC", "CV", "GM", "TB", "NQ", "TTr", "HD"}
    for e in entries:
        assert set(e["expect"]) == set(CONTRACT_FACTS), e["id"]


@pytest.mark.parametrize("name", CONTRACT_FACTS)
def test_each_fact_is_read_right_on_the_held_out_set(tally, name):
    counts, misses = tally
    right, total = counts[name]
    assert right >= FLOOR * total, [m for m in misses if m[1] == name]


def test_committed_files_are_what_the_maker_writes():
    for e in ENTRIES:
        name, data = heldout_make.build(e)
        committed = (heldout_make.HERE / name).read_bytes()
        if e["fmt"] == "docx":
            def lines(raw):
                return read_document(Attachment(name, "", raw)).lines
            assert lines(committed) == lines(data), f"run tests/heldout_make.py ({name})"
        else:
            assert committed == data, f"run tests/heldout_make.py ({name})"
