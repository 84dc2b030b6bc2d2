#!/usr/bin/env python3
"""Write what the readers make of every test document, one JSON line per document, so that a
speed change can be shown not to change a single reading: run it before and after, then `cmp`.

Usage: python scripts/read_snapshot.py OUT.jsonl [--no-bench-sets] [--no-pdf]

Documents: every file of tests/realdocs and tests/heldout that the reader takes without
LibreOffice (.docx .pdf .html .txt .rtf; the .doc need a converter whose output can vary with
its version), then bench/parse.py's sets (standard, long, tcvn3, real, corpus, real-tcvn3) and
its PDF sets (LibreOffice exports of the standard set, mixed-font PDFs) unless left out. Each
line holds the whole Document (text, tables, problems, every fact with its confidence, sections
and figures) as dataclasses.asdict writes it: a difference anywhere shows.

Issue 17's readers were each checked this way: 240 documents compared byte for byte.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import mimetypes
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from parsers.document import read_document  # noqa: E402
from parsers.model import Attachment  # noqa: E402

SUFFIXES = (".docx", ".pdf", ".html", ".txt", ".rtf")


def committed() -> list[tuple[str, bytes]]:
    paths = sorted(p for folder in ("realdocs", "heldout") for p in (ROOT / "tests" / folder).iterdir()
                   if p.suffix in SUFFIXES)
    return [(f"{p.parent.name}/{p.name}", p.read_bytes()) for p in paths]


def bench_sets(pdf: bool) -> list[tuple[str, bytes]]:
    import parse

    out = [(f"{name}/{s.name}", s.data) for name, samples in parse.sample_sets(parse.SET_NAMES)
           for s in samples]
    if pdf:
        out += [(f"pdf/{s.name}", s.data) for s in parse.pdf_samples() + parse.mixed_pdf_samples()]
    return out


def reading(name: str, data: bytes) -> str:
    filename = name.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    doc = read_document(Attachment(filename=filename, content_type=content_type, data=data))
    return json.dumps({"name": name, "document": dataclasses.asdict(doc)}, ensure_ascii=False,
                      sort_keys=True, default=repr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--no-bench-sets", action="store_true", help="only the committed files")
    ap.add_argument("--no-pdf", action="store_true", help="without the LibreOffice-exported PDFs")
    args = ap.parse_args(argv)
    docs = committed() + ([] if args.no_bench_sets else bench_sets(pdf=not args.no_pdf))
    with args.out.open("w", encoding="utf-8") as out:
        for name, data in docs:
            out.write(reading(name, data) + "\n")
    print(f"{len(docs)} tài liệu -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
