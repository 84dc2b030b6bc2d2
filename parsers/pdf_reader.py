"""Text of a PDF: the text layer page by page (pypdf), OCR when it is a scan, and who signed it.

- Pages: at most limits.max_pdf_pages are read, within a time budget
  (limits.convert_timeout_seconds); a problem says how many were read.
- A scan: a page "has text" when its text layer holds at least MIN_LETTERS_PER_PAGE letters; when
  fewer than half of the pages read have text, or the layer is mangled (mostly private-use or
  replacement characters), the PDF is `scanned` and is read by OCR (Tesseract, Vietnamese) on at
  most OCR_MAX_PAGES pages, or a problem asks a person to look.
- A text layer in a legacy encoding (TCVN3/VNI fonts keep their 8-bit codes in the PDF) is
  recognised by parsers.text.detect_legacy and decoded word by word (plain_readers.fix_legacy),
  so a legacy title above a Unicode body is repaired without touching the body.
- Encrypted: the empty user password is tried (PDFs with only an owner password, common for
  official documents, open this way); otherwise a problem.
- Signatures: every AcroForm field of type /Sig with a value; the signer is the value's /Name when
  present, else the subject common name (CN) of the leaf certificate in its PKCS#7 /Contents
  (the certificate that issued no other one in the bundle). Nothing is verified: this only says
  who the file claims signed it.
"""
from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import dataclass, field

from parsers.convert import ConversionError, Converter
from parsers.docx_reader import truncated_problem
from parsers.model import Limits
from parsers.plain_readers import fix_legacy
from parsers.text import nfc

MIN_LETTERS_PER_PAGE = 40
OCR_MAX_PAGES = 30
MAX_FIELD_NODES = 2000

SCAN_NO_OCR_PROBLEM = "Tệp PDF là bản quét, chưa có lớp chữ; cần người xem."
SCAN_OCR_PROBLEM = (
    "Tệp PDF là bản quét; nội dung được đọc bằng nhận dạng chữ (OCR) nên có thể sai sót, cần người kiểm tra."
)
PASSWORD_PROBLEM = "Tệp PDF được đặt mật khẩu, không đọc được; đề nghị đơn vị gửi lại bản không đặt mật khẩu."
TOO_MANY_PAGES_PROBLEM = (
    "Tệp PDF có cây trang quá lớn (trên {limit} mục), có thể là tệp độc hại; hệ thống không đọc tệp này."
)
INFLATE_BOMB_PROBLEM = (
    "Tệp PDF có phần dữ liệu giải nén ra quá lớn (nghi là bom nén); hệ thống không đọc phần đó và không "
    "nhận dạng chữ (OCR) tệp này, cần người xem."
)
# pypdf walks the whole page tree before the first page can be read: 100,000 empty pages (12 MB)
# took 13 s and 290 MB. A tree of more entries than this is refused (tests/test_hostile.py).
MAX_PAGE_TREE_ENTRIES = 5000

_PUA = re.compile(r"[\ue000-\uf8ff\ufffd\x00-\x08\x0b\x0c\x0e-\x1f]")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # broken PDFs are common; problems say enough


@dataclass
class PdfText:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    scanned: bool = False
    signed_by: list[str] = field(default_factory=list)


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def _mangled(text: str) -> bool:
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 20:
        return False
    return len(_PUA.findall(text)) > 0.1 * len(visible)


def _split_lines(text: str, limit: int, out: PdfText, limits: Limits, used: int = 0) -> int:
    for raw in text.splitlines():
        line = nfc(raw).strip()
        if not line:
            continue
        used += len(line) + 1
        if used > limit:
            out.problems.append(truncated_problem(limits))
            return -1
        out.lines.append(line)
    return used


def read_pdf(data: bytes, limits: Limits = Limits(), converter: Converter | None = None) -> PdfText:
    try:  # pypdf 7 has it: limits on what a hostile PDF may make it do
        from pypdf import apply_configuration
    except ImportError:
        return _read_pdf(data, limits, converter)
    with apply_configuration(page_tree_maximum_entries=MAX_PAGE_TREE_ENTRIES):
        return _read_pdf(data, limits, converter)


def _read_pdf(data: bytes, limits: Limits, converter: Converter | None) -> PdfText:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    out = PdfText()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except (PyPdfError, ValueError, TypeError, KeyError, OSError, RecursionError, AssertionError,
            ArithmeticError) as exc:  # ArithmeticError: a huge startxref overflows (scripts/fuzz_atheris.py)
        out.problems.append(f"Tệp PDF bị hỏng, không đọc được ({type(exc).__name__}).")
        return out
    if encrypted:
        try:
            opened = reader.decrypt("")
        except Exception as exc:  # unsupported algorithm, missing crypto support
            out.problems.append(f"{PASSWORD_PROBLEM} ({type(exc).__name__})")
            return out
        if not opened:
            out.problems.append(PASSWORD_PROBLEM)
            return out
    try:
        total = len(reader.pages)
    except LimitReachedError:
        out.problems.append(TOO_MANY_PAGES_PROBLEM.format(limit=f"{MAX_PAGE_TREE_ENTRIES:,}".replace(",", ".")))
        return out
    except Exception as exc:
        out.problems.append(f"Tệp PDF bị hỏng, không đọc được danh sách trang ({type(exc).__name__}).")
        return out
    take = min(total, max(limits.max_pdf_pages, 0))
    pages: list[str] = []
    bomb = False  # a stream pypdf refused to inflate past its limit: poppler (OCR) has none
    start = time.monotonic()
    for index in range(take):
        if time.monotonic() - start > limits.convert_timeout_seconds:
            out.problems.append(
                f"Tệp PDF đọc quá lâu; hệ thống chỉ đọc {index}/{total} trang đầu."
            )
            break
        try:
            pages.append(reader.pages[index].extract_text() or "")
        except LimitReachedError:
            bomb = True
            pages.append("")
        except Exception:  # one broken page must not lose the others
            pages.append("")
    if total > take:
        out.problems.append(f"Tệp PDF có {total} trang; hệ thống chỉ đọc {take} trang đầu.")
    out.signed_by = signers(reader)

    text = "\n".join(pages)
    with_text = sum(1 for page in pages if _letters(page) >= MIN_LETTERS_PER_PAGE)
    mangled = _mangled(text)
    if bomb:
        out.problems.append(INFLATE_BOMB_PROBLEM)
    elif pages and (with_text * 2 < len(pages) or mangled):
        out.scanned = True
        _ocr(data, out, limits, converter, len(pages), mangled)
        if out.lines or not text.strip() or mangled:
            return out
        # OCR unavailable: keep what little text layer there is (a stamp, a page number).
    text = fix_legacy(text)
    _split_lines(text, limits.max_text_chars, out, limits)
    return out


def _ocr(data: bytes, out: PdfText, limits: Limits, converter: Converter | None,
         pages: int, mangled: bool) -> None:
    if converter is None or not converter.has_ocr or not converter.has_pdf_render:
        out.problems.append(
            SCAN_NO_OCR_PROBLEM if not mangled
            else "Lớp chữ của tệp PDF bị lỗi mã, không đọc được; cần người xem."
        )
        return
    wanted = min(pages, OCR_MAX_PAGES)
    try:
        texts, complete = converter.ocr_pdf_pages(data, wanted)
    except ConversionError as exc:
        out.problems.append(f"{SCAN_NO_OCR_PROBLEM} {exc}")
        return
    out.problems.append(SCAN_OCR_PROBLEM)
    if not complete or pages > len(texts):
        out.problems.append(f"Chỉ nhận dạng chữ được {len(texts)}/{pages} trang đầu của bản quét.")
    _split_lines("\n".join(texts), limits.max_text_chars, out, limits)
    if not out.lines:
        out.problems.append("Nhận dạng chữ (OCR) không đọc được nội dung nào; cần người xem.")


# -- signatures -------------------------------------------------------------------------------
def signers(reader) -> list[str]:
    """Names of the signers of /Sig fields (see module docstring); [] when none or unreadable."""
    try:
        root = reader.trailer["/Root"].get_object()
        acro = root.get("/AcroForm")
        if acro is None:
            return []
        fields = acro.get_object().get("/Fields") or []
    except Exception:
        return []
    names: list[str] = []
    stack = [(f, None) for f in list(fields)]
    seen: set[int] = set()
    visited = 0
    while stack and visited < MAX_FIELD_NODES:
        ref, inherited_ft = stack.pop(0)
        visited += 1
        try:
            key = getattr(ref, "idnum", None)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            node = ref.get_object()
            ft = node.get("/FT", inherited_ft)
            for kid in node.get("/Kids") or []:
                stack.append((kid, ft))
            if ft != "/Sig" or "/V" not in node:
                continue
            name = _signer_name(node["/V"].get_object())
        except Exception:
            continue
        if name and name not in names:
            names.append(name)
    return names


def _signer_name(value) -> str | None:
    name = value.get("/Name")
    if name:
        text = nfc(str(name)).strip()
        if text:
            return text
    contents = value.get("/Contents")
    if contents is None:
        return None
    raw = bytes(contents.original_bytes if hasattr(contents, "original_bytes") else contents)
    return certificate_cn(raw)


def _der_length(raw: bytes) -> int | None:
    """Total length of the DER element at the start of raw (PDF pads /Contents with zeros)."""
    if len(raw) < 2 or raw[0] != 0x30:
        return None
    first = raw[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(raw) < 2 + count:
        return None
    return 2 + count + int.from_bytes(raw[2:2 + count], "big")


def certificate_cn(pkcs7_der: bytes) -> str | None:
    """Subject CN of the leaf certificate in a PKCS#7/CMS blob; None when not readable."""
    try:
        from cryptography.hazmat.primitives.serialization import pkcs7
        from cryptography.x509.oid import NameOID
    except ImportError:
        return None
    size = _der_length(pkcs7_der)
    if not size:
        return None
    try:
        certs = pkcs7.load_der_pkcs7_certificates(pkcs7_der[:size])
    except Exception:
        return None
    if not certs:
        return None
    # The signer's certificate is the one that issued no other certificate in the bundle.
    issuers = {c.issuer for c in certs}
    leaves = [c for c in certs if c.subject not in issuers]
    cert = (leaves or certs)[0]
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return None
    text = nfc(str(values[0].value)).strip()
    return text or None
