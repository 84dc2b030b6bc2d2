"""pdftotext started by the resident launcher (issue 17, parsers/convert.py _Launcher): it runs
without network like every converter, within the time and output bounds, the reader gets the
same pages as from a plain pdftotext, nothing is left running when pypdf refuses a file, and a
dead launcher only means pdftotext is started the ordinary way again."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import pdf_samples as P
from hostile import pdf as H
from hostile.linked import LinkServer
from parsers import convert as C
from parsers.convert import ConversionError, Converter, isolation_prefix
from parsers.document import read_document
from parsers.model import Attachment, Limits

POPPLER = Converter(soffice="/nonexistent/soffice", tesseract="/nonexistent/tesseract",
                    pdftoppm="/nonexistent/pdftoppm")


def _bare_pages(data: bytes) -> list[str]:
    """A plain pdftotext -layout, split as the converter splits it."""
    out = subprocess.run(["pdftotext", "-q", "-layout", "-enc", "UTF-8", "-", "-"], input=data,
                         capture_output=True, check=True).stdout.decode("utf-8", "replace")
    pages = out.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return pages


@pytest.fixture(scope="module")
def server():
    srv = LinkServer()
    yield srv
    srv.httpd.shutdown()


def test_launched_programs_have_no_network(server):
    assert isolation_prefix()  # this machine allows unshare: the launcher runs inside it
    launcher = C.pdf_launcher()
    assert launcher is not None and not launcher.dead
    fetch = [sys.executable, "-c", f"import urllib.request; urllib.request.urlopen({server.url!r}, timeout=3)"]
    server.hits.clear()
    status, _ = C.CappedRun(fetch, 20, 1 << 16, launcher=launcher).collect()
    assert status != 0 and server.hits == []
    status, interfaces = C.CappedRun(["/bin/cat", "/proc/self/net/dev"], 20, 1 << 16, launcher=launcher).collect()
    assert status == 0 and [line.split(":")[0].strip() for line in interfaces.decode().splitlines()[2:]] == ["lo"]


def test_launched_programs_keep_their_bounds():
    launcher = C.pdf_launcher()
    run = C.CappedRun(["/bin/sleep", "30"], 0.5, 1 << 16, launcher=launcher)
    pid = run.proc.pid
    while pid is None:  # the launcher says the pid when it has started the program
        time.sleep(0.01)
        pid = run.proc.pid
    with pytest.raises(ConversionError, match="Quá thời gian"):
        run.collect()
    assert not os.path.exists(f"/proc/{pid}")  # killed and reaped, not left behind
    with pytest.raises(ConversionError, match="quá nhiều chữ"):
        C.CappedRun(["/usr/bin/yes"], 20, 100_000, launcher=launcher).collect()
    assert C.CappedRun(["/bin/sh", "-c", "exit 3"], 20, 1 << 16, launcher=launcher).collect() == (3, b"")
    with pytest.raises(ConversionError, match="Không chạy được"):
        C.CappedRun(["/nonexistent/pdftotext"], 20, 1 << 16, launcher=launcher).collect()
    assert launcher.started == {} and launcher.exits == {}


def test_reader_pages_are_pdftotext_pages():
    """Started before pypdf's checks with the page limit, cut to the pages read: the same pages
    as a plain pdftotext -layout, and as pdftotext -l for fewer pages."""
    data = P.fallback_pdf([P.nd30_cells(number=f"{k}/BC-UBND") for k in (1, 2, 3)])
    run = POPPLER.start_pdf_text(data, 200, 1 << 20)
    try:
        assert run.pages() == _bare_pages(data) == POPPLER.pdf_text_pages(data, 200, 1 << 20)
    finally:
        run.close()
    doc = read_document(Attachment(filename="a.pdf", content_type="", data=data), Limits(max_pdf_pages=2),
                        converter=POPPLER)
    assert "Số: 2/BC-UBND" in doc.text and "3/BC-UBND" not in doc.text


def test_refused_pdf_leaves_no_pdftotext_running():
    launcher = C.pdf_launcher()
    doc = read_document(Attachment(filename="a.pdf", content_type="", data=H.wide_page_tree(6000)),
                        converter=POPPLER)
    assert any("cây trang quá lớn" in p for p in doc.problems)
    assert launcher.started == {} and launcher.exits == {}


def test_dead_launcher_falls_back_to_unshare_per_pdf(monkeypatch):
    data = P.fallback_pdf([P.nd30_cells()])
    expected = _bare_pages(data)
    launcher = C.pdf_launcher()
    launcher.proc.kill()
    launcher.proc.wait()
    # The launcher's death is noticed on the next PDF, which still reads, and so do the next.
    assert POPPLER.pdf_text_pages(data, 200, 1 << 20) == expected
    assert launcher.dead
    assert POPPLER.pdf_text_pages(data, 200, 1 << 20) == expected
    assert C.pdf_launcher() is None  # not restarted for every PDF
    monkeypatch.setattr(C, "_LAUNCHER_RETRY_AT", 0.0)
    fresh = C.pdf_launcher()
    assert fresh is not None and fresh is not launcher and not fresh.dead
    assert POPPLER.pdf_text_pages(data, 200, 1 << 20) == expected


# -- legacy font names read from the bytes (pure: the pypdf reading is the reference) ---------------
def _font_pdf(font_body: bytes) -> bytes:
    """One page whose only font is the object font_body (a dictionary as written in the file)."""
    return H.pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
                       b"<< /Length 0 >>\nstream\n\nendstream",
                       b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R"
                       b" /Resources << /Font << /F1 5 0 R >> >> >>", font_body])


@pytest.mark.parametrize("body, flat, legacy", [
    (b"<</Type/Font/Subtype/TrueType/BaseFont/ABCDEF+.VnTimeH/FirstChar 0/Widths[0 722 250]>>", True, True),
    (b"<< /Type /Font /Subtype /Type1 /BaseFont /VnArial /Widths [ 1 2 [3] ] >>", True, True),
    (b"<< /Type /Font /Subtype /TrueType /BaseFont /LiberationSerif /FontDescriptor 9 0 R >>", True, False),
    (b"<< /Type /Font /Subtype /Type1 >>", True, False),
    (b"<< /Type /Font /BaseFont /#2EVnTime >>", False, True),  # a name escape: pypdf reads it
    (b"<< /Type /Font /BaseFont /Arial /X << /BaseFont /.VnTime >> >>", False, False),  # nested
    (b"<< /Type /Font /BaseFont (.VnTime) >>", False, True),  # a string: pypdf reads it
    (b"<< /Type /Font /BaseFont /Arial /BaseFont /.VnTime >>", False, False),  # repeated: pypdf keeps the first
    (b"<< /Type /Font /BaseFont 6 0 R >>", False, False),  # indirect
    (b"<< /Type /Font /Encoding 6 0 R /BaseFont /VnTimeH >>", True, True),
])
def test_font_names_from_bytes_are_pypdfs(body, flat, legacy):
    import io

    from pypdf import PdfReader

    from parsers import pdf_reader as R

    data = _font_pdf(body)
    reader = PdfReader(io.BytesIO(data), strict=False)
    ref = reader.pages[0]["/Resources"]["/Font"].get_object().raw_get("/F1")
    base = R._flat_base_font(data, reader, ref)
    assert (base is not None) == flat
    if flat:
        assert base == str(ref.get_object().get("/BaseFont") or "")
    assert R._names_legacy_font(reader, 1, data) is legacy
    assert R._names_legacy_font(PdfReader(io.BytesIO(data), strict=False), 1) is legacy


def test_threads_share_the_launcher():
    from concurrent.futures import ThreadPoolExecutor

    datas = [P.fallback_pdf([P.nd30_cells(number=f"{k}/BC-UBND")] * (1 + k % 3)) for k in range(12)]
    expected = [_bare_pages(d) for d in datas]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda d: POPPLER.pdf_text_pages(d, 200, 1 << 20), datas)) == expected
    launcher = C.pdf_launcher()
    assert launcher.started == {} and launcher.exits == {}
