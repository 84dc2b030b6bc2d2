"""Fuzzing (hypothesis, bounded): parse_message over mutated realistic mail and random bytes,
read_document over mutated real .docx/.xlsx/.pdf, byte by byte and part by part inside the
package. Neither may raise, each answer comes within a few seconds, and the readers' own error
handling must explain what went wrong: for documents, the catch-all "unexpected error" problem (the
contract's last resort in read_document) counts as a finding.

test_message.py and test_sniff.py fuzz their own seeds; these seeds are whole unit submissions as
the service receives them (scripts/fuzz_atheris.py runs the same targets coverage-guided).
"""
from __future__ import annotations

import io
import random
import time
import unicodedata
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus
import crash_harness as H
from tonghop_demo import samples
from hostile.pdf import pdf_file
from parsers.convert import Converter
from parsers.document import read_document
from parsers.message import parse_message
from parsers.model import Attachment

# LibreOffice and OCR stay out: each call would cost seconds; what is fuzzed is our own reading.
NO_TOOLS = Converter.without_programs()
MAX_SECONDS = 5.0
UNEXPECTED = "lỗi bất ngờ"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)


def text_pdf() -> bytes:
    """A one-page PDF with a text layer (Helvetica), written object by object."""
    lines = ["UY BAN NHAN DAN XA MY HOA", "So: 45/BC-UBND", "BAO CAO",
             "Ket qua thuc hien cong tac dan van nam 2024"] * 4
    content = b"BT /F1 12 Tf 72 780 Td 14 TL " + b" ".join(b"(%s) '" % x.encode() for x in lines) + b" ET"
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
                     b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
                     b"/Resources << /Font << /F1 5 0 R >> >> >>",
                     b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"])


DOCX = H._report("xa-my-hoa", "BC")
FILES = {"docx": DOCX, "xlsx": samples.form_xlsx(), "pdf": text_pdf()}
MAILS = [
    corpus.submission("ubnd.myhoa@thapmuoi.example", "UBND xã Mỹ Hòa gửi báo cáo", [("Báo cáo dân vận.docx", DOCX)]),
    corpus.gmail_dsn("ubnd.myhoa@thapmuoi.example", "<tonghop.1@thapmuoi.example>"),
    corpus.reply_to_ours("ubnd.tankieu@thapmuoi.example", "<tonghop.2@thapmuoi.example>", "Nhắc gửi báo cáo",
                         "Kính gửi quý đơn vị.", files=[("bc.docx", DOCX)]),
    *corpus.malformed()[:3],
]

# A seed, not the edits themselves: hypothesis leans towards small numbers, which would keep every
# edit near the start of the file; positions drawn uniformly reach the parts that matter.
seeds = st.integers(0, 2**32 - 1)


def mutate(data: bytes, seed: int) -> bytes:
    """A few bytes replaced, inserted or deleted anywhere; one time in five, also cut short."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        at = rng.randrange(len(out) + 1)
        out[at:at + rng.randint(0, 4)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 4)))
    if rng.random() < 0.2:
        del out[rng.randrange(len(out) + 1):]
    return bytes(out)


def mutate_part(package: bytes, seed: int) -> bytes:
    """The package re-zipped with one part's uncompressed bytes mutated: the XML readers see
    broken XML, not only a broken zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        target = names[seed % len(names)]
        for name in names:
            body = src.read(name)
            dst.writestr(name, mutate(body, seed) if name == target else body)
    return out.getvalue()


def check_document(kind: str, data: bytes) -> None:
    started = time.monotonic()
    doc = read_document(Attachment(filename=f"bao-cao.{kind}", content_type="", data=data), converter=NO_TOOLS)
    assert time.monotonic() - started < MAX_SECONDS
    assert not [p for p in doc.problems if UNEXPECTED in p], doc.problems
    assert doc.text or doc.problems, "nothing read and no reason given"
    assert unicodedata.is_normalized("NFC", doc.text)


@FUZZ
@given(st.sampled_from(sorted(FILES)), seeds)
def test_mutated_documents_are_read_or_refused_with_a_reason(kind, seed):
    check_document(kind, mutate(FILES[kind], seed))


@FUZZ
@given(st.sampled_from(["docx", "xlsx"]), seeds)
def test_documents_with_a_mutated_part_are_read_or_refused_with_a_reason(kind, seed):
    check_document(kind, mutate_part(FILES[kind], seed))


@FUZZ
@given(st.sampled_from(range(len(MAILS))), seeds)
def test_mutated_mail_never_raises_and_stays_bounded(which, seed):
    started = time.monotonic()
    msg = parse_message(mutate(MAILS[which], seed))
    assert time.monotonic() - started < MAX_SECONDS
    assert not [p for p in msg.problems if UNEXPECTED in p], msg.problems
    assert isinstance(msg.subject, str) and all(isinstance(p, str) and p for p in msg.problems)
    for att in msg.attachments:
        assert isinstance(att.data, bytes) and unicodedata.is_normalized("NFC", att.filename)
        assert "/" not in att.filename and "\\" not in att.filename


@pytest.mark.parametrize("seed", [36, 131529], ids=["attachment", "text-part"])
def test_charset_garbage_in_a_forwarded_part_is_read(seed):
    """A charset parameter of 8-bit garbage makes email's get_payload() raise UnicodeEncodeError:
    in an attachment (seed 36) and in a text part (seed 131529, parsers/message.py _raw_payload)."""
    msg = parse_message(mutate(MAILS[1], seed))
    assert not [p for p in msg.problems if UNEXPECTED in p], msg.problems


@FUZZ
@given(st.binary(min_size=1, max_size=4000), st.sampled_from(["docx", "xlsx", "pdf", "doc", "zip", "eml"]))
def test_random_bytes_under_any_name_are_refused_with_a_reason(data, kind):
    check_document(kind, data)


def test_what_atheris_found_stays_fixed():
    """scripts/fuzz_atheris.py's findings, rebuilt: an .xlsx with a member whose name is empty
    (IndexError in ZipInfo.is_dir()), a PDF whose startxref overflows (OverflowError in pypdf)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(FILES["xlsx"])) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        dst.writestr(zipfile.ZipInfo(""), b"<x/>")
    check_document("xlsx", out.getvalue())
    pdf = FILES["pdf"]
    check_document("pdf", pdf[: pdf.rindex(b"startxref\n")] + b"startxref\n" + b"9" * 40 + b"\n%%EOF\n")
    doc = read_document(Attachment(filename="a.pdf", content_type="", data=pdf[: pdf.rindex(b"startxref\n")]
                                   + b"startxref\n" + b"9" * 40 + b"\n%%EOF\n"), converter=NO_TOOLS)
    assert doc.problems == ("Tệp PDF bị hỏng, không đọc được (OverflowError).",)
