"""Text of a PDF: the text layer page by page, OCR when it is a scan, and who signed it.

- Text from glyph positions: poppler's pdftotext (-layout, through parsers.convert with its
  limits) reads each page in the order the glyphs stand on it. pypdf follows the content stream,
  and a line whose letters come in two fonts (font fallback, stamps, signature overlays) then
  reads "K t qu th c hi n ... 2024ế ả ự ệ ậ" (issue 11). pypdf stays for what it does well and
  what pdftotext cannot say: opening (encryption with the empty password, broken files), the
  size of the page tree, streams that inflate past its limit, signature fields; and it reads the
  text when pdftotext is not installed or fails. pdftotext is started first and works while pypdf
  checks the file; a file pypdf refuses has its pdftotext killed unread (issue 17).
- Garbage: a text layer that reads as garbage (parsers.garbled: letters detached from their
  words, stray tone marks) is a problem on the file; the other reader is tried, then OCR.
- Pages: at most limits.max_pdf_pages are read, within a time budget
  (limits.convert_timeout_seconds); a problem says how many were read.
- A scan: a page "has text" when its text layer holds at least MIN_LETTERS_PER_PAGE letters; when
  fewer than half of the pages read have text, or the layer is mangled (mostly private-use or
  replacement characters), the PDF is `scanned` and is read by OCR (Tesseract, Vietnamese) on at
  most limits.ocr_max_pages pages, or a problem asks a person to look.
- A text layer in a legacy encoding (TCVN3/VNI fonts keep their 8-bit codes in the PDF): when
  the PDF names a legacy font (.VnTime, .VnTimeH, VNI-Times...), pypdf lists the text each font
  drew and those words are decoded by their own font, upper-case fonts included, wherever they
  stand in pdftotext's lines (which carry no font names). Then, because a PDF made where the
  legacy font was missing names the substitute instead (LibreOffice embeds DejaVu Sans for
  .VnTime), the rest is recognised by parsers.text.detect_legacy and decoded word by word
  (txt_reader.fix_legacy), so a legacy title above a Unicode body is repaired without
  touching the body.
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
from parsers.garbled import is_garbage
from parsers.model import Limits
from parsers.txt_reader import fix_legacy
from parsers.text import decode_run, legacy_encoding_for_font, nfc

MIN_LETTERS_PER_PAGE = 40
MAX_FIELD_NODES = 2000

SCAN_NO_OCR_PROBLEM = "Tệp PDF là bản quét, chưa có lớp chữ; cần người xem."
SCAN_OCR_PROBLEM = (
    "Tệp PDF là bản quét; nội dung được đọc bằng nhận dạng chữ (OCR) nên có thể sai sót, cần người kiểm tra."
)
GARBAGE_FALLBACK_PROBLEM = (
    "Lớp chữ của tệp PDF đọc theo cách thông thường bị xáo trộn (chữ rời khỏi từ); hệ thống đã đọc lại "
    "bằng cách khác, đề nghị cán bộ đối chiếu với bản gốc."
)
GARBAGE_PROBLEM = (
    "Lớp chữ của tệp PDF bị xáo trộn (chữ rời khỏi từ, dấu tách khỏi chữ) và không nhận dạng lại được; "
    "nội dung đọc được có thể sai, cần người xem."
)
GARBAGE_OCR_PROBLEM = (
    "Lớp chữ của tệp PDF bị xáo trộn (chữ rời khỏi từ); nội dung được đọc bằng nhận dạng chữ (OCR) nên "
    "có thể sai sót, cần người kiểm tra."
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
    return sum(map(str.isalpha, text))  # the same count, without a Python frame per character


def _mangled(text: str) -> bool:
    # str.split() splits on exactly the characters str.isspace() names: the count of the
    # visible ones without a Python step per character.
    visible = sum(map(len, text.split()))
    if visible < 20:
        return False
    return len(_PUA.findall(text)) > 0.1 * visible


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
    # pdftotext starts first and works on the other core while pypdf opens the file and checks it
    # (issue 17: the process costs ≈11 ms, pypdf's part ≈3 ms); it is killed unread when pypdf
    # refuses the file (broken, password, page tree, inflate bomb), so poppler still never gets
    # to the end of a file pypdf refused. Its pages are asked up to limits.max_pdf_pages, since
    # the page count is pypdf's to say, and cut to the pages read (pdftotext reads each page
    # on its own, so the first pages are the same text either way).
    run = None
    if converter is not None and limits.max_pdf_pages > 0 and converter.has_pdf_text:
        run = converter.start_pdf_text(data, limits.max_pdf_pages, 4 * limits.max_text_chars + 65536)
    try:
        return _read_pdf_checked(data, limits, converter, run)
    finally:
        if run is not None:
            run.close()


def _read_pdf_checked(data: bytes, limits: Limits, converter: Converter | None, run) -> PdfText:
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
    if total > take:
        out.problems.append(f"Tệp PDF có {total} trang; hệ thống chỉ đọc {take} trang đầu.")
    out.signed_by = signers(reader)
    if _inflate_bomb(reader, take):
        # poppler has no inflate limit (1 GB of spaces keeps pdftotext busy 6 s), pypdf has:
        # read what pypdf can and never render the file for OCR.
        out.problems.append(INFLATE_BOMB_PROBLEM)
        _split_lines(fix_legacy("\n".join(_pypdf_pages(reader, take, total, limits, out))),
                     limits.max_text_chars, out, limits)
        return out

    readers = [lambda: _pypdf_pages(reader, take, total, limits, out)]
    if run is not None:
        readers.insert(0, lambda: _poppler_pages(run, take))
    legacy = _legacy_words(reader, take) if _names_legacy_font(reader, take, data) else {}
    readings = []
    for read in readers:
        pages = read()
        if pages is None:
            continue
        reading = _Reading(pages, legacy)
        if reading.verdict == "ok":
            if any(r.verdict == "garbage" for r in readings):
                out.problems.append(GARBAGE_FALLBACK_PROBLEM)
            _split_lines(reading.text, limits.max_text_chars, out, limits)
            return out
        readings.append(reading)
    _no_good_layer(data, readings, out, limits, converter, total)
    return out


@dataclass
class _Reading:
    """One reader's text of the pages, legacy words decoded, and what it looks like."""

    pages: list[str]
    legacy: dict[str, str] = field(default_factory=dict)  # words drawn in a legacy font, decoded
    text: str = ""
    verdict: str = ""  # "ok", "scan" (too few letters), "mangled" (private-use codes), "garbage"

    def __post_init__(self) -> None:
        raw = "\n".join(self.pages)
        with_text = sum(1 for page in self.pages if _letters(page) >= MIN_LETTERS_PER_PAGE)
        by_font = _WORD_RE.sub(lambda m: self.legacy.get(nfc(m.group()), m.group()), raw) if self.legacy else raw
        self.text = fix_legacy(by_font)
        if _mangled(raw):
            self.verdict = "mangled"
        elif not self.pages or with_text * 2 < len(self.pages):
            self.verdict = "scan"
        elif is_garbage(self.text):
            self.verdict = "garbage"
        else:
            self.verdict = "ok"


def _no_good_layer(data: bytes, readings: list[_Reading], out: PdfText, limits: Limits,
                   converter: Converter | None, total: int) -> None:
    """No reader gave a usable text layer: OCR, or keep the best text there is with a problem."""
    if not readings:  # every reader failed; pypdf never returns None, so this is defensive
        out.problems.append("Tệp PDF bị hỏng, không đọc được lớp chữ; cần người xem.")
        return
    garbage = next((r for r in readings if r.verdict == "garbage"), None)
    mangled = any(r.verdict == "mangled" for r in readings)
    scan = next((r for r in readings if r.verdict == "scan"), None)
    if not readings[0].pages:
        return  # a PDF of no pages: nothing to read, nothing to OCR
    out.scanned = True
    _ocr(data, out, limits, converter, total, mangled and garbage is None and scan is None, garbage is not None)
    if out.lines:
        return
    if garbage is not None:
        out.problems.append(GARBAGE_PROBLEM)
        _split_lines(garbage.text, limits.max_text_chars, out, limits)
    elif scan is not None and scan.text.strip():
        # OCR unavailable: keep what little text layer there is (a stamp, a page number).
        _split_lines(scan.text, limits.max_text_chars, out, limits)


_WORD_RE = re.compile(r"\S+")
_SUBSET_TAG_RE = re.compile(r"^/?(?:[A-Z]{6}\+)?")


def _font_name(font) -> str | None:
    """A PDF font's name as office programs call it: "ABCDEF+.VnTimeH,Bold" -> ".VnTimeH,Bold";
    "VnTime" (the PostScript name some exporters write) -> ".VnTime"."""
    try:
        base = str(font.get("/BaseFont") or "")
    except Exception:
        return None
    return _office_font_name(base)


def _office_font_name(base: str) -> str | None:
    name = _SUBSET_TAG_RE.sub("", base)
    return "." + name if re.match(r"Vn[A-Z]", name) else (name or None)


# A font dictionary as LibreOffice and Word write it: one flat dictionary of names, numbers,
# references and arrays of those (/Widths), no string, nested dictionary, comment, name escape
# or stream. pypdf parses every number of /Widths into an object (≈2 ms a PDF of the ≈4 ms
# pypdf costs the reader, issue 17); for such a dictionary /BaseFont is read from the bytes.
_FLAT_FONT_OBJECT = re.compile(rb"[ \t\r\n\f\0]*(\d+)[ \t\r\n\f\0]+(\d+)[ \t\r\n\f\0]+obj[ \t\r\n\f\0]*"
                               rb"<<([/A-Za-z0-9+\-_.,\[\] \t\r\n\f\0]*)>>[ \t\r\n\f\0]*endobj")
_FLAT_TOKEN = re.compile(rb"/[A-Za-z0-9+\-_.,]+|\[|\]|[^/\[\] \t\r\n\f\0]+")
_FLAT_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)|true|false|null")


def _flat_base_font(data: bytes, reader, ref) -> str | None:
    """str() of the /BaseFont of the font object ref ("" when it has none), read from the bytes;
    None when the object is not a flat dictionary stored uncompressed at its cross-reference
    offset (pypdf reads it then)."""
    try:
        if ref.idnum in reader.xref_objStm:
            return None  # pypdf reads a compressed copy first (an update may have moved it there)
        offset = reader.xref[ref.generation][ref.idnum]
    except (KeyError, TypeError, AttributeError):
        return None
    if not isinstance(offset, int) or isinstance(offset, bool) or reader.is_encrypted:
        return None
    m = _FLAT_FONT_OBJECT.match(data, offset)
    if m is None or int(m.group(1)) != ref.idnum or int(m.group(2)) != ref.generation:
        return None
    tokens = _FLAT_TOKEN.findall(m.group(3))
    base, i, depth = "", 0, 0
    while i < len(tokens):
        token = tokens[i]
        if token == b"[":
            depth += 1
        elif token == b"]":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:  # a key, then its value: a name, a number, a reference or an array
            if not token.startswith(b"/") or i + 1 >= len(tokens):
                return None
            value = tokens[i + 1]
            if len(tokens) > i + 3 and tokens[i + 3] == b"R" and value.isdigit() and tokens[i + 2].isdigit():
                if token == b"/BaseFont":
                    return None  # an indirect /BaseFont: pypdf's own way
                i += 4
                continue
            if token == b"/BaseFont":
                if base or not value.startswith(b"/"):
                    return None  # a repeated key, or not a name
                base = value.decode("ascii")
            elif value != b"[" and not value.startswith(b"/") and not _FLAT_NUMBER.fullmatch(value):
                return None
            i += 1 if value == b"[" else 2
            continue
        elif not (token.startswith(b"/") or token == b"R" or _FLAT_NUMBER.fullmatch(token)):
            return None
        i += 1
    return base if depth == 0 else None


def _names_legacy_font(reader, take: int, data: bytes = b"") -> bool:
    """Does any page read name a legacy font among its resources? No content is parsed, and a
    font shared by many pages (the usual case) is looked at once."""
    seen: set[int] = set()
    for index in range(take):
        try:
            fonts = reader.pages[index]["/Resources"].get_object().get("/Font") or {}
            for ref in fonts.get_object().values():
                key = getattr(ref, "idnum", None)
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                    base = _flat_base_font(data, reader, ref)
                    if base is not None:
                        if legacy_encoding_for_font(_office_font_name(base)):
                            return True
                        continue
                if legacy_encoding_for_font(_font_name(ref.get_object())):
                    return True
        except Exception:
            continue
    return False


def _legacy_words(reader, take: int) -> dict[str, str]:
    """Each word pypdf sees drawn in a legacy font -> that word decoded by its font's table."""
    words: dict[str, str] = {}

    def visit(text, _cm, _tm, font, _size) -> None:
        name = _font_name(font) if font else None
        if not text.strip() or not legacy_encoding_for_font(name):
            return
        before, after = nfc(text).split(), decode_run(text, name).split()
        if len(before) == len(after):  # a word split or joined by decoding: leave it to fix_legacy
            words.update((a, b) for a, b in zip(before, after) if a != b)

    for index in range(take):
        try:
            reader.pages[index].extract_text(visitor_text=visit)
        except Exception:
            continue
    return words


def _inflate_bomb(reader, take: int) -> bool:
    """Does a page's content stream inflate past pypdf's limit? Only the streams are inflated,
    in C: a few hundred microseconds for an ordinary page."""
    from pypdf.errors import LimitReachedError

    for index in range(take):
        try:
            contents = reader.pages[index].get_contents()
            if contents is not None:
                contents.get_data()
        except LimitReachedError:
            return True
        except Exception:  # a broken page is the readers' business
            continue
    return False


def _poppler_pages(run, take: int) -> list[str] | None:
    """pdftotext's text of the first `take` pages; None when it fails (pypdf reads instead).
    (-layout pads lines with spaces: read_pdf allows four bytes a character and then some.)"""
    if take < 1:
        return []  # nothing to read: as before, pdftotext's verdict on the file does not matter
    try:
        return run.pages()[:take]
    except ConversionError:
        return None


def _pypdf_pages(reader, take: int, total: int, limits: Limits, out: PdfText) -> list[str]:
    from pypdf.errors import LimitReachedError

    pages: list[str] = []
    start = time.monotonic()
    for index in range(take):
        if time.monotonic() - start > limits.convert_timeout_seconds:
            out.problems.append(f"Tệp PDF đọc quá lâu; hệ thống chỉ đọc {index}/{total} trang đầu.")
            break
        try:
            pages.append(reader.pages[index].extract_text() or "")
        except LimitReachedError:
            pages.append("")
        except Exception:  # one broken page must not lose the others
            pages.append("")
    return pages


def _ocr(data: bytes, out: PdfText, limits: Limits, converter: Converter | None,
         total: int, mangled: bool, garbage: bool = False) -> None:
    if converter is None or not converter.has_ocr or not converter.has_pdf_render:
        if garbage:
            return  # the caller keeps the garbled text with its own problem
        out.problems.append(
            SCAN_NO_OCR_PROBLEM if not mangled
            else "Lớp chữ của tệp PDF bị lỗi mã, không đọc được; cần người xem."
        )
        return
    wanted = min(total, max(limits.ocr_max_pages, 0), max(limits.max_pdf_pages, 0))
    try:
        texts, complete = converter.ocr_pdf_pages(data, wanted)
    except ConversionError as exc:
        out.problems.append(f"{SCAN_NO_OCR_PROBLEM} {exc}")
        return
    out.problems.append(GARBAGE_OCR_PROBLEM if garbage else SCAN_OCR_PROBLEM)
    if len(texts) < total:
        out.problems.append(ocr_pages_problem(len(texts), total, complete))
    _split_lines("\n".join(texts), limits.max_text_chars, out, limits)
    if not out.lines:
        out.problems.append("Nhận dạng chữ (OCR) không đọc được nội dung nào; cần người xem.")


def ocr_pages_problem(read: int, total: int, complete: bool) -> str:
    """How many pages of a scan OCR read, of how many, and why not all."""
    why = ("theo giới hạn số trang nhận dạng của hệ thống" if complete
           else "trong thời gian cho phép")
    return (f"Bản quét có {total} trang; hệ thống đã nhận dạng chữ {read}/{total} trang đầu ({why}), "
            f"các trang sau chưa được đọc. Kính đề nghị cán bộ xem trực tiếp các trang còn lại.")


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
