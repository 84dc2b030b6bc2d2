#!/usr/bin/env python3
"""Peak memory (RSS) of the daemon: one message with a 25 MB attachment, and backlogs of growing
size, each processed by `tonghop run --once`.

Usage: python bench/memory.py [--sizes 100,300,1000] [--big docx,pdf,xlsx] [--mb 25]
Not a test: it prints figures and never fails. Target: under 200 MB, and flat as the backlog grows.

What is measured: the peak resident set size of the daemon process itself (and, printed beside it
for a backlog of 20 or more, that of its read-ahead reader, daemon/intake/read_ahead.py) (VmHWM from
/proc/self/status as it exits, reported by bench/_probe.py; not its children's, so LibreOffice
would not count, and none is started for these files; wait4's ru_maxrss cannot be used, it keeps
the high-water mark of the benchmark process the child was forked from), for `python -m daemon.cli --config DIR --now
2024-10-19T10:00 run --once` against a private Dovecot and an aiosmtpd sink (tests/servers.py).
Each case gets a new mailbox and a new ledger.

Cases:
- baseline: one ordinary message (a .docx report of 40 KB): the interpreter, the imports, the
  parsers, one pass;
- big docx: a unit's report with a 25 MB photo inside (a scanned signature page pasted in);
- big pdf: the same exported to PDF by LibreOffice with lossless images (text layer + the photo);
- big xlsx: a 25 MB workbook: five sheets of 20,000 household rows and a 19 MB photo on a sheet;
  each big file is sent as a unit would, base64 in a MIME message of about 34 MB;
- five big docx: five such messages waiting together (they arrive in the same IMAP FETCH batch);
- backlog N: the backlog benchmark's mail (bench/_servers.py, ~60 KB per message) for each size.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _servers as S  # noqa: E402

NOW = "2024-10-19T10:00:00"
START = dt.datetime(2024, 10, 2, 7, 0, tzinfo=S.ICT)
TARGET_MB = 200


# --- big files ------------------------------------------------------------------------------------


def noise_png(megabytes: float, seed: int = 1) -> bytes:
    """A valid RGB PNG of random pixels (it does not compress: its size is its pixel count x 3)."""
    side = int((megabytes * 1e6 / 3) ** 0.5)
    rng = random.Random(seed)
    raw = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 1))
            + chunk(b"IEND", b""))


def big_docx(unit, megabytes: float) -> bytes:
    import docx
    from docx.shared import Cm

    base = S.samples.report_docx(S.samples.sample_unit(unit), 2024, kind="BC")
    document = docx.Document(io.BytesIO(base))
    document.add_page_break()
    document.add_picture(io.BytesIO(noise_png(megabytes)), width=Cm(16))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def big_pdf(docx_bytes: bytes) -> bytes:
    """The .docx exported by LibreOffice, images kept lossless (a plain export would recompress
    the photo to JPEG and shrink the file)."""
    work = Path(tempfile.mkdtemp(prefix="tonghop-bench-pdf-"))
    try:
        (work / "big.docx").write_bytes(docx_bytes)
        target = ('pdf:writer_pdf_Export:{"UseLosslessCompression":{"type":"boolean","value":"true"},'
                  '"ReduceImageResolution":{"type":"boolean","value":"false"}}')
        subprocess.run(["soffice", f"-env:UserInstallation=file://{work}/profile", "--headless", "--norestore",
                        "--convert-to", target, "--outdir", str(work), str(work / "big.docx")],
                       capture_output=True, timeout=300, check=False)
        return (work / "big.pdf").read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def big_xlsx(unit, megabytes: float) -> bytes:
    """Five sheets of 20,000 household rows (the reader's limit per sheet; about 5.7 MB packed) and
    a photo of a signed table filling the rest.

    openpyxl needs Pillow only to learn an image's size and format; Pillow is not installed and
    not needed here, so a stand-in object gives both."""
    import openpyxl.drawing.image as oi
    from openpyxl import Workbook

    class Picture:
        format = "PNG"

        def __init__(self, data: bytes):
            self.fp = io.BytesIO(data)
            side = struct.unpack(">I", data[16:20])[0]
            self.size = (side, side)

    rng = random.Random(3)
    given = ("Bình", "Tâm", "Hùng", "Dũng", "Hòa", "Phúc", "Lộc", "Trí", "Thảo", "Hạnh", "Lan", "Mai")
    surnames = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Đặng")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Bảng ký xác nhận")
    sheet.append(["Bảng tổng hợp có chữ ký xác nhận (ảnh chụp)"])
    real_import = oi._import_image
    oi._import_image = lambda img: img
    try:
        picture = oi.Image(Picture(noise_png(max(1.0, megabytes - 5.7), seed=2)))
    finally:
        oi._import_image = real_import
    picture._data = lambda: picture.ref.fp.getvalue()
    picture.anchor = "A3"
    sheet.add_image(picture)
    for k in range(5):
        sheet = book.create_sheet(f"Ấp {k + 1}")
        sheet.append([f"DANH SÁCH HỘ GIA ĐÌNH ẤP {k + 1} - {unit.name.upper()}"])
        sheet.append(["STT", "Họ và tên chủ hộ", "Năm sinh", "Địa chỉ", "Số CCCD", "Thu nhập (đồng)",
                      "Diện tích (m²)", "Ghi chú"])
        for r in range(19_990):
            sheet.append([r + 1, f"{rng.choice(surnames)} {rng.choice(('Văn', 'Thị', 'Ngọc'))} {rng.choice(given)}",
                          rng.randint(1940, 2005), f"ấp {k + 1}, {unit.name}", str(rng.randint(10**11, 10**12 - 1)),
                          rng.randint(1_000_000, 90_000_000), round(rng.uniform(50, 20_000), 1),
                          rng.choice(("", "hộ nghèo", "hộ cận nghèo", "gia đình chính sách"))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- cases --------------------------------------------------------------------------------------


def one_file_message(unit, i: int, filename: str, data: bytes, ctype: str) -> tuple[bytes, dt.datetime]:
    when = START + dt.timedelta(hours=i)
    doc = S.Doc(unit.id, filename, data, ctype)
    return S.unit_message(i, [doc], when - dt.timedelta(seconds=40)), when


def measure(server, work: Path, name: str, mails: list[tuple[bytes, dt.datetime]], sink) -> dict:
    """A fresh user and ledger, the mail appended, one `run --once`; its peak RSS and a check."""
    import sqlite3

    user, password = server.new_user()
    account = S.ImapAccount(server, user, password)
    S.append_all(account, mails)
    target = work / name
    target.mkdir()
    config = S.service_config(target, account, sink)
    events = target / "events.txt"
    child = S.run_once(config, account, now=NOW, events=events)
    with sqlite3.connect(target / "var" / "tonghop.db") as db:
        statuses = dict(db.execute("select status, count(*) from messages group by status").fetchall())
    shutil.rmtree(target / "var" / "archive", ignore_errors=True)  # the disk, not the figures
    seen = S.read_events(events)
    return {"case": name, "messages": len(mails), "peak_mb": S.peak_rss_mb(seen), "reader_mb": S.reader_peak_rss_mb(seen),
            "seconds": child.seconds,
            "code": child.code, "statuses": statuses, "bytes": sum(len(r) for r, _ in mails)}


def run(sizes: list[int], big: list[str], megabytes: float = 25.0, out=sys.stdout) -> list[dict]:
    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    say(f"bench/memory.py: peak RSS of `run --once`; big files {megabytes:g} MB; backlogs {sizes}")
    say(S.machine() + f"; dovecot {S.dovecot_version()}")
    unit = S.units()[0]
    t0 = time.perf_counter()
    pool = S.document_pool(pdf_count=6)
    cases: list[tuple[str, list]] = [("baseline (one 40 KB .docx)", [one_file_message(
        unit, 0, "Báo cáo công tác dân vận năm 2024.docx", pool["docx"][0].data, S.DOCX)])]
    docx_big = big_docx(unit, megabytes) if big else b""
    files = {
        "docx": lambda: ("Báo cáo dân vận 2024 (kèm ảnh).docx", docx_big, S.DOCX),
        "pdf": lambda: ("Báo cáo dân vận 2024 (kèm ảnh).pdf", big_pdf(docx_big), S.PDF),
        "xlsx": lambda: ("Danh sách hộ gia đình 2024.xlsx", big_xlsx(unit, megabytes), S.XLSX),
    }
    for kind in big:
        filename, data, ctype = files[kind]()
        cases.append((f"one {len(data) / 1e6:.1f} MB .{kind}", [one_file_message(unit, 1, filename, data, ctype)]))
    if "docx" in big:
        cases.append((f"five {len(docx_big) / 1e6:.1f} MB .docx in one batch",
                      [one_file_message(unit, 2 + k, f"Báo cáo dân vận 2024 ({k}).docx", docx_big, S.DOCX)
                       for k in range(5)]))
    for n in sizes:
        cases.append((f"backlog of {n}", S.backlog(n, pool, START)))
    say(f"set-up: files and messages built in {time.perf_counter() - t0:.1f} s")
    results = []
    work = Path(tempfile.mkdtemp(prefix="tonghop-bench-memory-"))
    try:
        with S.mail_servers() as (account, sink):
            for k, (name, mails) in enumerate(cases):
                r = measure(account.server, work, f"case{k}", mails, sink)
                r["case"] = name
                results.append(r)
                verdict = "ok" if r["peak_mb"] < TARGET_MB else "OVER"
                reader = f" + reader {r['reader_mb']:.1f} MB" if r["reader_mb"] else ""
                say(f"  {name:40} {r['messages']:5} msg {r['bytes'] / 1e6:7.1f} MB mail  peak RSS "
                    f"{r['peak_mb']:6.1f} MB{reader} ({verdict})  {r['seconds']:6.1f} s  exit {r['code']}  {r['statuses']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    backlog = [r for r in results if r["case"].startswith("backlog")]
    if len(backlog) > 1:
        spread = max(r["peak_mb"] for r in backlog) - min(r["peak_mb"] for r in backlog)
        say(f"backlog: peak RSS from {backlog[0]['peak_mb']:.1f} MB ({backlog[0]['messages']} messages) to "
            f"{backlog[-1]['peak_mb']:.1f} MB ({backlog[-1]['messages']}): spread {spread:.1f} MB")
    worst = max(r["peak_mb"] for r in results)
    say(f"highest peak {worst:.1f} MB against the target {TARGET_MB} MB: {'met' if worst < TARGET_MB else 'missed'}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,300,1000", help="backlog sizes, comma-separated ('' for none)")
    parser.add_argument("--big", default="docx,pdf,xlsx", help="big attachments to try, comma-separated ('' for none)")
    parser.add_argument("--mb", type=float, default=25.0, help="size of each big attachment (default 25)")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    big = [x.strip() for x in args.big.split(",") if x.strip()]
    if any(n < 1 for n in sizes) or any(b not in ("docx", "pdf", "xlsx") for b in big) or args.mb <= 0:
        parser.error("--sizes: positive numbers; --big: docx, pdf, xlsx; --mb: positive")
    run(sizes, big, args.mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
