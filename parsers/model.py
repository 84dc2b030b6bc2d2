"""The facts parsers hand to the daemon: plain frozen data, no behaviour, no IO.

parsers/ turns bytes into these objects; daemon/ decides with them. Keeping the shapes here lets
each reader (message, docx, xlsx, pdf, legacy) grow on its own while the seam stays fixed.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on what one message may cost; the defaults can be overridden in settings.toml [limits]."""

    max_message_bytes: int = 60 * 1024 * 1024
    max_attachment_bytes: int = 40 * 1024 * 1024
    max_header_bytes: int = 2 * 1024 * 1024
    zip_max_total_bytes: int = 200 * 1024 * 1024
    zip_max_ratio: int = 100
    zip_max_files: int = 200
    zip_max_depth: int = 3
    max_pdf_pages: int = 200
    max_text_chars: int = 2_000_000
    convert_timeout_seconds: int = 60
    ocr_timeout_seconds: int = 120
    ocr_max_pages: int = 30  # pages of a scanned PDF read by OCR (about 2 s a page on one core)


@dataclass(frozen=True)
class Attachment:
    """One file found in a message, at any depth (zip, forwarded mail, winmail.dat)."""

    filename: str  # NFC, made safe (no path separators, no control characters)
    content_type: str  # as declared by the sender, lower case
    data: bytes
    path: str = ""  # where it was found: "" at top level, "bao-cao.zip", "Fwd: .../winmail.dat"
    inline: bool = False  # it came as an inline part that still carries a file
    problems: tuple[str, ...] = ()  # Vietnamese: why this file (e.g. a zip bomb) was not opened

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedMessage:
    """What a raw RFC 5322 message says about itself, decoded and normalised (NFC)."""

    message_id: str | None
    subject: str
    from_addr: str | None  # lower-cased address of From, None when absent or unparsable
    from_name: str
    to: tuple[str, ...]
    date: str | None  # the Date header as sent (never used as the arrival time)
    headers: tuple[tuple[str, str], ...]  # top-level headers, names as sent, values decoded
    return_path: str | None  # None when the header is absent; "" for the null path "<>"
    content_type: str  # top-level, lower case, e.g. "multipart/report"
    report_type: str | None  # the report-type parameter of a multipart/report
    body_text: str  # the readable text body (plain, or HTML stripped), NFC
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...] = ()  # Vietnamese, one line each: what could not be read and why

    def header(self, name: str) -> str | None:
        """The first header with this name (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True)
class Fact:
    value: str | None
    confidence: float  # 0..1; 0 with value None means "not found"


@dataclass(frozen=True)
class Section:
    heading: str  # as written, e.g. "II. KẾT QUẢ THỰC HIỆN"
    number: str  # "II", "1", "a"
    level: int  # 1 for roman numerals, 2 for arabic, 3 for letters
    text: str  # the section's own text (paragraphs joined by "\n"), without sub-sections


@dataclass(frozen=True)
class Figure:
    """One number read from a table: the row's label, the column's label and the value."""

    row: str
    column: str
    value: float
    code: str | None = None  # an indicator code found in the row, e.g. "1.2" or "DV01"


@dataclass(frozen=True)
class Indicator:
    """One line of a campaign's form: a code the form gives it, its name, its unit of measure.
    Here, with the other records, because the config carries it (read from the form, or from the
    cache of that read) without loading the figures reader."""

    code: str
    name: str
    unit: str = ""


# The one list of ND30 fact names (each a field of DocumentFacts below). CONTRACT_FACTS are the
# facts `inspect --json` promises (DESIGN.md: fields are only added, never renamed); EXTRA_FACTS
# are read too and shown beside them. Every other module takes the names from here.
CONTRACT_FACTS = ("issuer", "number", "date", "type", "title", "place", "authority", "signer_title", "signer")
EXTRA_FACTS = ("parent_body", "type_name", "addressee")
FACT_NAMES = ("parent_body", "issuer", "number", "type", "type_name", "title", "place", "date",
              "addressee", "authority", "signer_title", "signer")  # DocumentFacts' order


@dataclass(frozen=True)
class DocumentFacts:
    """ND30 facts of one document. Every field has a confidence; what is missing is None."""

    parent_body: Fact
    issuer: Fact
    number: Fact  # "45/BC-UBND"; None for a draft with a blank number
    type: Fact  # type code: "BC", "KH", ...; "CV" for a công văn
    type_name: Fact  # as written: "BÁO CÁO", "KẾ HOẠCH", "V/v"
    title: Fact
    place: Fact
    date: Fact  # ISO "2024-10-15"
    addressee: Fact
    authority: Fact  # "TM. ỦY BAN NHÂN DÂN"
    signer_title: Fact
    signer: Fact
    recipients: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    leaders: tuple[str, ...] = ()  # "phân công đồng chí X ... phụ trách" -> ("X, chức vụ",)
    figures: tuple[Figure, ...] = ()
    missing: tuple[str, ...] = ()  # names of the facts not found, e.g. ("number", "signer")


@dataclass(frozen=True)
class Document:
    """What tonghop read in one file."""

    filename: str
    kind: str  # from the bytes: docx, xlsx, pdf, doc, xls, rtf, odt, html, txt, zip, eml, ...
    text: str  # all text, NFC; "" when unreadable
    lines: tuple[str, ...] = ()  # reading order, tables flattened row by row, cell by cell
    tables: tuple[tuple[tuple[str, ...], ...], ...] = ()
    facts: DocumentFacts | None = None
    problems: tuple[str, ...] = ()  # Vietnamese, for people: why something could not be read
    scanned: bool = False  # a PDF with no usable text layer
    signed_by: tuple[str, ...] = ()  # names in digital signature fields, where readable
    path: str = ""


# -- the ledger's JSON back into facts (daemon/intake.facts_record writes it) --------------------

def facts_from_json(data: "str | bytes | dict | None") -> DocumentFacts | None:
    """A document's facts as the ledger keeps them (the JSON text of attachments.facts, or its
    parsed dict) rebuilt as a DocumentFacts with its Sections and Figures: the one way the facts
    cross back from the ledger, so every reader gets typed fields and never guesses at a dict.
    None for no facts; a field absent from older rows is "not found"; never raises."""
    import json

    if not data:
        return None
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if not isinstance(data, dict):
        return None
    confidence = data.get("confidence") if isinstance(data.get("confidence"), dict) else {}

    def fact(name: str) -> Fact:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            return Fact(None, 0.0)
        try:
            conf = float(confidence.get(name, 1.0))
        except (TypeError, ValueError):
            conf = 1.0
        return Fact(value, conf)

    def strings(name: str) -> tuple[str, ...]:
        items = data.get(name)
        return tuple(x for x in items if isinstance(x, str)) if isinstance(items, list) else ()

    def dicts(name: str) -> list[dict]:
        items = data.get(name)
        return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []

    sections = tuple(Section(heading=str(s.get("heading") or ""), number=str(s.get("number") or ""),
                             level=s["level"] if isinstance(s.get("level"), int) and s["level"] > 0 else 1,
                             text=str(s.get("text") or "")) for s in dicts("sections"))
    figures = tuple(Figure(row=str(f.get("row") or ""), column=str(f.get("column") or ""), value=float(f["value"]),
                           code=(str(f["code"]) if f.get("code") else None))
                    for f in dicts("figures")
                    if isinstance(f.get("value"), (int, float)) and not isinstance(f.get("value"), bool))
    return DocumentFacts(**{n: fact(n) for n in FACT_NAMES}, recipients=strings("recipients"), sections=sections,
                         leaders=strings("leaders"), figures=figures, missing=strings("missing"))
