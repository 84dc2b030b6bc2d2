"""Documents that link an image at a URL instead of embedding it: what a stranger sends to make the
server fetch an address of the sender's choosing (SSRF). One page of HTML by hand; the .odt, .doc
and .docx are what LibreOffice itself writes from it (an .odt draw:image xlink:href, a .doc
INCLUDEPICTURE field, a .docx image relationship with TargetMode="External")."""
from __future__ import annotations

import http.server
import threading

from parsers.convert import Converter


def html(url: str) -> bytes:
    return (f'<html><head><meta charset="utf-8"></head><body><p>ỦY BAN NHÂN DÂN XÃ MỸ HÒA</p>'
            f'<p>BÁO CÁO Kết quả công tác dân vận</p><img src="{url}" width="50" height="50">'
            f'<p>Nội dung báo cáo.</p></body></html>').encode("utf-8")


def linked_files(url: str) -> dict[str, bytes]:
    """{suffix: bytes} for html, odt, doc and docx, each linking `url`. Written by a Converter that
    is allowed online (offline=False): LibreOffice tries the link while writing, which shows the
    files are live; the server should answer 404 so the link stays a link."""
    conv = Converter(offline=False)
    page = html(url)
    odt = conv.convert(page, ".html", "odt", "HTML (StarWriter)")
    return {"html": page, "odt": odt, "doc": conv.convert(odt, ".odt", "doc"),
            "docx": conv.convert(odt, ".odt", "docx:MS Word 2007 XML")}


class LinkServer:
    """A web server on loopback that counts every request: any hit means a reader went online."""

    def __init__(self):
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hinh.png"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
