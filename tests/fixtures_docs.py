"""Builders of real office files for the document-reading tests.

Word and Excel files are written by python-docx and openpyxl; PDFs, .doc, .xls, .odt and .ods by
LibreOffice from those (tests cache them per session); scans are rendered by pdftoppm. A few
files no tool here can write are put together from their published formats, each said where.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import struct
import subprocess
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path

import docx
import openpyxl
from docx.shared import Pt

TCVN3_TITLE = "Céng hoµ x· héi chñ nghÜa ViÖt Nam"  # "Cộng hoà xã hội chủ nghĩa Việt Nam" in TCVN3
TCVN3_TITLE_UNICODE = "Cộng hoà xã hội chủ nghĩa Việt Nam"
TCVN3_PLAN = "KÕ ho¹ch n¨m 2024"  # "Kế hoạch năm 2024"
TCVN3_PLACE = "Th¸p M­êi"  # "Tháp Mười" (0xAD, the soft hyphen, is TCVN3 "ư")


def cp1258_bytes(text: str) -> bytes:
    """Windows-1258 bytes of Unicode text: letters the code page lacks precomposed are written
    as base letter + tone mark, as Windows does."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = [c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323"]
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += base.encode("cp1258") + "".join(tones).encode("cp1258")
    return bytes(out)


def _font(run, name: str) -> None:
    run.font.name = name  # python-docx writes w:rFonts ascii and hAnsi


def nd30_report(*, legacy: bool = False, header_text: str = "Trang đầu - báo cáo dân vận",
                footer_text: str = "Lưu: VT, NV.", extra_paragraphs: int = 0) -> bytes:
    """An ND30-style report: header table, title, body, a figures table, signature block.

    With legacy=True the national title is typed in TCVN3 with .VnTime and one paragraph mixes a
    TCVN3 run with Unicode runs.
    """
    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    d.sections[0].header.paragraphs[0].text = header_text
    d.sections[0].footer.paragraphs[0].text = footer_text
    head = d.add_table(rows=2, cols=2)
    head.cell(0, 0).text = "ỦY BAN NHÂN DÂN\nXÃ MỸ HÒA"
    right = head.cell(0, 1).paragraphs[0]
    if legacy:
        _font(right.add_run(TCVN3_TITLE), ".VnTime")
    else:
        right.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    head.cell(0, 1).add_paragraph("Độc lập - Tự do - Hạnh phúc")
    head.cell(1, 0).text = "Số: 45/BC-UBND"
    place = head.cell(1, 1).paragraphs[0]
    if legacy:
        _font(place.add_run(TCVN3_PLACE), ".VnTime")
        place.add_run(", ngày 15 tháng 10 năm 2024")
    else:
        place.add_run("Tháp Mười, ngày 15 tháng 10 năm 2024")
    d.add_paragraph("BÁO CÁO")
    d.add_paragraph("Kết quả thực hiện công tác dân vận năm 2024")
    d.add_paragraph("Kính gửi: Ủy ban nhân dân huyện Tháp Mười")
    d.add_paragraph("I. TÌNH HÌNH TRIỂN KHAI")
    d.add_paragraph("Đơn vị đã quán triệt Chỉ thị số 33/CT-TTg đến toàn thể cán bộ.")
    for i in range(extra_paragraphs):
        d.add_paragraph(f"Đoạn bổ sung số {i + 1} về công tác dân vận của đơn vị.")
    figures = d.add_table(rows=3, cols=3)
    figures.cell(0, 0).text = "Chỉ tiêu"
    figures.cell(0, 1).text = "Kế hoạch"
    figures.cell(0, 2).text = "Thực hiện"
    figures.cell(1, 0).text = "Số cuộc tuyên truyền"
    figures.cell(1, 1).text = "12"
    figures.cell(1, 2).text = "1.234,5"
    merged = figures.cell(2, 0).merge(figures.cell(2, 1))
    merged.text = "Tổng (ô gộp)"
    figures.cell(2, 2).text = "99"
    d.add_paragraph("TM. ỦY BAN NHÂN DÂN")
    d.add_paragraph("CHỦ TỊCH")
    d.add_paragraph("Đoàn Thanh Bình")
    return save_docx(d)


def save_docx(d) -> bytes:
    bio = io.BytesIO()
    d.save(bio)
    return bio.getvalue()


def legacy_docx() -> bytes:
    """TCVN3 runs (.VnTime), a VNI run, a paragraph mixing legacy and Unicode runs, and a
    paragraph whose font comes from its style rather than the run."""
    d = docx.Document()
    p = d.add_paragraph()
    _font(p.add_run(TCVN3_TITLE), ".VnTime")
    p = d.add_paragraph()
    p.add_run("Địa danh: ")
    _font(p.add_run(TCVN3_PLACE), ".VnTime")
    p.add_run(" – tỉnh Đồng Tháp")
    p = d.add_paragraph()
    _font(p.add_run("Boä Taøi chính"), "VNI-Times")
    styled = d.styles.add_style("LegacyBody", 1)  # WD_STYLE_TYPE.PARAGRAPH
    styled.font.name = ".VnTime"
    d.add_paragraph(TCVN3_TITLE, style="LegacyBody")
    t = d.add_table(rows=1, cols=2)
    _font(t.cell(0, 0).paragraphs[0].add_run(TCVN3_PLACE), ".VnTime")
    t.cell(0, 1).text = "Unicode"
    return save_docx(d)


def rewrite_docx(data: bytes, replace: dict[str, bytes | str], add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a package with some parts rewritten (str values: a regex substitution on the
    part is not done; the whole part text is replaced) and parts added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename in replace:
                value = replace[info.filename]
                body = value.encode("utf-8") if isinstance(value, str) else value
            dst.writestr(info.filename, body)
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def document_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read("word/document.xml").decode("utf-8")


def with_body_xml(data: bytes, body_inner: str) -> bytes:
    """Replace the body's content (before w:sectPr) by raw WordprocessingML."""
    xml = document_xml(data)
    xml = re.sub(r"<w:body>.*?(<w:sectPr)", lambda m: "<w:body>" + body_inner + m.group(1), xml, flags=re.S)
    return rewrite_docx(data, {"word/document.xml": xml})


BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE w:document [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>&i;</w:t></w:r></w:p></w:body></w:document>"""

EXTERNAL_ENTITY = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE w:document [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"""


def docm(data: bytes) -> bytes:
    """A macro-enabled document: main content type changed and a vbaProject.bin part added."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        types = zf.read("[Content_Types].xml").decode("utf-8")
        rels = zf.read("word/_rels/document.xml.rels").decode("utf-8")
    types = types.replace(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    ).replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
        ' Target="vbaProject.bin"/></Relationships>',
    )
    return rewrite_docx(data, {"[Content_Types].xml": types, "word/_rels/document.xml.rels": rels},
                        add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504})


def sample_xlsx(*, nd30: bool = False, legacy: bool = False) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Biểu 1"
    if nd30:
        ws.append(["ỦY BAN NHÂN DÂN XÃ MỸ HÒA", None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
        ws.append(["Số: 12/BC-UBND", None, "Độc lập - Tự do - Hạnh phúc"])
    ws.append(["Chỉ tiêu", "Năm", "Số lượng", "Tỉ lệ", "Ngày"])
    ws.append(["Tuyên truyền", 2024, 1234.5, 0.255, dt.datetime(2024, 10, 15)])
    ws.cell(row=ws.max_row, column=4).number_format = "0.0%"
    ws.append(["Hội nghị", 2023, 7.0, 1, dt.date(2023, 1, 5)])
    ws.cell(row=ws.max_row, column=4).number_format = "0%"
    if legacy:
        ws.append([TCVN3_PLAN])
        ws.cell(row=ws.max_row, column=1).font = openpyxl.styles.Font(name=".VnTime")
    ws2 = wb.create_sheet("Biểu 2")
    ws2.append(["Đơn vị", "Ghi chú"])
    ws2.append(["Phòng Nội vụ", "Đúng hạn"])
    bio = io.BytesIO()
    wb.save(bio)
    return bio.getvalue()


# -- PDFs -------------------------------------------------------------------------------------
def image_pdf(gray_pages: list[tuple[int, int, bytes]], dpi: int) -> bytes:
    """An image-only PDF (a scan): one 8-bit grey image per page, Flate-compressed, nothing else.
    Written by hand from the PDF 1.4 object model, since no image-to-PDF tool is installed."""
    objects: list[bytes] = []
    kids = []
    for index, (width, height, pixels) in enumerate(gray_pages):
        img_id, content_id, page_id = 3 + index * 3, 4 + index * 3, 5 + index * 3
        w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
        stream = zlib.compress(pixels, 6)
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (width, height, len(stream))
            + stream + b"\nendstream"
        )
        content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (w_pt, h_pt)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im0 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (w_pt, h_pt, img_id, content_id)
        )
        kids.append(b"%d 0 R" % page_id)
    header = [b"<< /Type /Catalog /Pages 2 0 R >>",
              b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)]
    return pdf_file(header + objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these objects (1 0 R the catalog), with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def render_gray(pdf: bytes, dpi: int, first: int = 1, last: int = 1) -> list[tuple[int, int, bytes]]:
    """Pages of a PDF as 8-bit grey pixels (pdftoppm -gray writes binary PGM)."""
    with tempfile.TemporaryDirectory() as work:
        src = Path(work, "in.pdf")
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", str(first), "-l", str(last),
                        str(src), str(Path(work, "p"))], check=True, timeout=60)
        pages = []
        for pgm in sorted(Path(work).glob("p*.pgm")):
            raw = pgm.read_bytes()
            m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", raw)
            assert m, "pdftoppm did not write a binary PGM"
            width, height = int(m.group(1)), int(m.group(2))
            pages.append((width, height, raw[m.end(): m.end() + width * height]))
        return pages


def render_png(pdf: bytes, dpi: int = 150) -> bytes:
    with tempfile.TemporaryDirectory() as work:
        src = Path(work, "in.pdf")
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1",
                        str(src), str(Path(work, "p"))], check=True, timeout=60)
        return next(Path(work).glob("p*.png")).read_bytes()


def repeat_pages(pdf: bytes, count: int) -> bytes:
    """A long PDF: the first page of `pdf` repeated `count` times (pypdf shares its content)."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for _ in range(count):
        writer.add_page(reader.pages[0])
    bio = io.BytesIO()
    writer.write(bio)
    return bio.getvalue()


def encrypted_pdf(pdf: bytes, user_password: str, owner_password: str = "chu-so-huu") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    bio = io.BytesIO()
    writer.write(bio)
    return bio.getvalue()


def make_certificates(signer_cn: str):
    """A CA and a signer certificate (with its key), made with cryptography."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Cơ quan chứng thực thử")).issuer_name(name("Cơ quan chứng thực thử"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(signer_cn)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=365)).sign(ca_key, hashes.SHA256()))
    return ca, cert, key


def pkcs7_signature(signer_cn: str, data: bytes = b"noi dung") -> bytes:
    """A detached CMS/PKCS#7 signature as a PDF signer would embed it (signer + CA certificate,
    CA listed first so the reader cannot just take the first certificate)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    ca, cert, key = make_certificates(signer_cn)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_certificate(ca).add_signer(cert, key, hashes.SHA256())
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])


def signed_pdf(pdf: bytes, *, name: str | None, contents: bytes | None) -> bytes:
    """A PDF with one signature field (/FT /Sig) whose value carries /Name and/or /Contents.
    The signature is not valid over the file's bytes: readers here only report who signed."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (ArrayObject, ByteStringObject, DictionaryObject, NameObject,
                               NumberObject, TextStringObject)

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    value = DictionaryObject({NameObject("/Type"): NameObject("/Sig"),
                              NameObject("/Filter"): NameObject("/Adobe.PPKLite"),
                              NameObject("/SubFilter"): NameObject("/adbe.pkcs7.detached")})
    if name is not None:
        value[NameObject("/Name")] = TextStringObject(name)
    if contents is not None:
        value[NameObject("/Contents")] = ByteStringObject(contents + b"\x00" * 512)
    value_ref = writer._add_object(value)
    field = DictionaryObject({
        NameObject("/FT"): NameObject("/Sig"), NameObject("/T"): TextStringObject("Chữ ký 1"),
        NameObject("/V"): value_ref, NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/Widget"), NameObject("/F"): NumberObject(132),
        NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
        NameObject("/P"): writer.pages[0].indirect_reference,
    })
    field_ref = writer._add_object(field)
    writer.pages[0][NameObject("/Annots")] = ArrayObject([field_ref])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject([field_ref]), NameObject("/SigFlags"): NumberObject(3)})
    bio = io.BytesIO()
    writer.write(bio)
    return bio.getvalue()


# -- OLE compound files ---------------------------------------------------------------------------
def encrypted_office_file() -> bytes:
    """What Word/Excel write for a password-protected .docx/.xlsx: an OLE compound file holding
    "EncryptionInfo" and "EncryptedPackage" streams ([MS-OFFCRYPTO] 2.3.4.10, agile encryption).

    LibreOffice 7.4 cannot set a password from the command line and python3-uno is not a
    dependency, so this file is put together from [MS-CFB]: 512-byte sectors, one FAT sector, one
    directory sector, two streams of 4096+ bytes (so no mini stream is needed). The stream bodies
    are what matter to a reader that must recognise, not decrypt, the file.
    """
    info = struct.pack("<HHI", 4, 4, 0x40) + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
        b'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/>'
        b"</encryption>"
    )
    info = info.ljust(4096, b"\x00")
    package = struct.pack("<Q", 9000) + bytes((i * 37 + 11) % 256 for i in range(9000))
    package = package.ljust(((len(package) + 511) // 512) * 512, b"\x00")
    sector = 512
    info_start, info_sectors = 2, len(info) // sector
    pkg_start, pkg_sectors = info_start + info_sectors, len(package) // sector
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    fat = [fatsect, end]
    for start, count in ((info_start, info_sectors), (pkg_start, pkg_sectors)):
        fat += [start + k + 1 for k in range(count - 1)] + [end]
    fat += [free] * (128 - len(fat))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00" if name else b""
        return (raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", left, right, child) + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
                + struct.pack("<IQ", start, size))

    nostream = 0xFFFFFFFF
    directory = (entry("Root Entry", 5, nostream, nostream, 1, end, 0)
                 + entry("EncryptionInfo", 2, nostream, 2, nostream, info_start, len(info))
                 + entry("EncryptedPackage", 2, nostream, nostream, nostream, pkg_start, 8 + 9000)
                 + entry("", 0, nostream, nostream, nostream, 0, 0))
    assert len(header) == sector and len(directory) == sector
    return header + struct.pack("<128I", *fat) + directory + info + package


def minimal_pptx(slides: list[list[str]]) -> bytes:
    """A presentation with text boxes only, from the PresentationML parts a reader needs."""
    out = io.BytesIO()
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    with zipfile.ZipFile(out, "w") as zf:
        overrides = "".join(
            f'<Override PartName="/ppt/slides/slide{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>'
            for i in range(1, len(slides) + 1))
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                    '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                    f'presentationml.presentation.main+xml"/>{overrides}</Types>')
        zf.writestr("ppt/presentation.xml", f'<p:presentation xmlns:p="{p}"/>')
        for i, texts in enumerate(slides, start=1):
            paras = "".join(f"<a:p><a:r><a:t>{t}</a:t></a:r></a:p>" for t in texts)
            zf.writestr(f"ppt/slides/slide{i}.xml",
                        f'<p:sld xmlns:p="{p}" xmlns:a="{a}"><p:cSld><p:spTree><p:sp><p:txBody>{paras}'
                        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>")
    return out.getvalue()


RTF_LEGACY = (
    rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman\fcharset0 Times New Roman;}"
    rb"{\f1\froman\fcharset0 .VnTime;}}"
    rb"{\info{\title Khong doc}}"
    rb"\pard\plain\f1 C\'e9ng ho\'b5 x\'b7 h\'e9i ch\'f1 ngh\'dca Vi\'d6t Nam\par"
    rb"\pard\plain\f0 B\u193?O C\u193?O k\u7871?t qu\u7843? d\u226?n v\u7853?n\par"
    rb"\pard\plain\f0 S\u7889?: 45/BC-UBND\tab ng\u224?y 15\par}"
)
