"""What tests/test_realdocs.py and tests/test_heldout.py share: each builds its documents with its
maker (tests/realdocs_make.py, tests/heldout_make.py), scores them as bench/facts.py does, holds a
floor per contract fact, and checks that the committed files are what the maker writes."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from parsers.document import read_document
from parsers.model import Attachment

FLOOR = 0.95


def _bench():
    """bench/facts.py as a module (bench/ is scripts, not a package): the tests score as it does."""
    spec = importlib.util.spec_from_file_location("bench_facts", Path(__file__).resolve().parent.parent / "bench" / "facts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


score = _bench().score


def tally(maker, entries: list[dict], folder: Path):
    """Write each entry's document into folder with its maker and score them all."""
    for e in entries:
        name, data = maker.build(e)
        (folder / name).write_bytes(data)
    return score(entries, folder)


def assert_fact_floor(counts_misses, name: str) -> None:
    counts, misses = counts_misses
    right, total = counts[name]
    assert right >= FLOOR * total, [m for m in misses if m[1] == name]


def assert_committed_files_current(maker, entries: list[dict], folder: Path, script: str) -> None:
    # Text formats byte for byte; a .docx by what it reads as, so that another python-docx or lxml
    # release (other package bytes) does not fail the test while the documents say the same.
    for e in entries:
        name, data = maker.build(e)
        committed = (folder / name).read_bytes()
        if e["fmt"] == "docx":
            def lines(raw):
                return read_document(Attachment(name, "", raw)).lines
            assert lines(committed) == lines(data), f"run {script} ({name})"
        else:
            assert committed == data, f"run {script} ({name})"
