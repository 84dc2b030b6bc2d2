"""The held-out set (tests/heldout/corpus.json) read through the real reader, field by field.

The set was written apart from the fact rules (tests/heldout_make.py), so it checks them on
layouts their author did not write; it holds the same floor as tests/test_realdocs.py on its
non-PDF documents made here in memory (the PDFs and .doc files, made by LibreOffice, are left to
bench/facts.py --corpus tests/heldout).
"""
from __future__ import annotations

import pytest

import corpus_checks as C
import heldout_make
from parsers.model import CONTRACT_FACTS

ENTRIES = [e for e in heldout_make.load() if e["fmt"] not in heldout_make.CONVERTED]


@pytest.fixture(scope="module")
def tally(tmp_path_factory):
    return C.tally(heldout_make, ENTRIES, tmp_path_factory.mktemp("heldout"))


def test_set_is_large_and_varied():
    entries = heldout_make.load()
    assert len(entries) >= 30
    assert {e["fmt"] for e in entries} >= {"docx", "txt", "html", "pdf"}
    assert {e["expect"]["type"] for e in entries} >= {"QĐ", "KH", "BC", "CV", "GM", "TB", "NQ", "TTr", "HD"}
    for e in entries:
        assert set(e["expect"]) == set(CONTRACT_FACTS), e["id"]


@pytest.mark.parametrize("name", CONTRACT_FACTS)
def test_each_fact_is_read_right_on_the_held_out_set(tally, name):
    C.assert_fact_floor(tally, name)


def test_committed_files_are_what_the_maker_writes():
    C.assert_committed_files_current(heldout_make, ENTRIES, heldout_make.HERE, "tests/heldout_make.py")
