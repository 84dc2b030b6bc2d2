"""Hostile Office files: an XML bomb and external entities inside real .docx/.xlsx packages,
password-protected (OLE EncryptedPackage) files, and damaged packages. The real files come from
python-docx/openpyxl (tests/fixtures_docs.py); only the parts named are rewritten."""
from __future__ import annotations

import io
import re
import zipfile

import fixtures_docs as F

from hostile import archives

XXE_DOCTYPE = '<!DOCTYPE worksheet [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>'

# A parameter entity that would fetch a DTD from the network (out-of-band XXE): nothing may be
# fetched, and the file is refused like any other DOCTYPE with entities.
XXE_REMOTE_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE w:styles [ <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote; ]>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>"""


def report() -> bytes:
    return F.nd30_report()


def billion_laughs_docx() -> bytes:
    return F.rewrite_docx(report(), {"word/document.xml": F.BILLION_LAUGHS})


def xxe_docx() -> bytes:
    return F.rewrite_docx(report(), {"word/document.xml": F.EXTERNAL_ENTITY, "word/styles.xml": XXE_REMOTE_STYLES})


def xxe_xlsx() -> bytes:
    """The first sheet's first text cell replaced by an entity that names /etc/passwd."""
    data = F.sample_xlsx()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    sheet = sheet.replace("?>", "?>" + XXE_DOCTYPE, 1) if sheet.startswith("<?xml") else XXE_DOCTYPE + sheet
    sheet = re.sub(r"<t>[^<]*</t>", "<t>&xxe;</t>", sheet, count=1)
    assert "&xxe;" in sheet
    return F.rewrite_docx(data, {"xl/worksheets/sheet1.xml": sheet})


def encrypted() -> bytes:
    """What Word and Excel write for a password-protected .docx/.xlsx (the same OLE container)."""
    return F.encrypted_office_file()


def truncated_docx() -> bytes:
    return archives.truncated(report())


def bad_crc_docx() -> bytes:
    return archives.bad_crc(report())
