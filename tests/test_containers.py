"""parsers.containers: zip and winmail.dat opened within limits, names decoded and made safe."""
from __future__ import annotations

import io
import struct
import time
import zipfile
from functools import lru_cache

import tnefparse

from message_samples import (cp1258_bytes, docx_bytes, encrypted_zip, make_tnef, zip_bytes,
                             zip_with_raw_names)
from parsers.containers import (Budget, decode_legacy_name, forward_label, looks_vietnamese,
                                open_tnef, open_zip, size_text)
from parsers.model import Limits

LIMITS = Limits()


def budget(limits: Limits = LIMITS) -> Budget:
    return Budget.for_message(limits)


@lru_cache(maxsize=None)
def zeros_bomb() -> bytes:
    """50 MB of zeros in one deflated member: about 50 KB on the wire, ratio about 1000:1."""
    return zip_bytes({"bao-cao.txt": b"\x00" * (50 * 1024 * 1024)})


# -- zip ----------------------------------------------------------------------------------------
def test_zip_members_with_folders():
    docx = docx_bytes()
    opened = open_zip(zip_bytes({"Báo cáo/bc-dan-van.docx": docx, "bieu-mau.pdf": b"%PDF-1.4 x"}),
                      LIMITS, budget())
    assert opened.problem is None
    found = {(m.folder, m.filename): m for m in opened.members}
    assert found[("Báo cáo", "bc-dan-van.docx")].data == docx
    assert found[("", "bieu-mau.pdf")].content_type == "application/pdf"


def test_path_traversal_names_are_made_safe():
    opened = open_zip(zip_bytes({"../../etc/passwd": b"root:x", "..\\..\\win.ini": b"x",
                                 "/abs/C:/x.txt": b"y", "C:\\Users\\a.docx": b"z"}), LIMITS, budget())
    names = [(m.folder, m.filename) for m in opened.members]
    assert ("etc", "passwd") in names
    assert ("", "win.ini") in names
    for folder, filename in names:
        assert ".." not in folder.split("/") and "/" not in filename and "\\" not in filename
        assert not folder.startswith("/")


def test_archiver_noise_is_skipped():
    opened = open_zip(zip_bytes({"__MACOSX/._a.docx": b"x", "a.docx": b"y", ".DS_Store": b"z",
                                 "Thumbs.db": b"t"}), LIMITS, budget())
    assert [m.filename for m in opened.members] == ["a.docx"]


def test_member_name_encodings():
    name = "Báo cáo dân vận.docx"
    archive = zip_with_raw_names([
        (name.encode("utf-8"), b"1"),  # UTF-8 without the flag (7-Zip, Linux zip)
        (cp1258_bytes("Kế hoạch Mỹ Hòa.doc"), b"2"),  # Explorer on Vietnamese Windows
        ("Résumé.txt".encode("cp437"), b"3"),  # Western DOS names
    ])
    names = [m.filename for m in open_zip(archive, LIMITS, budget()).members]
    assert names == [name, "Kế hoạch Mỹ Hòa.doc", "Résumé.txt"]


def test_utf8_flag_and_nfd_names_become_nfc():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Báo cáo quý 3.xlsx")
    opened = open_zip(zip_bytes({nfd: b"x"}), LIMITS, budget())
    assert opened.members[0].filename == "Báo cáo quý 3.xlsx"
    assert unicodedata.is_normalized("NFC", opened.members[0].filename)


def test_unicode_path_extra_field():
    raw_name = b"Bao cao.docx"  # the 8-bit name an old tool stored
    real = "Báo cáo.docx"
    field = struct.pack("<B", 1) + struct.pack("<I", zipfile.crc32(raw_name) & 0xFFFFFFFF) + real.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        info = zipfile.ZipInfo("Bao cao.docx")
        info.extra = struct.pack("<HH", 0x7075, len(field)) + field
        z.writestr(info, b"x")
    assert open_zip(out.getvalue(), LIMITS, budget()).members[0].filename == real


def test_legacy_name_heuristics():
    assert decode_legacy_name(cp1258_bytes("Đốc Binh Kiều.pdf")) == "Đốc Binh Kiều.pdf"
    assert decode_legacy_name("ÉTÉ.txt".encode("cp437")) == "ÉTÉ.txt"
    assert looks_vietnamese("Mỹ Hòa") and looks_vietnamese("đ")
    assert not looks_vietnamese("abc") and not looks_vietnamese("╔═╗")


def test_encrypted_member_is_reported_not_opened():
    opened = open_zip(encrypted_zip("bao-cao.docx", b"secret"), LIMITS, budget())
    assert opened.problem is None
    member = opened.members[0]
    assert member.filename == "bao-cao.docx" and member.data == b""
    assert "mật khẩu" in member.problems[0]


def test_ratio_bomb_is_refused_with_the_ratio():
    opened = open_zip(zeros_bomb(), LIMITS, budget())
    assert opened.members == ()
    assert opened.problem.startswith("Tệp nén vượt giới hạn giải nén (")
    assert "> 100:1), có thể là bom nén; không mở." in opened.problem
    ratio = int(opened.problem.split("tỷ lệ nén ")[1].split(":")[0])
    assert ratio > 500


def test_member_ratio_is_checked_even_when_the_archive_is_padded():
    # A bomb member hidden next to a large incompressible member: overall ratio looks fine.
    import os

    padding = os.urandom(600 * 1024)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.bin", padding)
        z.writestr("b.txt", b"\x00" * (3 * 1024 * 1024))
    opened = open_zip(out.getvalue(), Limits(zip_max_ratio=10), budget())
    assert opened.problem is not None and "tệp 'b.txt'" in opened.problem


def test_small_compressible_files_are_not_bombs():
    opened = open_zip(zip_bytes({"ghi-chu.txt": b" " * 500_000}), LIMITS, budget())
    assert opened.problem is None and len(opened.members[0].data) == 500_000


def test_total_size_limit():
    import os

    data = zip_bytes({"a.bin": os.urandom(300_000), "b.bin": os.urandom(300_000)})
    opened = open_zip(data, Limits(zip_max_total_bytes=500_000), budget(Limits(zip_max_total_bytes=500_000)))
    assert opened.problem == "Tệp nén giải nén ra 585 KB, vượt giới hạn 488 KB cho mỗi thư; không mở."


def test_member_count_limit():
    data = zip_bytes({f"tep-{i}.txt": b"x" for i in range(201)})
    opened = open_zip(data, LIMITS, budget())
    assert opened.problem == "Tệp nén chứa 201 tệp, vượt giới hạn 200 tệp; không mở."


def test_budget_is_shared_between_archives():
    shared = budget(Limits(zip_max_files=5))
    limits = Limits(zip_max_files=5)
    first = open_zip(zip_bytes({f"{i}.txt": b"x" for i in range(4)}), limits, shared)
    second = open_zip(zip_bytes({f"{i}.txt": b"x" for i in range(2)}), limits, shared)
    assert first.problem is None and len(first.members) == 4
    assert second.problem is not None and "Tổng số tệp" in second.problem


def test_corrupt_empty_and_unsupported():
    assert "bị hỏng" in open_zip(b"PK\x03\x04 not really a zip", LIMITS, budget()).problem
    empty = open_zip(zip_bytes({}), LIMITS, budget())
    assert empty.problem is None and empty.members == () and empty.notes
    bz = zip_bytes({"a.txt": b"hello"}, method=zipfile.ZIP_BZIP2)
    member = open_zip(bz, LIMITS, budget()).members[0]
    assert member.data == b"" and "không hỗ trợ" in member.problems[0]


def test_crc_error_is_a_member_problem():
    data = bytearray(zip_bytes({"a.txt": b"hello world"}, method=zipfile.ZIP_STORED))
    at = data.index(b"hello world")
    data[at] = ord("j")
    member = open_zip(bytes(data), LIMITS, budget()).members[0]
    assert member.data == b"" and "bị hỏng" in member.problems[0]


def test_member_over_attachment_limit():
    opened = open_zip(zip_bytes({"a.txt": b"x" * 5000}), Limits(max_attachment_bytes=1000), budget())
    assert opened.members[0].data == b"" and "quá lớn" in opened.members[0].problems[0]


def test_bomb_is_refused_quickly():
    started = time.perf_counter()
    open_zip(zeros_bomb(), LIMITS, budget())
    assert time.perf_counter() - started < 1


# -- winmail.dat --------------------------------------------------------------------------------
def test_tnef_long_names_and_exact_data():
    docx = docx_bytes()
    raw = make_tnef([("Báo cáo dân vận năm 2024.docx", docx), ("Biểu mẫu.xlsx", b"PK\x03\x04x")])
    # The writer is checked by an independent reader.
    reference = tnefparse.TNEF(raw)
    assert [a.long_filename() for a in reference.attachments] == ["Báo cáo dân vận năm 2024.docx", "Biểu mẫu.xlsx"]
    opened = open_tnef(raw, LIMITS)
    assert opened.problem is None
    assert [(m.filename, m.data) for m in opened.members] == [
        ("Báo cáo dân vận năm 2024.docx", docx), ("Biểu mẫu.xlsx", b"PK\x03\x04x")]


def test_tnef_data_in_properties_keeps_trailing_zero_bytes():
    doc_like = b"\xd0\xcf\x11\xe0" + b"data" + b"\x00" * 9  # OLE files end in zero padding
    opened = open_tnef(make_tnef([("bc.doc", doc_like)], data_in_props=True), LIMITS)
    assert opened.members[0].data == doc_like


def test_tnef_body_and_8bit_title():
    opened = open_tnef(make_tnef([], body="Kính gửi Phòng Nội vụ"), LIMITS)
    assert opened.members == () and opened.body == "Kính gửi Phòng Nội vụ"


def test_tnef_broken_inputs_are_bounded():
    good = make_tnef([("a.pdf", b"%PDF-1.4")])
    assert open_tnef(b"not tnef", LIMITS).problem is not None
    cut = open_tnef(good[:-5], LIMITS)
    assert cut.problem is None and cut.notes
    # A property block declaring four billion properties, and one declaring 2^32 values.
    evil = struct.pack("<IH", 0x223E9F78, 1)
    for blob in (struct.pack("<I", 0xFFFFFFFF) + b"\x1f\x00\x07\x37",
                 struct.pack("<IHHI", 1, 0x1002, 0x3707, 0xFFFFFFFF) + b"\x00" * 8):
        evil += struct.pack("<BHHI", 2, 0x9002, 6, 2) + b"\x00\x00\x00\x00"
        evil += struct.pack("<BHHI", 2, 0x9005, 6, len(blob)) + blob + b"\x00\x00"
    started = time.perf_counter()
    opened = open_tnef(evil, LIMITS)
    assert time.perf_counter() - started < 1
    assert opened.members == ()  # the entries carry no data: nothing to list


def test_tnef_file_count_limit_and_shared_budget():
    raw = make_tnef([(f"{i}.pdf", b"%PDF") for i in range(6)])
    limits = Limits(zip_max_files=5)
    assert "vượt giới hạn 5 tệp" in open_tnef(raw, limits).problem
    shared = budget(Limits(zip_max_files=8))
    assert len(open_tnef(raw, Limits(zip_max_files=8), shared).members) == 6
    assert open_tnef(raw, Limits(zip_max_files=8), shared).problem is not None


# -- helpers ------------------------------------------------------------------------------------
def test_forward_label_and_sizes():
    assert forward_label("Báo cáo số 45/BC-UBND") == "Fwd: Báo cáo số 45\u2215BC-UBND"
    assert forward_label("") == "Fwd: (không có tiêu đề)"
    assert len(forward_label("x" * 500)) < 130
    assert size_text(50 * 1024 * 1024) == "50,0 MB" and size_text(2048) == "2 KB"
