#!/usr/bin/env python3
"""Make the realistic ND30 corpus: tests/realdocs/corpus.json -> one office file per document.

Each entry of corpus.json describes a document as offices really type it (the header's lines,
the number, place-date, heading, body, signing block, written as they appear, odd spacing and
typos included) and how it is laid out and saved; its "expect" holds the facts a person reads
in it, written by hand (null where the document does not say). This module renders the entry:

- header: "table" (a borderless 2-column table: issuer | national title and motto, then
  number | place-date), "tabs" (paragraphs with a tab between the columns), "stacked" (one field
  per line, left column first), "interleaved" (left and right column lines alternating, as a
  flattened two-column header reads), "glued" (both columns on one line, one space apart),
  "layout" (both columns on one line, padded with spaces, as pdftotext -layout gives a PDF);
- signing: "table" (one row: Nơi nhận | authority, title, name), "rows" (a row per line pair, so
  the two columns interleave when flattened), "tabs", "stacked" (the signature above Nơi nhận);
- format: docx (python-docx), txt, html, rtf (read through LibreOffice), pdf (the docx converted
  by LibreOffice; committed, since making it needs soffice);
- legacy: the header's and the heading's runs in TCVN3 (.VnTimeH for capitals, .VnTime else).

Usage: python tests/realdocs_make.py [--pdf] [OUTDIR]   (default OUTDIR: tests/realdocs)
Without --pdf, PDFs already in OUTDIR are kept. build(entry) gives (file name, bytes) in memory
for every non-PDF entry, which tests/test_realdocs.py uses directly.
"""
from __future__ import annotations

import html
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402
from docx.shared import Pt  # noqa: E402

from parsers.text import encode_legacy  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "realdocs"
NATIONAL = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
DEFAULT_BODY = [
    "Căn cứ tình hình thực tế tại địa phương và kết quả thực hiện nhiệm vụ trong thời gian qua, "
    "đơn vị báo cáo, đề nghị như sau:",
    "1. Công tác tuyên truyền, phổ biến được thực hiện thường xuyên, đúng kế hoạch đề ra.",
    "2. Các nhiệm vụ trọng tâm được triển khai đồng bộ, đạt kết quả tích cực./.",
]
FIXED_TIME = datetime(2024, 1, 1, 8, 0, 0)
DEFAULT_RECIPIENTS = ["- Như trên;", "- Lưu: VT."]


def load() -> list[dict]:
    return json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))["documents"]


# -- the document as lines, in layout order ----------------------------------------------------
def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def header_columns(e: dict) -> tuple[list[str], list[str], list[str], list[str]]:
    """(left top, right top, left bottom, right bottom) lines of the header."""
    left = _as_list(e.get("left"))
    right = _as_list(e.get("right", [NATIONAL, MOTTO]))
    low_left = _as_list(e.get("number")) + _as_list(e.get("vv"))
    low_right = _as_list(e.get("date"))
    return left, right, low_left, low_right


def header_lines(e: dict) -> list[str]:
    """The header as paragraphs for the paragraph layouts (tabs, stacked, interleaved)."""
    left, right, low_left, low_right = header_columns(e)
    layout = e.get("head", "table")
    if layout == "stacked":
        return left + right + low_left + low_right
    if layout == "interleaved":
        out = []
        for i in range(max(len(left), len(right))):
            out += ([left[i]] if i < len(left) else []) + ([right[i]] if i < len(right) else [])
        return out + low_left[:1] + low_right + low_left[1:]
    # tabs: both columns on one paragraph, row by row; glued: joined by one space, as a PDF's
    # text layer without positions gives them
    out = []
    for a, b in ((left, right), (low_left, low_right)):
        for i in range(max(len(a), len(b))):
            x, y = (a[i] if i < len(a) else ""), (b[i] if i < len(b) else "")
            out.append(_two_columns(x, y, layout))
    return out


def _two_columns(x: str, y: str, layout: str) -> str:
    """One line holding both columns: tab-separated, glued by a space, or padded with spaces as
    pdftotext -layout writes a two-column page ("layout")."""
    if layout == "layout":
        return f"{x:<44}{y}".rstrip() if len(x) < 42 else f"{x}    {y}".rstrip()
    sep = " " if layout == "glued" else "\t\t"
    return f"{x}{sep}{y}" if x and y else (x or f"{sep}{y}")


def sign_columns(e: dict) -> tuple[list[str], list[str]]:
    """(Nơi nhận column, signature column) of the signing block."""
    nn = ["Nơi nhận:"] + _as_list(e.get("recipients", DEFAULT_RECIPIENTS)) if e.get("recipients", 1) else []
    right = _as_list(e.get("auth")) + _as_list(e.get("title")) + _as_list(e.get("note"))
    right += _as_list(e.get("name")) + _as_list(e.get("sign_stamp"))
    return nn, right


def sign_lines(e: dict) -> list[str]:
    nn, right = sign_columns(e)
    layout = e.get("sign", "table")
    if layout == "stacked":
        return right + nn
    out = []
    for i in range(max(len(nn), len(right))):
        x, y = (nn[i] if i < len(nn) else ""), (right[i] if i < len(right) else "")
        out.append(_two_columns(x, y, "layout" if layout == "layout" else "tabs"))
    return out


def body_lines(e: dict) -> list[str]:
    out = _as_list(e.get("heading"))
    if e.get("addressee"):
        out.append(e["addressee"])
    return out + _as_list(e.get("body", DEFAULT_BODY))


def plain_lines(e: dict) -> list[str]:
    """The whole document as lines (txt, rtf, html without tables)."""
    return _as_list(e.get("stamp_top")) + header_lines(e) + body_lines(e) + sign_lines(e)


# -- docx ----------------------------------------------------------------------------------------
def _legacy_run(par, text: str, legacy: bool) -> None:
    """A run typed in TCVN3 when the entry is legacy and the text can be written in it."""
    if legacy and text.strip():
        upper = text.isupper()
        try:
            coded = encode_legacy(text, "tcvn3h" if upper else "tcvn3")
        except ValueError:
            coded = None
        if coded is not None:
            run = par.add_run(coded)
            run.font.name = ".VnTimeH" if upper else ".VnTime"
            return
    par.add_run(text)


def _cell_lines(cell, lines: list[str], legacy: bool) -> None:
    first = True
    for line in lines:
        par = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        _legacy_run(par, line, legacy)


def _table(d, left: list[str], right: list[str], legacy: bool, rows_per_line: bool = False) -> None:
    if rows_per_line:
        n = max(len(left), len(right))
        t = d.add_table(rows=n, cols=2)
        for i in range(n):
            _cell_lines(t.cell(i, 0), left[i:i + 1], legacy)
            _cell_lines(t.cell(i, 1), right[i:i + 1], legacy)
        return
    t = d.add_table(rows=1, cols=2)
    _cell_lines(t.cell(0, 0), left, legacy)
    _cell_lines(t.cell(0, 1), right, legacy)


def render_docx(e: dict) -> bytes:
    d = docx.Document()
    d.styles["Normal"].font.name = "Times New Roman"
    d.styles["Normal"].font.size = Pt(13)
    legacy = bool(e.get("legacy"))
    for line in _as_list(e.get("stamp_top")):
        d.add_paragraph(line)
    if e.get("head", "table") == "table":
        left, right, low_left, low_right = header_columns(e)
        t = d.add_table(rows=2, cols=2)
        _cell_lines(t.cell(0, 0), left + ["_______"], legacy)
        _cell_lines(t.cell(0, 1), right + ["______________________"], legacy)
        _cell_lines(t.cell(1, 0), low_left, legacy)
        _cell_lines(t.cell(1, 1), low_right, legacy)
    else:
        for line in header_lines(e):
            _legacy_run(d.add_paragraph(), line, legacy)
    for i, line in enumerate(body_lines(e)):
        _legacy_run(d.add_paragraph(), line, legacy and i < len(_as_list(e.get("heading"))))
    layout = e.get("sign", "table")
    if layout in ("table", "rows"):
        nn, right = sign_columns(e)
        _table(d, nn, right, False, rows_per_line=layout == "rows")
    else:
        for line in sign_lines(e):
            d.add_paragraph(line)
    d.core_properties.created = d.core_properties.modified = FIXED_TIME
    bio = io.BytesIO()
    d.save(bio)
    return _fixed_zip(bio.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same package with fixed member times, so making the corpus again changes no byte."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6]), src.read(info))
    return out.getvalue()


# -- txt, html, rtf ------------------------------------------------------------------------------
def render_txt(e: dict) -> bytes:
    return ("\r\n".join(plain_lines(e)) + "\r\n").encode("utf-8")


def render_html(e: dict) -> bytes:
    """A web-mail or "Save as HTML" document: the header as a table, the rest as paragraphs."""
    def p(lines):
        return "".join(f"<p>{html.escape(x)}</p>" for x in lines)

    parts = [p(_as_list(e.get("stamp_top")))]
    if e.get("head", "table") == "table":
        left, right, low_left, low_right = header_columns(e)
        parts.append(f"<table><tr><td>{p(left)}</td><td>{p(right)}</td></tr>"
                     f"<tr><td>{p(low_left)}</td><td>{p(low_right)}</td></tr></table>")
    else:
        parts.append(p(header_lines(e)))
    parts.append(p(body_lines(e)))
    nn, right = sign_columns(e)
    if e.get("sign", "table") in ("table", "rows"):
        parts.append(f"<table><tr><td>{p(nn)}</td><td>{p(right)}</td></tr></table>")
    else:
        parts.append(p(sign_lines(e)))
    return ('<html><head><meta charset="utf-8"></head><body>' + "".join(parts) + "</body></html>").encode("utf-8")


def _rtf_text(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\tab ")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
    return "".join(out)


def render_rtf(e: dict) -> bytes:
    """Paragraphs (tabs between columns), in Unicode, or TCVN3 bytes in .VnTime for legacy."""
    legacy = bool(e.get("legacy"))
    body = []
    for line in plain_lines(e):
        coded = None
        if legacy and line.strip():
            try:
                coded = encode_legacy(line, "tcvn3h" if line.isupper() else "tcvn3")
            except ValueError:
                coded = None
        if coded is not None:
            font = 2 if line.isupper() else 1
            raw = "".join(f"\\'{ord(c):02x}" if ord(c) > 127 else _rtf_text(c) for c in coded)
            body.append(f"\\pard\\f{font} {raw}\\par")
        else:
            body.append(f"\\pard\\f0 {_rtf_text(line)}\\par")
    head = ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}{\\f1 .VnTime;}{\\f2 .VnTimeH;}}\n")
    return (head + "\n".join(body) + "\n}").encode("ascii")


RENDER = {"docx": render_docx, "txt": render_txt, "html": render_html, "rtf": render_rtf}


def file_name(e: dict) -> str:
    return f"{e['id']}.{e['fmt']}"


def build(e: dict) -> tuple[str, bytes]:
    """(file name, bytes) of a non-PDF entry."""
    return file_name(e), RENDER[e["fmt"]](e)


def render_pdf(e: dict) -> bytes:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise RuntimeError("soffice is needed to make the corpus PDFs")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{e['id']}.docx"
        src.write_bytes(render_docx(e))
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(src)],
                       check=True, capture_output=True, timeout=180)
        return (Path(tmp) / f"{e['id']}.pdf").read_bytes()


def main(argv: list[str]) -> int:
    pdf = "--pdf" in argv
    args = [a for a in argv if a != "--pdf"]
    out = Path(args[0]) if args else CORPUS
    out.mkdir(parents=True, exist_ok=True)
    for e in load():
        target = out / file_name(e)
        if e["fmt"] == "pdf":
            if pdf or not target.exists():
                target.write_bytes(render_pdf(e))
        else:
            target.write_bytes(build(e)[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
