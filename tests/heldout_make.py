#!/usr/bin/env python3
"""Make the held-out ND30 set: tests/heldout/corpus.json -> one office file per document.

Written apart from tests/realdocs_make.py and without reading the fact rules, so the set checks
the rules on layouts their author did not write. Each entry gives the document's parts as an
office types them (header columns, number, place-date, heading or V/v lines, signing block with
its stamps and marks, recipients) and how they are laid out; "expect" holds what a careful clerk
writes for each fact (null: the document does not say).

Header layouts ("head"):
  table     2x2 borderless table: issuer | national title + motto; number (+ V/v) | place-date
  table1    one row: issuer, number, V/v in the left cell; title, motto, place-date in the right
            ("soft": the cell's lines split by soft line breaks, <br> in HTML)
  table3    a 2x3 table with an empty spacer column between the two
  tabs      one paragraph per row, the two columns split by tabs
  stacked   one field per line, the left column first
  rightfirst one field per line, the right column first (as some portals copy a header)
  interleaved left and right lines alternating (a flattened two-column header)
  layout    both columns on one line padded with spaces (pdftotext -layout)
Signing layouts ("sign"): table (Nơi nhận | block), stacked (block, then Nơi nhận), tabs,
  interleaved.
Formats: docx, txt, html; pdf and doc (the docx converted by LibreOffice; committed, made only
when missing or with --pdf). "legacy": "vni" or "tcvn3" types every run in that legacy font.

Usage: python tests/heldout_make.py [--pdf] [OUTDIR]   (default OUTDIR: tests/heldout)
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
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

HERE = Path(__file__).resolve().parent / "heldout"
NATIONAL = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
BODY = [
    "Thực hiện chỉ đạo của cấp trên và căn cứ tình hình thực tế của đơn vị, "
    "đơn vị triển khai thực hiện các nội dung sau:",
    "1. Tổ chức quán triệt đến toàn thể cán bộ, công chức, viên chức và người lao động.",
    "2. Phân công lãnh đạo phụ trách, theo dõi, đôn đốc việc thực hiện; định kỳ báo cáo kết quả.",
    "Trên đây là nội dung của đơn vị, đề nghị các cơ quan, đơn vị phối hợp thực hiện./.",
]
RECIPIENTS = ["- Như trên;", "- Lãnh đạo đơn vị;", "- Lưu: VT."]


def load() -> list[dict]:
    return json.loads((HERE / "corpus.json").read_text(encoding="utf-8"))["documents"]


def file_name(e: dict) -> str:
    return f"{e['id']}.{e['fmt']}"


# -- the parts ---------------------------------------------------------------------------------
def left_col(e: dict) -> list[str]:
    lines = list(e["left"])
    if e.get("rule", True):
        lines.append(e.get("rule_text", "_______"))
    if e.get("number") is not None:
        lines.append(e["number"])
    lines += e.get("vv", [])
    return lines


def right_col(e: dict) -> list[str]:
    lines = list(e.get("right", [NATIONAL, MOTTO]))
    lines.append(e.get("right_rule", "_______________________"))
    date = e.get("date")
    lines += [date] if isinstance(date, str) else list(date or [])
    return lines


def header_rows(e: dict) -> list[tuple[str, str]]:
    """The header as (left, right) rows, the way a 2x2 table lines them up."""
    top_l = list(e["left"]) + ([e.get("rule_text", "_______")] if e.get("rule", True) else [])
    top_r = list(e.get("right", [NATIONAL, MOTTO])) + [e.get("right_rule", "_______________________")]
    bot_l = ([e["number"]] if e.get("number") is not None else []) + e.get("vv", [])
    date = e.get("date")
    bot_r = [date] if isinstance(date, str) else list(date or [])
    rows = []
    for a, b in ((top_l, top_r), (bot_l, bot_r)):
        n = max(len(a), len(b))
        rows += [(a[i] if i < len(a) else "", b[i] if i < len(b) else "") for i in range(n)]
    return rows


def header_lines(e: dict) -> list[str]:
    head = e.get("head", "table")
    if head == "stacked":
        return left_col(e) + right_col(e)
    if head == "rightfirst":
        return right_col(e) + left_col(e)
    if head == "interleaved":
        a, b = left_col(e), right_col(e)
        out = []
        for i in range(max(len(a), len(b))):
            out += ([a[i]] if i < len(a) else []) + ([b[i]] if i < len(b) else [])
        return out
    if head == "layout":
        return [f"{' ' * 4}{x:<44}{y}".rstrip() if x else f"{' ' * 48}{y}" for x, y in header_rows(e)]
    # tabs (and table/table1 flattened for a text format)
    return [f"{x}\t\t{y}" if x else f"\t\t{y}" for x, y in header_rows(e)]


def block(e: dict) -> list[str]:
    return list(e["block"])


def recipients(e: dict) -> list[str]:
    return ["Nơi nhận:"] + list(e.get("recipients", RECIPIENTS))


def sign_lines(e: dict) -> list[str]:
    sign = e.get("sign", "stacked")
    a, b = recipients(e), block(e)
    if sign == "stacked":
        return b + [""] + a
    if sign == "interleaved":
        out = []
        for i in range(max(len(a), len(b))):
            out += ([a[i]] if i < len(a) else []) + ([b[i]] if i < len(b) else [])
        return out
    if sign == "layout":
        n = max(len(a), len(b))
        return [f"{(a[i] if i < len(a) else ''):<46}{b[i] if i < len(b) else ''}".rstrip() for i in range(n)]
    n = max(len(a), len(b))
    return [f"{a[i] if i < len(a) else ''}\t\t{b[i] if i < len(b) else ''}".rstrip() for i in range(n)]


def middle_lines(e: dict) -> list[str]:
    out = list(e.get("top", []))
    return out


def text_lines(e: dict) -> list[str]:
    lines = list(e.get("top", [])) + header_lines(e) + [""]
    lines += e.get("heading", []) + [""]
    if e.get("addressee"):
        lines += e["addressee"] if isinstance(e["addressee"], list) else [e["addressee"]]
    lines += e.get("body", BODY) + [""]
    lines += sign_lines(e)
    return lines


# -- renderers ---------------------------------------------------------------------------------
_LEGACY = None  # the legacy encoding of the document being rendered ("vni", "tcvn3") or None


def _run(p, text: str):
    """A run of `text`; in a legacy document typed in the legacy font, as old offices did (VNI-Times
    for all; TCVN3 in .VnTimeH for capitals, .VnTime else)."""
    if _LEGACY and text.strip():
        from parsers.text import encode_legacy  # the project's encoder: the tables are its, the layout ours
        if _LEGACY == "vni":
            r = p.add_run(encode_legacy(text, "vni", errors="replace"))
            r.font.name = "VNI-Times"
        else:
            upper = text.isupper()
            r = p.add_run(encode_legacy(text, "tcvn3h" if upper else "tcvn3", errors="replace"))
            r.font.name = ".VnTimeH" if upper else ".VnTime"
        return r
    return p.add_run(text)


def _para(container, text: str, bold: bool = False, italic: bool = False, center: bool = False, size: int = 13):
    p = container.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if text:
        r = _run(p, text)
        r.bold, r.italic, r.font.size = bold, italic, Pt(size)
    return p


def _fill(cell, lines: list[str], bold_upper: bool = True, center: bool = True, soft: bool = False):
    cell.paragraphs[0].text = ""
    if soft:  # one paragraph, its lines split by soft line breaks (Shift+Enter)
        p = cell.paragraphs[0]
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for k, line in enumerate(lines):
            r = _run(p, line)
            r.bold = bold_upper and line.isupper()
            if k < len(lines) - 1:
                r.add_break()
        return
    first = True
    for line in lines:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if line:
            r = _run(p, line)
            r.bold = bold_upper and line.isupper()
            r.italic = line.startswith(("ngày", "Tháp", "Mỹ", "Đồng")) and "ngày" in line
            r.font.size = Pt(13)


def render_docx(e: dict) -> bytes:
    global _LEGACY
    _LEGACY = e.get("legacy")
    try:
        return _render_docx(e)
    finally:
        _LEGACY = None


def _render_docx(e: dict) -> bytes:
    d = docx.Document()
    d.core_properties.author = "held-out"
    for line in e.get("top", []):
        _para(d, line, size=9)
    head = e.get("head", "table")
    if head == "table":
        t = d.add_table(rows=2, cols=2)
        rows = header_rows(e)
        split = len(e["left"]) + (1 if e.get("rule", True) else 0)
        split = max(split, len(e.get("right", [NATIONAL, MOTTO])) + 1)
        _fill(t.cell(0, 0), [x for x, _ in rows[:split] if x])
        _fill(t.cell(0, 1), [y for _, y in rows[:split] if y])
        _fill(t.cell(1, 0), [x for x, _ in rows[split:] if x])
        _fill(t.cell(1, 1), [y for _, y in rows[split:] if y])
    elif head == "table1":
        t = d.add_table(rows=1, cols=2)
        _fill(t.cell(0, 0), left_col(e), soft=e.get("soft", False))
        _fill(t.cell(0, 1), right_col(e), soft=e.get("soft", False))
    elif head == "table3":  # a narrow empty spacer column between the two
        t = d.add_table(rows=2, cols=3)
        top = len(e["left"]) + (1 if e.get("rule", True) else 0)
        left, right = left_col(e), right_col(e)
        rtop = len(e.get("right", [NATIONAL, MOTTO])) + 1
        _fill(t.cell(0, 0), left[:top])
        _fill(t.cell(0, 2), right[:rtop])
        _fill(t.cell(1, 0), left[top:])
        _fill(t.cell(1, 2), right[rtop:])
    else:
        for line in header_lines(e):
            _para(d, line, bold=line.strip().isupper())
    _para(d, "")
    for i, line in enumerate(e.get("heading", [])):
        _para(d, line, bold=True, center=True)
    if e.get("addressee"):
        for line in e["addressee"] if isinstance(e["addressee"], list) else [e["addressee"]]:
            _para(d, line, center=True)
    for line in e.get("body", BODY):
        _para(d, line)
    sign = e.get("sign", "stacked")
    if sign == "table":
        t = d.add_table(rows=1, cols=2)
        _fill(t.cell(0, 0), recipients(e), bold_upper=False, center=False)
        _fill(t.cell(0, 1), block(e))
    elif sign == "rows":
        a, b = recipients(e), block(e)
        n = max(len(a), len(b))
        t = d.add_table(rows=n, cols=2)
        for i in range(n):
            _fill(t.cell(i, 0), [a[i]] if i < len(a) else [], center=False)
            _fill(t.cell(i, 1), [b[i]] if i < len(b) else [])
    else:
        for line in sign_lines(e):
            _para(d, line, bold=line.strip().isupper())
    buf = io.BytesIO()
    d.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Same bytes on every run: fixed member times (python-docx stamps the current time)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re
                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
            z.writestr(zipfile.ZipInfo(info.filename, (2024, 1, 1, 8, 0, 0)), body)
    return out.getvalue()


def render_txt(e: dict) -> bytes:
    lines = text_lines(e)
    if e.get("nbsp"):  # a copy from a web page: the padding between columns is no-break spaces
        lines = [x.replace("  ", "\u00a0\u00a0") for x in lines]
    return ("\r\n" if e.get("crlf") else "\n").join(lines).encode("utf-8") + b"\n"


def render_html(e: dict) -> bytes:
    esc = html.escape

    def cell(lines):
        if e.get("soft"):  # Word's "Save as Web Page": one paragraph, lines split by <br>
            return "<p>" + "<br>\n".join(esc(x) for x in lines if x) + "</p>"
        return "".join(f"<p>{esc(x)}</p>" for x in lines if x)

    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Văn bản</title></head><body>"]
    parts += [f"<p><small>{esc(x)}</small></p>" for x in e.get("top", [])]
    if e.get("head", "table") in ("table", "table1"):
        parts.append("<table><tr><td>" + cell(left_col(e)) + "</td><td>" + cell(right_col(e)) + "</td></tr></table>")
    else:
        parts += [f"<p>{esc(x)}</p>" for x in header_lines(e)]
    parts += [f"<p style=\"text-align:center\"><b>{esc(x)}</b></p>" for x in e.get("heading", [])]
    if e.get("addressee"):
        parts += [f"<p>{esc(x)}</p>" for x in (e["addressee"] if isinstance(e["addressee"], list) else [e["addressee"]])]
    parts += [f"<p>{esc(x)}</p>" for x in e.get("body", BODY)]
    if e.get("sign", "stacked") == "table":
        parts.append("<table><tr><td>" + cell(recipients(e)) + "</td><td>" + cell(block(e)) + "</td></tr></table>")
    else:
        parts += [f"<p>{esc(x)}</p>" for x in sign_lines(e)]
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


RENDER = {"docx": render_docx, "txt": render_txt, "html": render_html}


def build(e: dict) -> tuple[str, bytes]:
    return file_name(e), RENDER[e["fmt"]](e)


CONVERTED = ("pdf", "doc")  # made from the .docx by LibreOffice, so committed


def render_converted(e: dict) -> bytes:
    """The entry's .docx saved as PDF or as a Word 97 .doc by LibreOffice."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("soffice is needed to make the PDFs and .doc files")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{e['id']}.docx"
        src.write_bytes(render_docx(e))
        target = "pdf" if e["fmt"] == "pdf" else "doc:MS Word 97"
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to",
                        target, "--outdir", tmp, str(src)], check=True, capture_output=True, timeout=180)
        return (Path(tmp) / f"{e['id']}.{e['fmt']}").read_bytes()


def main(argv: list[str]) -> int:
    pdf = "--pdf" in argv
    args = [a for a in argv if a != "--pdf"]
    out = Path(args[0]) if args else HERE
    out.mkdir(parents=True, exist_ok=True)
    for e in load():
        target = out / file_name(e)
        if e["fmt"] in CONVERTED:
            if pdf or not target.exists():
                target.write_bytes(render_converted(e))
            continue
        target.write_bytes(build(e)[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
