"""compose() writes the common mail (text + html, no attachment) itself, without the email
package (daemon/outgoing/compose.py, issue 17): its bytes must be those the package writes, for
every input the short path takes, and the package must still write every input it declines."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from daemon.outgoing import compose as C

ICT = timezone(timedelta(hours=7))
VI = ("Kính gửi Ủy ban nhân dân xã Mỹ An,\n\nPhòng Nội vụ đã nhận văn bản của quý đơn vị:\n"
      "- Báo cáo số 12/BC-UBND ngày 10/10/2024 về công tác dân vận\n\nTrân trọng.\n")
HTML = "<html><body>\n" + "".join(f"<p>Đoạn {i}: {VI}</p>\n" for i in range(9)) + "</body></html>\n"
BASE = dict(sender="phongnoivu@thapmuoi.example", sender_name="Phòng Nội vụ huyện Tháp Mười",
            recipients=["vanthu.myan@thapmuoi.example"], subject="Đã nhận: Xã Mỹ An gửi văn bản (lần 5)",
            text=VI, html=HTML, kind="ack", message_id="<tonghop.0123456789abcdef0123456789abcdef@thapmuoi.example>",
            date=datetime(2024, 10, 19, 17, 0, tzinfo=ICT), auto_submitted="auto-replied",
            in_reply_to="<20241001.abc@myan.thapmuoi.example>", references=["<20241001.abc@myan.thapmuoi.example>"])

CASES = {
    "acknowledgement": {},
    "reminder, no reply headers": dict(in_reply_to=None, references=[], auto_submitted="auto-generated", kind="reminder"),
    "ascii text and html (7bit)": dict(text="Dear unit,\n\nreceived.\n", html="<p>received</p>\n"),
    "empty text": dict(text="", html=""),
    "carriage returns and no final newline": dict(text="dòng một\r\ndòng hai\rdòng ba", html="<p>a</p>\r\n<p>b</p>"),
    "ascii with a long line": dict(text="x" * 2000 + "\n", html="<p>" + "y " * 800 + "</p>"),
    "several recipients and copies": dict(recipients=["a@x.example", "b.c@y.example"], cc=["truong@x.example"]),
    "utc date": dict(date=datetime(2024, 10, 19, 1, 5, 9, tzinfo=timezone.utc)),
    "a boundary-like line in the text": dict(text="--===============1234567890123456789==\n", html="<p>x</p>"),
    # declined by the short path, written by the package (the result must be the same either way)
    "long references": dict(references=["<a%d@myan.thapmuoi.example>" % i for i in range(6)]),
    "odd reply header": dict(in_reply_to="<x (comment)@y>", references=["=?utf-8?q?x?="]),
    "quoted local part": dict(recipients=['"van thu"@x.example']),
    "naive date": dict(date=datetime(2024, 10, 19, 17, 0)),
    "attachment": dict(attachments=[("bao-cao.pdf", b"%PDF-1.4\n", "application/pdf")]),
}

_BOUNDARY = re.compile(rb"===============\d{19}==(?:\.\d+)?")


def _package(**kw) -> bytes:
    """compose() with the short path off: what the email package writes."""
    original = C._alternative_bytes
    C._alternative_bytes = lambda **_: None
    try:
        return C.compose(**kw)
    finally:
        C._alternative_bytes = original


@pytest.mark.parametrize("case", list(CASES))
def test_the_short_path_writes_the_bytes_of_the_email_package(case):
    kw = {**BASE, **CASES[case]}
    ours, theirs = C.compose(**kw), _package(**kw)
    assert _BOUNDARY.sub(b"B", ours) == _BOUNDARY.sub(b"B", theirs)
    parsed = message_from_bytes(ours, policy=policy.default)
    body = parsed.get_body(("plain",)) if parsed.is_multipart() else parsed
    assert body.get_content().replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") == \
        kw["text"].replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def test_the_short_path_is_taken_for_an_acknowledgement_and_declined_otherwise():
    def short(**over):
        kw = {**BASE, **over}
        return C._alternative_bytes(recipients=kw["recipients"], cc=kw.get("cc", ()), date=kw["date"],
                                    message_id=kw["message_id"], in_reply_to=kw["in_reply_to"],
                                    references=kw["references"], auto_submitted=kw["auto_submitted"],
                                    kind=kw["kind"], text=kw["text"], html=kw["html"])
    assert short() is not None
    for over in ("long references", "odd reply header", "quoted local part", "naive date"):
        assert short(**CASES[over]) is None, over
