"""The realistic corpus (tests/realdocs/corpus.json) read through the real reader, field by field.

The non-PDF documents are made here from the corpus description (tests/realdocs_make.py), so the
test does not depend on the committed files being current; PDFs are left to bench/facts.py, since
their text depends on the PDF reader and on LibreOffice's fonts. Each contract fact must be read
right in at least FLOOR of the documents, and the committed files must be what the maker writes.
"""
from __future__ import annotations

import pytest

import corpus_checks as C
import realdocs_make
from parsers.model import CONTRACT_FACTS

ENTRIES = [e for e in realdocs_make.load() if e["fmt"] != "pdf"]


@pytest.fixture(scope="module")
def tally(tmp_path_factory):
    return C.tally(realdocs_make, ENTRIES, tmp_path_factory.mktemp("realdocs"))


def test_corpus_is_large_and_varied():
    entries = realdocs_make.load()
    assert len(entries) >= 40
    assert {e["fmt"] for e in entries} >= {"docx", "txt", "html", "rtf", "pdf"}
    assert {e.get("head", "table") for e in entries} >= {"table", "tabs", "stacked", "interleaved", "layout"}
    assert {e["expect"]["type"] for e in entries} >= {"QĐ", "TT", "NĐ", "KH", "BC", "CV", "GM", "TB"}
    assert sum(e["fmt"] == "pdf" for e in entries) * 5 < len(entries)  # PDFs stay a minority
    for e in entries:
        assert set(e["expect"]) == set(CONTRACT_FACTS), e["id"]


@pytest.mark.parametrize("name", CONTRACT_FACTS)
def test_each_fact_is_read_right_on_the_corpus(tally, name):
    C.assert_fact_floor(tally, name)


def test_committed_files_are_what_the_maker_writes():
    C.assert_committed_files_current(realdocs_make, ENTRIES, realdocs_make.CORPUS, "tests/realdocs_make.py")
