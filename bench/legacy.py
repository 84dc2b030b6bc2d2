#!/usr/bin/env python3
"""Word recall of legacy-font documents, per encoding kind and per file format.

Usage: python bench/legacy.py [--no-office] [--speed-only] [--rounds N]
Not a test: it prints figures. The documents are made here (tests/legacy_samples.py): ND30
reports typed in TCVN3 (.VnTime with .VnTimeH headings, .VnArial with .VnArialH) and in VNI,
lines mixing TCVN3, VNI and Unicode runs, and symbol-font bullets, each written as .docx,
.doc (LibreOffice from the .docx), .rtf, .html and .xls (LibreOffice from an .xlsx with cell
fonts). Each is read by parsers.document.read_document, with LibreOffice and without it (the
fallback paths: .doc binary text, .rtf font table, xlrd), and scored against the Unicode text
it was made from: recall = words of the original found in what was read (with multiplicity,
case-sensitive, so a lower-cased H-font heading counts as missed), and spurious = words read
that the original does not have (a bullet read as a letter).

Then the conversion speed (skipped with --no-office): each legacy file (.doc, .xls, .rtf)
converted to OOXML by a cold soffice per file (the path of `tonghop inspect` and the fallback)
and by the resident pool of `tonghop run` (parsers/convert_pool.py), median of --rounds rounds
per file, the median over the .doc files, and the resident's start-up (pool start to the first
file converted). Figures only; nothing fails on speed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import legacy_samples as S  # noqa: E402
from parsers.convert import Converter, new_resident_pool  # noqa: E402
from parsers.document import read_document  # noqa: E402
from parsers.model import Attachment  # noqa: E402

NO_TOOLS = Converter(soffice="/nonexistent/soffice", tesseract="/nonexistent/tesseract",
                     pdftoppm="/nonexistent/pdftoppm")


def files(lo: Converter | None):
    """(sample name, format, bytes, expected text) for every sample and format."""
    for name, paragraphs in S.SAMPLES.items():
        expected = "\n".join(S.expected_lines(paragraphs))
        docx = S.to_docx(paragraphs)
        yield name, "docx", docx, expected
        yield name, "rtf", S.to_rtf(paragraphs), expected
        yield name, "html", S.to_html(paragraphs), expected
        if lo is not None:
            yield name, "doc", lo.convert(docx, ".docx", "doc"), expected
            xls = lo.convert(S.to_xlsx(paragraphs), ".xlsx", "xls")
            yield name, "xls", xls, "\n".join(S.expected_cells(paragraphs))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def speed(rounds: int) -> None:
    """Cold vs resident conversion, per legacy file."""
    cold = Converter(pool=False)
    legacy = []
    for name, paragraphs in S.SAMPLES.items():
        legacy.append((f"{name}.doc", cold.convert(S.to_docx(paragraphs), ".docx", "doc")))
        legacy.append((f"{name}.xls", cold.convert(S.to_xlsx(paragraphs), ".xlsx", "xls")))
        legacy.append((f"{name}.rtf", S.to_rtf(paragraphs)))

    def job(conv: Converter, name: str, data: bytes):
        suffix = os.path.splitext(name)[1]
        if suffix == ".xls":
            return lambda: conv.to_xlsx(data, suffix)
        return lambda: conv.to_docx(data, suffix)

    pool = new_resident_pool(1, timeout=60)
    warm = Converter(pool=pool)
    try:
        t0 = time.perf_counter()
        pool.start()
        started = time.perf_counter() - t0
        first = _timed(job(warm, *legacy[0]))
        print()
        print(f"resident start-up: {started:.2f} s to start LibreOffice, first file ({legacy[0][0]}) "
              f"{first:.3f} s, together {started + first:.2f} s")
        print(f"{'file':16} {'cold s':>8} {'resident s':>10} {'ratio':>6} {'read, resident s':>16}"
              f"   (median of {rounds} rounds; read = read_document whole)")
        rows = []
        for name, data in legacy:
            c = statistics.median(_timed(job(cold, name, data)) for _ in range(rounds))
            r = statistics.median(_timed(job(warm, name, data)) for _ in range(rounds))
            att = Attachment(filename=name, content_type="", data=data)
            whole = statistics.median(_timed(lambda: read_document(att, converter=warm)) for _ in range(rounds))
            rows.append((name, c, r))
            print(f"{name:16} {c:8.3f} {r:10.3f} {c / r:5.1f}x {whole:16.3f}")
        for ext in (".doc", ".xls", ".rtf"):
            sel = [(c, r) for n, c, r in rows if n.endswith(ext)]
            c = statistics.median(x[0] for x in sel)
            r = statistics.median(x[1] for x in sel)
            print(f"{'median ' + ext:16} {c:8.3f} {r:10.3f} {c / r:5.1f}x")
        print(f"resident failures (went cold): {pool.failures}, converters started: {pool.starts}, "
              f"cold runs on the resident converter: {warm.cold_runs}")
    finally:
        pool.close()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-office", action="store_true", help="skip the files LibreOffice makes")
    ap.add_argument("--speed-only", action="store_true", help="only cold vs resident conversion times")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per file for the times (median)")
    args = ap.parse_args()
    if args.speed_only:
        speed(args.rounds)
        return
    lo = None if args.no_office else Converter(pool=False)
    readers = [("LibreOffice", lo)] if lo is not None else []
    readers.append(("no LibreOffice", NO_TOOLS))
    totals: dict[tuple[str, str], list[int]] = {}
    print(f"{'sample':12} {'format':5} {'reader':15} {'recall':>7} {'spurious':>8}  missed (first few)")
    for name, fmt, data, expected in files(lo):
        for label, converter in readers:
            doc = read_document(Attachment(filename=f"{name}.{fmt}", content_type="", data=data),
                                converter=converter)
            hit, total = S.recall(expected, doc.text)
            spurious, _ = S.recall(doc.text, expected)
            spurious = len(S.words(doc.text)) - spurious
            missed = [w for w in S.words(expected) if w not in S.words(doc.text)][:4]
            print(f"{name:12} {fmt:5} {label:15} {hit / total:7.1%} {spurious:8d}  {' '.join(missed)}")
            for key in ((S.KIND_OF[name], label), ("all", label)):
                acc = totals.setdefault(key, [0, 0, 0])
                acc[0] += hit
                acc[1] += total
                acc[2] += spurious
    print()
    print(f"{'kind':8} {'reader':15} {'recall':>7} {'words':>6} {'spurious':>8}")
    for (kind, label), (hit, total, spurious) in sorted(totals.items()):
        print(f"{kind:8} {label:15} {hit / total:7.1%} {total:6d} {spurious:8d}")
    if lo is not None:
        speed(args.rounds)


if __name__ == "__main__":
    main()
