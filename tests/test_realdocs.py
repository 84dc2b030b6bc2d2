"""The realistic corpus (tests/realdocs/corpus.json) read through the real reader, field by field.

The non-PDF documents are made here from the corpus description (tests/realdocs_make.py), so the
test does not depend on the committed files being current; PDFs are left to bench/facts.py, since
their text depends on the PDF reader and on LibreOffice's fonts. Each contract fact must be read
right in at least FLOOR of the documents, and the committed files must be what the maker writes.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import realdocs_make
from parsers.document import read_document
from parsers.model import CONTRACT_FACTS, Attachment


def _bench():
    """bench/facts.py as a module (bench/ is scripts, not a package): the test scores as it does."""
    spec = importlib.util.spec_from_file_location("bench_facts", Path(__file__).resolve().parent.parent / "bench" / "facts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


score = _bench().score

FLOOR = 0.95
ENTRIES = [e for e in realdocs_make.load() if e["fmt"] != "pdf"]


@pytest.fixture(scope="module")
def tally(tmp_path_factory):
    folder = tmp_path_factory.mktemp("realdocs")
    for e in ENTRIES:
        name, data = realdocs_make.build(e)
        (folder / name).write_bytes(data)
    return score(ENTRIES, folder)


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
    counts, misses = tally
    right, total = counts[name]
    assert right >= FLOOR * total, [m for m in misses if m[1] == name]


def test_committed_files_are_what_the_maker_writes():
    # Text formats byte for byte; a .docx by what it reads as, so that another python-docx or lxml
    # release (other package bytes) does not fail the test while the documents say the same.
    for e in ENTRIES:
        name, data = realdocs_make.build(e)
        committed = (realdocs_make.CORPUS / name).read_bytes()
        if e["fmt"] == "docx":
            def lines(raw):
                return read_document(Attachment(name, "", raw)).lines
            assert lines(committed) == lines(data), f"run tests/realdocs_make.py ({name})"
        else:
            assert committed == data, f"run tests/realdocs_make.py ({name})"
