"""Converters never reach the network (issue 15, item 3): a linked image in a stranger's .odt,
.doc, .docx or .html made LibreOffice send a GET to the sender's address before any sender check.
A real HTTP server on loopback must see no request while the files are read the way the service
reads them (read_document: LibreOffice for .odt/.doc, tonghop's own readers for .html/.docx) and
while LibreOffice renders the .docx to PDF (the draft path)."""
from __future__ import annotations

import io
import sys
import zipfile

import pytest

from hostile.linked import LinkServer, linked_files
from parsers.convert import Converter, isolation_prefix, network_isolation, run_limited
from parsers.document import read_document
from parsers.model import Attachment


@pytest.fixture(scope="module")
def server():
    srv = LinkServer()
    yield srv
    srv.httpd.shutdown()


@pytest.fixture(scope="module")
def files(server):
    made = linked_files(server.url)
    # The control: LibreOffice allowed online fetched the link while writing the files, so the
    # files are live and the server does hear what reaches it.
    assert server.hits, "the generated files do not make LibreOffice fetch: the test would prove nothing"
    server.hits.clear()
    return made


def test_the_files_really_link_the_address(files, server):
    assert server.url.encode() in files["html"]
    with zipfile.ZipFile(io.BytesIO(files["odt"])) as zf:
        assert server.url in zf.read("content.xml").decode()
    assert server.url.encode("utf-16-le") in files["doc"] or server.url.encode() in files["doc"]
    with zipfile.ZipFile(io.BytesIO(files["docx"])) as zf:
        rels = zf.read("word/_rels/document.xml.rels").decode()
    assert server.url in rels and 'TargetMode="External"' in rels


@pytest.mark.parametrize("suffix", ["html", "odt", "doc", "docx"])
def test_reading_a_linked_image_fetches_nothing(files, server, suffix):
    server.hits.clear()
    doc = read_document(Attachment(f"bao-cao.{suffix}", "application/octet-stream", files[suffix]))
    assert "MỸ HÒA" in doc.text.upper() or "báo cáo" in doc.text.lower(), (suffix, doc.problems)
    assert server.hits == [], f".{suffix}: the server was asked for {server.hits}"


def test_libreoffice_rendering_a_linked_docx_fetches_nothing(files, server):
    server.hits.clear()
    pdf = Converter().to_pdf(files["docx"], ".docx")
    assert pdf.startswith(b"%PDF")
    assert server.hits == []


def test_programs_run_without_network_here(server):
    """The namespace layer on its own: a program the converters would start cannot reach the
    loopback server (this machine allows `unshare -rn`; network_isolation says so in check-config),
    while the same program outside the namespace can."""
    assert isolation_prefix(), network_isolation()
    assert "unshare" in network_isolation()
    fetch = [sys.executable, "-c", f"import urllib.request; urllib.request.urlopen({server.url!r}, timeout=3)"]
    server.hits.clear()
    run_limited(Converter(offline=False)._offline(fetch), 20)
    assert server.hits == ["/hinh.png"]
    server.hits.clear()
    res = run_limited(Converter()._offline(fetch), 20)
    assert res.returncode != 0 and server.hits == []
