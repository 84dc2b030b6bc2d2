#!/usr/bin/env python3
"""Word recall of legacy-font documents, per encoding kind and per file format.

Usage: python bench/legacy.py [--no-office]
Not a test: it prints figures. The documents are made here (tests/legacy_samples.py): ND30
reports typed in TCVN3 (.VnTime with .VnTimeH headings, .VnArial with .VnArialH) and in VNI,
lines mixing TCVN3, VNI and Unicode runs, and symbol-font bullets, each written as .docx,
.doc (LibreOffice from the .docx), .rtf, .html and .xls (LibreOffice from an .xlsx with cell
fonts). Each is read by parsers.document.read_document, with LibreOffice and without it (the
fallback paths: .doc binary text, .rtf font table, xlrd), and scored against the Unicode text
it was made from: recall = words of the original found in what was read (with multiplicity,
case-sensitive, so a lower-cased H-font heading counts as missed), and spurious = words read
that the original does not have (a bullet read as a letter).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import legacy_samples as S  # noqa: E402
from parsers.convert import Converter  # noqa: E402
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-office", action="store_true", help="skip the files LibreOffice makes")
    args = ap.parse_args()
    lo = None if args.no_office else Converter()
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


if __name__ == "__main__":
    main()
