#!/usr/bin/env python3
"""Regenerates docs/draft-example/: the consolidated draft of the seed's case, rendered as PNG pages.

The cycle is the one the tests use (tests/draft_cycle.py): the example config's 28 units sending
real generated documents into a real ledger, with late, missing, replaced and flagged units; the
draft is written two days after the deadline, rendered to PDF by LibreOffice headless, and the
first page, the second, the signing page and the first page of each appendix are kept as 100 dpi
PNG files without anti-aliasing (small enough to commit, readable enough to judge the layout).

Usage: python scripts/make_draft_example.py [OUT_DIR]
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from daemon.report.model import build_model  # noqa: E402
from daemon.report.notes import write_notes  # noqa: E402
from daemon.report.writers import write_draft  # noqa: E402
from draft_cycle import NOW, build_cycle  # noqa: E402
from parsers.convert import Converter  # noqa: E402

OUT = ROOT / "docs" / "draft-example"


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          timeout=60).stdout.decode()
    return text.split("\f")


def main(out: Path = OUT) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="tonghop-example-") as tmp:
        tmp = Path(tmp)
        cycle = build_cycle(tmp)
        model = build_model(cycle.config, cycle.campaign, "2024", cycle.rows(), NOW)
        docx, _ = write_draft(cycle.config, model, tmp / "v1", version=1)
        notes = write_notes(model, docx)
        pdf = Converter(timeout=120).docx_to_pdf(docx, tmp / "pdf")
        notes_pdf = Converter(timeout=120).docx_to_pdf(notes, tmp / "pdf")
        pages = page_texts(pdf)
        signing = next(k for k, t in enumerate(pages, 1) if "Nơi nhận:" in t)
        appendix1 = next(k for k, t in enumerate(pages, 1) if "Phụ lục I\n" in t or t.strip().startswith("Phụ lục I"))
        appendix2 = next(k for k, t in enumerate(pages, 1) if "Phụ lục II" in t)
        # The whole body (the outline's parts I-V, up to the signing block) and each appendix's first page.
        chosen = sorted({*range(1, signing + 1), appendix1, appendix2})
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        written = []
        for n in chosen:
            stem = tmp / f"page-{n:02d}"
            # Without anti-aliasing the pages compress ~7x (about 50 KB each) and stay readable.
            subprocess.run(["pdftoppm", "-r", "100", "-gray", "-aa", "no", "-aaVector", "no", "-png", "-singlefile",
                            "-f", str(n), "-l", str(n), str(pdf), str(stem)], check=True, timeout=60)
            target = out / f"trang-{n:02d}.png"
            shutil.move(f"{stem}.png", target)
            written.append(target)
        stem = tmp / "notes-01"
        subprocess.run(["pdftoppm", "-r", "100", "-gray", "-aa", "no", "-aaVector", "no", "-png", "-singlefile",
                        "-f", "1", "-l", "1", str(notes_pdf), str(stem)], check=True, timeout=60)
        target = out / "ghi-chu-trang-01.png"
        shutil.move(f"{stem}.png", target)
        written.append(target)
        cycle.store.close()
    (out / "README.md").write_text(
        "# Ví dụ dự thảo báo cáo tổng hợp (trường hợp Tháp Mười, năm 2024)\n\n"
        "Các trang của bản dự thảo do tonghop viết hai ngày sau hạn nộp, từ văn bản thật được sinh\n"
        "cho 28 đơn vị (có đơn vị nộp trễ, chưa nộp, nộp bản thay thế, và một xã phân công Phó Chủ tịch\n"
        "phụ trách). Phần nội dung theo đề cương của chiến dịch (config/campaigns/dan-van.toml): I. Công\n"
        "tác lãnh đạo, chỉ đạo; II. Kết quả thực hiện theo các nội dung của công văn; III. Đánh giá chung;\n"
        "IV. Phương hướng, nhiệm vụ; V. Kiến nghị, đề xuất. Trang cuối là trang đầu của tệp ghi chú cho cán\n"
        "bộ (…-ghi-chu.docx: thay đổi, văn bản cần xem lại, đơn vị chưa gửi, nguồn của từng câu).\n"
        "Dựng lại bằng: `python scripts/make_draft_example.py`.\n\n"
        + "".join(f"![{'Ghi chú, trang 01' if p.stem.startswith('ghi-chu') else 'Trang ' + p.stem[-2:]}]({p.name})\n"
                  for p in written),
        encoding="utf-8",
    )
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
