#!/usr/bin/env python3
"""The reading-speed set (bench/parse.py --set real / real-tcvn3): the realistic .docx of
tests/realdocs (tests/realdocs_make.py) grown into what district offices really send.

The corpus files are one page each; a report from a commune or a department runs to many pages
and carries what a reader must walk through: page headers and footers (the unit's name, a page
number field), several sections (w:sectPr inside the body, a landscape appendix), numbered and
bulleted lists, runs in mixed fonts (bold Arial figures, italic notes, a highlighted phrase), and
long figure tables whose heading cells are merged across columns (w:gridSpan) and down rows
(w:vMerge). Each entry keeps its own header, heading and signing block (so its facts are the
hand-written ones of corpus.json); what is added comes from a fixed seed per entry, so every
run builds the same bytes. An entry typed in TCVN3 (legacy) gets its added headings in TCVN3 too.

Usage: python tests/speedset_make.py [OUTDIR]   writes the files (not needed by the bench, which
builds them in memory with build_all()).
"""
from __future__ import annotations

import io
import random
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import docx  # noqa: E402
from docx.enum.section import WD_ORIENT  # noqa: E402
from docx.enum.text import WD_COLOR_INDEX  # noqa: E402
from docx.oxml import OxmlElement  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Pt  # noqa: E402

import realdocs_make as R  # noqa: E402

AREAS = ("Ấp 1", "Ấp 2", "Ấp 3", "Ấp Mỹ Thạnh", "Ấp Mỹ Lợi", "Khóm 1", "Khóm 2", "Khóm 3")
TOPICS = (
    ("KẾT QUẢ THỰC HIỆN NHIỆM VỤ KINH TẾ", ("sản xuất lúa vụ Đông Xuân", "chăn nuôi gia súc, gia cầm",
                                            "thương mại, dịch vụ", "xây dựng nông thôn mới")),
    ("VĂN HÓA - XÃ HỘI", ("giáo dục và đào tạo", "y tế, dân số", "lao động, việc làm", "an sinh xã hội")),
    ("QUỐC PHÒNG - AN NINH", ("tuyển quân", "trật tự an toàn xã hội", "phòng cháy, chữa cháy")),
    ("CÔNG TÁC XÂY DỰNG CHÍNH QUYỀN", ("cải cách hành chính", "tiếp công dân", "chuyển đổi số")),
    ("TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", ("khách quan", "chủ quan")),
    ("PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", ("nhiệm vụ trọng tâm", "giải pháp thực hiện")),
)
INDICATORS = (("Diện tích gieo trồng", "ha"), ("Năng suất bình quân", "tấn/ha"), ("Sản lượng", "tấn"),
              ("Tổng đàn heo", "con"), ("Hộ nghèo", "hộ"), ("Hộ cận nghèo", "hộ"),
              ("Lao động được giải quyết việc làm", "người"), ("Trẻ em được tiêm chủng", "trẻ"),
              ("Hồ sơ giải quyết đúng hạn", "hồ sơ"), ("Kinh phí thực hiện", "triệu đồng"))
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _field(par, instr: str) -> None:
    """A field (PAGE, NUMPAGES) as Word writes it: begin, instruction, separate, result, end."""
    for kind, text in (("begin", None), (None, instr), ("separate", None), (None, "1"), ("end", None)):
        run = par.add_run()
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text == instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instr} "
            run._r.append(el)
        else:
            run.text = text


def _heading(d, text: str, legacy: bool) -> None:
    par = d.add_paragraph()
    R._legacy_run(par, text, legacy)
    for run in par.runs:
        run.bold = True


def _mixed(par, rnd: random.Random, area: str, topic: str) -> None:
    """A body paragraph typed the way offices do: several runs, fonts and emphasis mixed."""
    value = rnd.randint(12, 980)
    par.add_run(f"Về {topic} tại {area}: ")
    bold = par.add_run(f"đạt {value:,}".replace(",", "."))
    bold.bold = True
    bold.font.name = "Arial"
    par.add_run(f" so với kế hoạch, tăng {rnd.randint(1, 30)}% so với cùng kỳ; ")
    italic = par.add_run("(số liệu tính đến ngày báo cáo)")
    italic.italic = True
    italic.font.size = Pt(12)
    if rnd.random() < 0.3:
        hl = par.add_run(" chưa đạt chỉ tiêu đề ra")
        hl.font.highlight_color = WD_COLOR_INDEX.YELLOW
    par.add_run(".")


def _figures_table(d, rnd: random.Random, rows: int) -> None:
    """A figures table: two heading rows (STT and Chỉ tiêu merged down, Kết quả across 3)."""
    t = d.add_table(rows=2 + rows, cols=6)
    t.style = "Table Grid"
    heads = ("STT", "Chỉ tiêu", "Đơn vị tính", "Kết quả", "", "")
    for i, text in enumerate(heads):
        if text:
            t.cell(0, i).text = text
    for i, text in enumerate(("Kế hoạch", "Thực hiện", "Tỷ lệ (%)")):
        t.cell(1, 3 + i).text = text
    t.cell(0, 0).merge(t.cell(1, 0))
    t.cell(0, 1).merge(t.cell(1, 1))
    t.cell(0, 2).merge(t.cell(1, 2))
    t.cell(0, 3).merge(t.cell(0, 5))
    for k in range(rows):
        name, unit = INDICATORS[k % len(INDICATORS)]
        area = AREAS[(k // len(INDICATORS)) % len(AREAS)]
        plan = rnd.randint(50, 5000)
        done = round(plan * rnd.uniform(0.6, 1.2))
        cells = t.rows[2 + k].cells
        cells[0].text = str(k + 1)
        cells[1].text = f"{name} ({area})" if k >= len(INDICATORS) else name
        cells[2].text = unit
        cells[3].text = f"{plan:,}".replace(",", ".")
        cells[4].text = f"{done:,}".replace(",", ".")
        cells[5].text = f"{100 * done / plan:.1f}".replace(".", ",")


def render(e: dict, seed: int) -> bytes:
    rnd = random.Random(seed)
    legacy = bool(e.get("legacy"))
    d = docx.Document()
    d.styles["Normal"].font.name = "Times New Roman"
    d.styles["Normal"].font.size = Pt(13)
    section = d.sections[0]
    issuer = " ".join(R.header_columns(e)[0]) or "ỦY BAN NHÂN DÂN"
    hp = section.header.paragraphs[0]
    hp.text = issuer
    fp = section.footer.paragraphs[0]
    fp.add_run("Trang ")
    _field(fp, "PAGE")
    fp.add_run("/")
    _field(fp, "NUMPAGES")
    for line in R._as_list(e.get("stamp_top")):
        d.add_paragraph(line)
    if e.get("head", "table") == "table":
        left, right, low_left, low_right = R.header_columns(e)
        t = d.add_table(rows=2, cols=2)
        R._cell_lines(t.cell(0, 0), left + ["_______"], legacy)
        R._cell_lines(t.cell(0, 1), right + ["______________________"], legacy)
        R._cell_lines(t.cell(1, 0), low_left, legacy)
        R._cell_lines(t.cell(1, 1), low_right, legacy)
    else:
        for line in R.header_lines(e):
            R._legacy_run(d.add_paragraph(), line, legacy)
    for i, line in enumerate(R.body_lines(e)):
        R._legacy_run(d.add_paragraph(), line, legacy and i < len(R._as_list(e.get("heading"))))
    # The grown body: 4-6 sections, each with numbered sub-items, lists and mixed-font paragraphs.
    topics = TOPICS[: rnd.randint(4, len(TOPICS))]
    for k, (title, subs) in enumerate(topics):
        _heading(d, f"{ROMAN[k]}. {title}", legacy)
        for j, topic in enumerate(subs):
            d.add_paragraph(f"{j + 1}. Về {topic}", style="List Number")
            for area in rnd.sample(AREAS, rnd.randint(2, 4)):
                _mixed(d.add_paragraph(), rnd, area, topic)
            for b in range(rnd.randint(1, 3)):
                d.add_paragraph(f"Tiếp tục triển khai {topic}, phấn đấu hoàn thành chỉ tiêu được giao"
                                f" (nội dung {b + 1});", style="List Bullet")
        if k == 0:
            _figures_table(d, rnd, rnd.randint(8, 14))
    # A landscape appendix in its own section: the long table.
    appendix = d.add_section()
    appendix.orientation = WD_ORIENT.LANDSCAPE
    appendix.page_width, appendix.page_height = section.page_height, section.page_width
    _heading(d, "PHỤ LỤC: SỐ LIỆU CHI TIẾT THEO ĐỊA BÀN", legacy)
    _figures_table(d, rnd, rnd.randint(30, 70))
    back = d.add_section()
    back.orientation = WD_ORIENT.PORTRAIT
    back.page_width, back.page_height = section.page_width, section.page_height
    layout = e.get("sign", "table")
    if layout in ("table", "rows"):
        nn, right = R.sign_columns(e)
        R._table(d, nn, right, False, rows_per_line=layout == "rows")
    else:
        for line in R.sign_lines(e):
            d.add_paragraph(line)
    d.core_properties.created = d.core_properties.modified = R.FIXED_TIME
    bio = io.BytesIO()
    d.save(bio)
    return _deflated_zip(bio.getvalue())


def _deflated_zip(data: bytes) -> bytes:
    """The package with fixed member times (same bytes every run), deflated as Word saves it
    (realdocs_make._fixed_zip stores its members uncompressed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=R.FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info))
    return out.getvalue()


def build_all(legacy: bool | None = None) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every .docx entry of tests/realdocs/corpus.json grown (legacy: only
    the TCVN3 entries, or only the Unicode ones; None: all)."""
    out = []
    for k, e in enumerate(R.load()):
        if e["fmt"] != "docx" or (legacy is not None and bool(e.get("legacy")) != legacy):
            continue
        out.append((f"{e['id']}-dai.docx", render(e, seed=1000 + k)))
    return out


def main(argv: list[str]) -> int:
    outdir = Path(argv[0]) if argv else ROOT / "tests" / "speedset"
    outdir.mkdir(parents=True, exist_ok=True)
    for name, data in build_all():
        (outdir / name).write_bytes(data)
    print(f"{len(build_all())} tệp trong {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
