"""One attachment's bytes -> a Document: text, lines in reading order, tables, problems, facts.

The kind comes from the bytes (parsers.sniff), never from the name, so a ".doc" that is really
RTF or HTML is read as what it is. Each kind has one reader; legacy formats go through LibreOffice
(parsers.convert) to OOXML and are read like .docx/.xlsx, so run fonts survive and TCVN3/VNI text
is decoded run by run; .xls is read by xlrd with each cell's font (parsers.xls_reader), with
LibreOffice as its fallback. When LibreOffice is missing or fails, a plain-text path
(parsers.rtf_reader, ole_reader, odf_reader) reads what it can and a problem says the result is less accurate.

read_document never raises: whatever goes wrong becomes a Vietnamese problem on the Document.
"""
from __future__ import annotations

import email.message
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from parsers.convert import ConversionError, Converter
from parsers.docx_reader import MACRO_PROBLEM, Blocks, read_docx, read_pptx
from parsers.model import CONTRACT_FACTS, EXTRA_FACTS, Attachment, Document, DocumentFacts, Limits
from parsers.sniff import sniff
from parsers.xmlsafety import CORRUPT_ZIP_PROBLEM, ZIP_ERRORS
from parsers.text import ascii_key, nfc, nfc_all

ENCRYPTED_PROBLEM = "Tệp được đặt mật khẩu, không đọc được; đề nghị đơn vị gửi lại bản không đặt mật khẩu."
EMPTY_PROBLEM = "Tệp rỗng (không có nội dung), không đọc được; đề nghị đơn vị gửi lại."
NO_TEXT_PROBLEM = "Không tìm thấy chữ nào trong tệp; cần người xem."
UNKNOWN_PROBLEM = "Không nhận dạng được định dạng tệp nên không đọc được; cần người xem."
IMAGE_NO_OCR_PROBLEM = "Tệp là ảnh chụp/quét; máy chủ chưa nhận dạng được chữ (OCR) nên cần người xem."
IMAGE_OCR_PROBLEM = "Tệp là ảnh chụp/quét; nội dung được đọc bằng nhận dạng chữ (OCR) nên có thể sai sót, cần người kiểm tra."
FALLBACK_PROBLEM = (
    "Không chuyển đổi được tệp bằng LibreOffice{reason}; nội dung được đọc ở dạng chữ thô nên có thể "
    "thiếu hoặc sai (bảng, phông chữ cũ)."
)

# Kinds whose text is an administrative document: ND30 facts are looked for in them.
DOCUMENT_KINDS = {"docx", "docm", "doc", "odt", "rtf", "pdf", "html", "txt", "png", "jpeg", "tiff", "gif", "xml"}
SHEET_KINDS = {"xlsx", "xlsm", "xls", "ods"}
_TO_DOCX = {"doc": ".doc", "rtf": ".rtf", "odt": ".odt"}
_TO_XLSX = {"xls": ".xls", "ods": ".ods"}
_IMAGE_SUFFIX = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "gif": ".gif"}

_ZIP_KINDS = {"docx", "docm", "xlsx", "xlsm", "pptx", "odt", "ods", "odp"}

_converters: dict[tuple[float, float], Converter] = {}


def default_converter(limits: Limits = Limits()) -> Converter:
    """One shared Converter per time-limit pair, so LibreOffice's private profile is reused."""
    key = (float(limits.convert_timeout_seconds), float(limits.ocr_timeout_seconds))
    if key not in _converters:
        _converters[key] = Converter(timeout=key[0], ocr_timeout=key[1])
    return _converters[key]


# -- the entry point ----------------------------------------------------------------------------
def read_document(att: Attachment, limits: Limits = Limits(), *, converter: Converter | None = None) -> Document:
    """What tonghop reads in one attachment. Never raises.

    `converter` runs LibreOffice/Tesseract (default: one shared Converter with the limits' time
    limits); pass Converter(soffice=..., tesseract=...) to point at other programs or none.
    `scanned` is also set for images (png, jpeg, tiff, gif): like a scanned PDF, their text, if
    any, comes from OCR.
    """
    kind = "unknown"
    try:
        kind = sniff(att.data, att.filename)
        return _read(att, kind, limits, converter or default_converter(limits))
    except (Exception, RecursionError, MemoryError) as exc:  # the contract: a problem, never a crash
        return Document(
            filename=att.filename, kind=kind, text="", path=att.path,
            problems=tuple(att.problems) + (
                f"Không đọc được tệp do lỗi bất ngờ khi xử lý ({type(exc).__name__}); cần người xem.",),
        )


class _Result:
    def __init__(self, blocks: Blocks | None = None, *, scanned: bool = False, signed_by: Sequence[str] = ()):
        blocks = blocks or Blocks()
        self.lines = list(blocks.lines)
        self.tables = list(blocks.tables)
        self.problems = list(blocks.problems)
        self.clean = blocks.clean
        self.scanned = scanned
        self.signed_by = tuple(signed_by)


def _read(att: Attachment, kind: str, limits: Limits, converter: Converter) -> Document:
    data = att.data or b""
    if not data and att.problems:
        res = _Result()  # not opened upstream (a bomb, a limit): its problems already say why
    elif len(data) > limits.max_attachment_bytes:
        res = _Result(Blocks(problems=[
            f"Tệp quá lớn ({len(data) // (1024 * 1024)} MB, giới hạn "
            f"{limits.max_attachment_bytes // (1024 * 1024)} MB); hệ thống không đọc tệp này."]))
    else:
        try:
            res = _dispatch(kind, data, att.filename, limits, converter)
        except ZIP_ERRORS:
            if kind not in _ZIP_KINDS:
                raise
            # A member whose compressed bytes are damaged, or packed with a method zipfile lacks.
            res = _Result(Blocks(problems=[CORRUPT_ZIP_PROBLEM]))
    lines, cut = _cap(res.lines, limits.max_text_chars, clean=res.clean)
    problems = list(att.problems) + res.problems
    if cut and not any("chỉ đọc" in p and "ký tự" in p for p in problems):
        problems.append(f"Văn bản quá dài; hệ thống chỉ đọc {limits.max_text_chars:,} ký tự đầu.".replace(",", "."))
    if not lines and not problems and kind not in ("zip", "eml", "tnef"):
        problems.append(NO_TEXT_PROBLEM)
    tables = tuple(res.tables) if res.clean else _nfc_tables(res.tables)
    facts = None
    if lines and (kind in DOCUMENT_KINDS or (kind in SHEET_KINDS and has_nd30_header(lines))):
        facts = _facts(lines, tables)
    return Document(
        filename=att.filename, kind=kind, text="\n".join(lines), lines=tuple(lines), tables=tables,
        facts=facts, problems=tuple(dict.fromkeys(problems)), scanned=res.scanned,
        signed_by=res.signed_by, path=att.path,
    )


def _dispatch(kind: str, data: bytes, filename: str, limits: Limits, converter: Converter) -> _Result:
    # The readers load on first use: `tonghop --help` and `status` should not pay for them.
    from parsers.html_reader import read_html
    from parsers.odf_reader import read_odf
    from parsers.ole_reader import read_ole_fallback
    from parsers.txt_reader import read_txt


    if kind == "empty":
        return _Result(Blocks(problems=[EMPTY_PROBLEM]))
    if kind in ("docx", "docm"):
        res = _Result(read_docx(data, limits))
        if kind == "docm" and MACRO_PROBLEM not in res.problems:
            res.problems.append(MACRO_PROBLEM)
        return res
    if kind in ("xlsx", "xlsm"):
        from parsers.xlsx_reader import read_xlsx

        res = _Result(read_xlsx(data, limits))
        if kind == "xlsm" and MACRO_PROBLEM not in res.problems:
            res.problems.append(MACRO_PROBLEM)
        return res
    if kind == "pptx":
        return _Result(read_pptx(data, limits))
    if kind == "pdf":
        from parsers.pdf_reader import read_pdf

        pdf = read_pdf(data, limits, converter)
        return _Result(Blocks(lines=pdf.lines, problems=pdf.problems), scanned=pdf.scanned, signed_by=pdf.signed_by)
    if kind == "encrypted-office":
        return _Result(Blocks(problems=[ENCRYPTED_PROBLEM]))
    if kind == "xls":
        from parsers.xls_reader import XlsUnreadable, read_xls

        # xlrd first: it gives each cell's font, so TCVN3/VNI cells decode; LibreOffice only
        # for what xlrd cannot open (then the plain-strings path, as for every legacy file).
        try:
            return _Result(read_xls(data, limits))
        except XlsUnreadable:
            return _converted(kind, data, limits, converter)
    if kind in _TO_DOCX or kind in _TO_XLSX:
        return _converted(kind, data, limits, converter)
    if kind in ("ppt", "ole"):
        res = _Result(read_ole_fallback(data, kind, limits))
        res.problems.append("Tệp Office đời cũ (không phải Word/Excel) chỉ đọc được chữ thô, có thể thiếu hoặc sai.")
        return res
    if kind == "odp":
        return _Result(read_odf(data, limits))
    if kind == "html":
        return _Result(read_html(data, limits))
    if kind == "txt":
        return _Result(read_txt(data, limits))
    if kind == "xml":
        return _read_xml(data, limits, converter)
    if kind in _IMAGE_SUFFIX:
        return _ocr_image(data, kind, converter)
    if kind == "zip":
        return _Result(Blocks(problems=["Đây là tệp nén (zip); các tệp bên trong được đọc riêng."]))
    if kind in ("eml", "tnef"):
        return _Result(Blocks(problems=["Đây là thư điện tử đính kèm; các tệp bên trong được đọc riêng."]))
    return _Result(Blocks(problems=[UNKNOWN_PROBLEM]))


def _converted(kind: str, data: bytes, limits: Limits, converter: Converter) -> _Result:
    """Legacy office files through LibreOffice, else the plain-text path with a problem."""
    from parsers.odf_reader import read_odf
    from parsers.ole_reader import read_ole_fallback
    from parsers.rtf_reader import read_rtf
    from parsers.xlsx_reader import read_xlsx

    to_sheet = kind in _TO_XLSX
    reason = ""
    if converter.has_office:
        try:
            if to_sheet:
                return _Result(read_xlsx(converter.to_xlsx(data, _TO_XLSX[kind]), limits))
            return _Result(read_docx(converter.to_docx(data, _TO_DOCX[kind]), limits))
        except ConversionError as exc:
            reason = f" ({str(exc).rstrip('.')})"
    else:
        reason = " (máy chủ chưa cài LibreOffice)"
    if kind == "rtf":
        res = _Result(read_rtf(data, limits))
    elif kind in ("odt", "ods"):
        res = _Result(read_odf(data, limits))
    else:
        res = _Result(read_ole_fallback(data, kind, limits))
    if not (res.problems and res.problems[0].startswith("Tệp được đặt mật khẩu")):
        res.problems.append(FALLBACK_PROBLEM.format(reason=reason))
    return res


def _read_xml(data: bytes, limits: Limits, converter: Converter) -> _Result:
    """A bare XML file: Word 2003 XML goes through LibreOffice; anything else gives its text."""
    from lxml import etree
    from parsers.txt_reader import fix_legacy, lines_of
    from parsers.xmlsafety import check_xml_prolog, safe_xml_parser

    problem = check_xml_prolog(data[:65536], complete=len(data) <= 65536)
    if problem:
        return _Result(Blocks(problems=[problem]))
    if b"Word.Document" in data[:4096] and converter.has_office:
        try:
            return _Result(read_docx(converter.to_docx(data, ".xml"), limits))
        except ConversionError:
            pass
    try:
        root = etree.fromstring(data, safe_xml_parser())
    except etree.XMLSyntaxError:
        return _Result(Blocks(problems=["Tệp XML bị hỏng, không đọc được."]))
    text = "\n".join(t for t in root.itertext())
    return _Result(Blocks(lines=lines_of(fix_legacy(text))))


def _ocr_image(data: bytes, kind: str, converter: Converter) -> _Result:
    from parsers.txt_reader import lines_of


    if not converter.has_ocr:
        return _Result(Blocks(problems=[IMAGE_NO_OCR_PROBLEM]), scanned=True)
    try:
        text = converter.ocr_image(data, _IMAGE_SUFFIX[kind])
    except ConversionError as exc:
        return _Result(Blocks(problems=[f"{IMAGE_NO_OCR_PROBLEM} {exc}"]), scanned=True)
    return _Result(Blocks(lines=lines_of(text), problems=[IMAGE_OCR_PROBLEM]), scanned=True)


def _nfc_tables(tables) -> tuple:
    """The tables with every cell in NFC (one nfc_all over all the cells)."""
    cells = iter(nfc_all([c for table in tables for row in table for c in row]))
    return tuple(tuple(tuple(next(cells) for _c in row) for row in table) for table in tables)


def _cap(lines: Sequence[str], max_chars: int, clean: bool = False) -> tuple[list[str], bool]:
    """The lines in NFC, stripped, without empty ones, up to max_chars; and whether cut.
    `clean`: the reader already made them so (Blocks.clean)."""
    out: list[str] = []
    used = 0
    if clean:
        kept = list(lines)
    else:
        # A soft hyphen still here after legacy decoding is invisible: it would only split words.
        texts = nfc_all([line.replace("\u00ad", "") if "\u00ad" in line else line for line in lines])
        kept = [line for line in map(str.strip, texts) if line]
    if sum(map(len, kept)) + len(kept) <= max_chars + 1:  # the usual case: all of it fits
        return kept, False
    for line in kept:
        used += len(line) + 1
        if used > max_chars + 1:
            return out, True
        out.append(line)
    return out, False


def _facts(lines: Sequence[str], tables) -> DocumentFacts | None:
    from parsers.facts import extract_facts

    try:
        return extract_facts(lines, tables, normalized=True)  # _cap made the lines NFC
    except Exception:  # facts are a bonus; the text is still worth returning
        return None


def has_nd30_header(lines: Sequence[str]) -> bool:
    """Does a spreadsheet carry an administrative header (national title, motto or "Số: x/y")?"""
    for line in lines[:60]:
        key = ascii_key(line)  # dashes folded to a bare "-": "doc lap-tu do-hanh phuc"
        if ("cong hoa xa hoi chu nghia" in key or "doc lap-tu do" in key
                or re.match(r"so\s*:\s*\S*\d+\S*/", key)):
            return True
    return False


# -- files on disk (the `inspect` command) ---------------------------------------------------
def read_file(path: str | os.PathLike, limits: Limits = Limits()) -> list[Document]:
    """Documents in a file on disk: an .eml (or a zip, winmail.dat) is opened through the message
    parser, which unpacks containers within limits, and each attachment is read; plain files are
    read directly."""
    p = Path(path)
    name = nfc(p.name)
    try:
        size = p.stat().st_size
        if size > limits.max_message_bytes:
            return [Document(filename=name, kind="unknown", text="", problems=(
                f"Tệp quá lớn ({size // (1024 * 1024)} MB); hệ thống không đọc tệp này.",))]
        data = p.read_bytes()
    except OSError as exc:
        return [Document(filename=name, kind="unknown", text="",
                         problems=(f"Không mở được tệp: {exc.strerror or exc}.",))]
    kind = sniff(data, name)
    if kind in ("eml", "zip", "tnef"):
        return _read_container(data, name, kind, limits)
    return [read_document(Attachment(filename=name, content_type="", data=data), limits)]


def _read_container(data: bytes, name: str, kind: str, limits: Limits) -> list[Document]:
    from parsers.message import parse_message

    if kind == "eml":
        raw = data
    else:
        # A zip or winmail.dat on disk is wrapped in a one-attachment message, so the message
        # parser's container rules (depth, size, ratio limits) apply exactly as for mail.
        msg = email.message.EmailMessage()
        msg["Subject"] = name
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
        raw = msg.as_bytes()
    try:
        parsed = parse_message(raw, limits)
    except Exception as exc:
        return [Document(filename=name, kind=kind, text="", problems=(
            f"Không đọc được thư/tệp nén ({type(exc).__name__}); cần người xem.",))]
    docs = [read_document(att, limits) for att in parsed.attachments]
    if kind == "eml":
        extra = tuple(parsed.problems)
        if not docs:
            body = [line.strip() for line in (parsed.body_text or "").splitlines() if line.strip()]
            return [Document(filename=name, kind="eml", text="\n".join(body), lines=tuple(body),
                             problems=extra + ("Thư không có tệp đính kèm.",))]
        if extra:
            docs[0] = replace(docs[0], problems=extra + docs[0].problems)
    return docs


# -- JSON (the `inspect --json` entry) ---------------------------------------------------------
FACT_KEYS = CONTRACT_FACTS
EXTRA_FACT_KEYS = EXTRA_FACTS


def document_to_json(doc: Document) -> dict:
    """The contract's entry, plus path, scanned, signed_by, tables, extra facts and confidences."""
    facts = doc.facts
    fact_values = {key: None for key in FACT_KEYS + EXTRA_FACT_KEYS}
    confidence = {}
    if facts is not None:
        for key in FACT_KEYS + EXTRA_FACT_KEYS:
            fact = getattr(facts, key, None)
            if fact is not None:
                fact_values[key] = fact.value
                confidence[key] = fact.confidence
    return {
        "file": doc.filename,
        "path": doc.path,
        "kind": doc.kind,
        "text": doc.text,
        "facts": fact_values,
        "problems": list(doc.problems),
        "scanned": doc.scanned,
        "signed_by": list(doc.signed_by),
        "tables": [[list(row) for row in table] for table in doc.tables],
        "confidence": confidence,
        "missing": list(facts.missing) if facts is not None else None,
        "recipients": list(facts.recipients) if facts is not None else [],
    }
