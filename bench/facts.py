#!/usr/bin/env python3
"""ND30 facts read right, field by field, over the realistic corpus in tests/realdocs/.

Usage: python bench/facts.py [--verbose] [--make] [--no-pdf] [--corpus DIR] [--dir DIR]
  --corpus   the set to score: a folder holding corpus.json and its files (default tests/realdocs;
             tests/heldout is the held-out set, made apart from the rules by tests/heldout_make.py)
  --dir      where the set's files are, when not beside its corpus.json
  --make     regenerate the corpus files first (the set's maker; PDFs only if missing)
  --no-pdf   leave the PDFs out (their text depends on the PDF reader and LibreOffice's fonts)
  --verbose  list every miss: document, field, expected, read

Each document is read as `tonghop inspect --json` reads it (parsers.document.read_file, then
document_to_json) and each contract fact is compared with the hand-written expectation in
tests/realdocs/corpus.json after NFC and whitespace squashing; nothing else is forgiven (case,
punctuation, a missing fact and an extra one all count as misses). Not a test: it prints figures.
Target: every field >= 95%. tests/test_realdocs.py holds the floor on the non-PDF documents.
"""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from parsers.document import document_to_json, read_file  # noqa: E402
from parsers.model import CONTRACT_FACTS  # noqa: E402

import heldout_make  # noqa: E402
import realdocs_make  # noqa: E402

# Each set's maker, by its folder's name: both write <id>.<fmt> files from <folder>/corpus.json.
MAKERS = {"realdocs": realdocs_make, "heldout": heldout_make}

TARGET = 0.95


def norm(value) -> str | None:
    if value is None:
        return None
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def read_facts(path: Path) -> dict:
    docs = read_file(path)
    return document_to_json(docs[0])["facts"] if docs else {}


def score(entries: list[dict], folder: Path) -> tuple[dict[str, list[int]], list[tuple[str, str, str, str]]]:
    """Per field [right, total], and the misses (document, field, expected, read)."""
    tally = {name: [0, 0] for name in CONTRACT_FACTS}
    misses = []
    for e in entries:
        got = read_facts(folder / f"{e['id']}.{e['fmt']}")
        for name in CONTRACT_FACTS:
            want, have = norm(e["expect"][name]), norm(got.get(name))
            tally[name][1] += 1
            if want == have:
                tally[name][0] += 1
            else:
                misses.append((e["id"], name, want, have))
    return tally, misses


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--make", action="store_true")
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--corpus", type=Path, default=realdocs_make.CORPUS)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args(argv)
    folder = args.dir or args.corpus
    if args.make:
        MAKERS[args.corpus.resolve().name].main([str(folder)])
    entries = json.loads((args.corpus / "corpus.json").read_text(encoding="utf-8"))["documents"]
    entries = [e for e in entries if not (args.no_pdf and e["fmt"] == "pdf")]
    tally, misses = score(entries, folder)
    kinds = {}
    for e in entries:
        kinds[e["fmt"]] = kinds.get(e["fmt"], 0) + 1
    print(f"{len(entries)} documents ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    right = total = 0
    for name, (r, t) in tally.items():
        right, total = right + r, total + t
        flag = "" if r >= TARGET * t else "  < 95%"
        print(f"{name:13} {r:3}/{t:<3} {100 * r / t:5.1f}%{flag}")
    print(f"{'overall':13} {right:3}/{total:<3} {100 * right / total:5.1f}%")
    if args.verbose:
        for doc_id, name, want, have in misses:
            print(f"  {doc_id}: {name}: expected {want!r}, read {have!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
