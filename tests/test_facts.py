"""ND30 facts from hand-written documents in the shapes they really arrive in."""
from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.facts import FIELDS, extract_facts

COMMUNE_REPORT_TABLE_HEADER = [
    # header table, row 1: issuer cell, then national title cell; row 2: number, place-date
    "ỦY BAN NHÂN DÂN", "XÃ MỸ HÒA", "_______",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "________________________",
    "Số: 45/BC-UBND", "Mỹ Hòa, ngày 15 tháng 10 năm 2024",
    "BÁO CÁO",
    "Kết quả thực hiện công tác dân vận năm 2024",
    "Kính gửi: Ủy ban nhân dân huyện Tháp Mười (qua Phòng Nội vụ).",
    "Thực hiện Công văn số 1452/UBND-VX ngày 10/11/2023 của Ủy ban nhân dân huyện Tháp Mười, Ủy ban nhân dân "
    "xã Mỹ Hòa báo cáo kết quả thực hiện công tác dân vận năm 2024 như sau:",
    "I. TÌNH HÌNH TRIỂN KHAI THỰC HIỆN",
    "1. Công tác quán triệt, tuyên truyền",
    "Tổ chức 06 cuộc quán triệt Chỉ thị số 33/CT-TTg với 1.250 lượt người tham dự.",
    "2. Công tác lãnh đạo, chỉ đạo",
    "Ủy ban nhân dân xã phân công đồng chí Nguyễn Văn Tâm, Phó Chủ tịch UBND xã phụ trách công tác dân vận; "
    "Chủ tịch UBND xã trực tiếp phụ trách công tác dân chủ ở cơ sở.",
    "II. KẾT QUẢ THỰC HIỆN",
    "a) Phong trào thi đua \"Dân vận khéo\"",
    "Xây dựng 02 mô hình \"Dân vận khéo\".",
    "b) Cải cách hành chính",
    "Tiếp nhận 523 hồ sơ, giải quyết đúng hạn 100%.",
    "III. HẠN CHẾ, NGUYÊN NHÂN",
    "Việc nhân rộng mô hình còn chậm.",
    "Trên đây là báo cáo kết quả thực hiện công tác dân vận năm 2024 của Ủy ban nhân dân xã Mỹ Hòa./.",
    # signing table: Nơi nhận cell first, then the signature cell
    "Nơi nhận:", "- Như trên;", "- Ban Dân vận Huyện ủy (b/c);", "- Lưu: VT.",
    "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "(Đã ký)", "Đoàn Thanh Bình",
]


def facts_dict(facts) -> dict:
    return {name: getattr(facts, name).value for name in FIELDS}


def test_commune_report_with_header_table():
    f = extract_facts(COMMUNE_REPORT_TABLE_HEADER)
    assert facts_dict(f) == {
        "parent_body": None,
        "issuer": "ỦY BAN NHÂN DÂN XÃ MỸ HÒA",
        "number": "45/BC-UBND",
        "type": "BC",
        "type_name": "BÁO CÁO",
        "title": "Kết quả thực hiện công tác dân vận năm 2024",
        "place": "Mỹ Hòa",
        "date": "2024-10-15",
        "addressee": "Ủy ban nhân dân huyện Tháp Mười (qua Phòng Nội vụ)",
        "authority": "TM. ỦY BAN NHÂN DÂN",
        "signer_title": "CHỦ TỊCH",
        "signer": "Đoàn Thanh Bình",
    }
    assert f.missing == ("parent_body",)
    assert f.recipients == ("Như trên", "Ban Dân vận Huyện ủy (b/c)", "Lưu: VT")
    assert [(s.number, s.level) for s in f.sections] == [
        ("I", 1), ("1", 2), ("2", 2), ("II", 1), ("a", 3), ("b", 3), ("III", 1)]
    assert f.sections[0].text == ""  # section I's own text: none before its sub-sections
    assert f.sections[2].text.startswith("Ủy ban nhân dân xã phân công")
    # the last section ends before the signing block and Nơi nhận
    assert f.sections[-1].text == (
        "Việc nhân rộng mô hình còn chậm.\n"
        "Trên đây là báo cáo kết quả thực hiện công tác dân vận năm 2024 của Ủy ban nhân dân xã Mỹ Hòa./.")
    assert f.leaders == ("Nguyễn Văn Tâm, Phó Chủ tịch UBND xã", "Chủ tịch UBND xã")
    assert f.issuer.confidence >= 0.9 and f.number.confidence >= 0.9 and f.date.confidence >= 0.9


def test_department_plan_with_header_as_stacked_paragraphs():
    lines = [
        "UBND HUYỆN THÁP MƯỜI",
        "PHÒNG LAO ĐỘNG - THƯƠNG BINH",
        "VÀ XÃ HỘI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 123/KH-LĐTBXH",
        "Tháp Mười, ngày 5 tháng 1 năm 2024",
        "KẾ HOẠCH",
        "Thực hiện công tác dân vận năm 2024",
        "Căn cứ Chỉ thị số 33/CT-TTg ngày 26/11/2021 của Thủ tướng Chính phủ;",
        "Phòng Lao động - Thương binh và Xã hội xây dựng Kế hoạch như sau:",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "Nâng cao nhận thức của công chức về công tác dân vận.",
        "II. TỔ CHỨC THỰC HIỆN",
        "Lãnh đạo Phòng giao đồng chí Trần Thị Mai - Phó Trưởng phòng trực tiếp phụ trách công tác dân vận.",
        "KT. TRƯỞNG PHÒNG",
        "PHÓ TRƯỞNG PHÒNG",
        "Trần Thị Mai",
        "Nơi nhận:",
        "- UBND huyện (b/c);",
        "- Phòng Nội vụ;",
        "- Lưu: VT, LĐTBXH.",
    ]
    f = extract_facts(lines)
    assert facts_dict(f) == {
        "parent_body": "UBND HUYỆN THÁP MƯỜI",
        "issuer": "PHÒNG LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI",
        "number": "123/KH-LĐTBXH",
        "type": "KH",
        "type_name": "KẾ HOẠCH",
        "title": "Thực hiện công tác dân vận năm 2024",
        "place": "Tháp Mười",
        "date": "2024-01-05",
        "addressee": None,
        "authority": "KT. TRƯỞNG PHÒNG",
        "signer_title": "PHÓ TRƯỞNG PHÒNG",
        "signer": "Trần Thị Mai",
    }
    assert f.missing == ("addressee",)
    assert f.recipients == ("UBND huyện (b/c)", "Phòng Nội vụ", "Lưu: VT, LĐTBXH")
    assert f.leaders == ("Trần Thị Mai, Phó Trưởng phòng",)
    assert [s.heading for s in f.sections] == ["I. MỤC ĐÍCH, YÊU CẦU", "II. TỔ CHỨC THỰC HIỆN"]


def test_cong_van_with_vv_and_several_addressees():
    lines = [
        "ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "Số: 1452/UBND-VX",
        "V/v tiếp tục triển khai thực hiện Chỉ thị",
        "số 33/CT-TTg và Quyết định số 311-QĐ/TU",
        "Tháp Mười, ngày 10 tháng 11 năm 2023",
        "Kính gửi:",
        "- Các cơ quan chuyên môn thuộc Ủy ban nhân dân huyện;",
        "- Các đơn vị sự nghiệp thuộc huyện;",
        "- Ủy ban nhân dân các xã, thị trấn.",
        "Thực hiện Chỉ thị số 33/CT-TTg ngày 26/11/2021 của Thủ tướng Chính phủ, Ủy ban nhân dân huyện đề nghị:",
        "1. Tiếp tục quán triệt Chỉ thị số 33/CT-TTg đến toàn thể cán bộ, công chức.",
        "2. Thủ trưởng các cơ quan phân công 01 lãnh đạo phụ trách công tác dân vận; Chủ tịch Ủy ban nhân dân "
        "các xã, thị trấn trực tiếp phụ trách.",
        "3. Gửi báo cáo về Ủy ban nhân dân huyện (qua Phòng Nội vụ) trước ngày 20 tháng 10 hằng năm./.",
        "Nơi nhận:", "- Như trên;", "- TT. Huyện ủy (b/c);", "- Lưu: VT, NV.",
        "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn Hùng",
    ]
    f = extract_facts(lines)
    assert facts_dict(f) == {
        "parent_body": None,
        "issuer": "ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI",
        "number": "1452/UBND-VX",
        "type": "CV",
        "type_name": "V/v",
        "title": "tiếp tục triển khai thực hiện Chỉ thị số 33/CT-TTg và Quyết định số 311-QĐ/TU",
        "place": "Tháp Mười",
        "date": "2023-11-10",
        "addressee": "Các cơ quan chuyên môn thuộc Ủy ban nhân dân huyện; Các đơn vị sự nghiệp thuộc huyện; "
                     "Ủy ban nhân dân các xã, thị trấn",
        "authority": "TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH",
        "signer_title": "PHÓ CHỦ TỊCH",
        "signer": "Nguyễn Văn Hùng",
    }
    assert f.type.confidence >= 0.9
    assert [s.number for s in f.sections] == ["1", "2", "3"]
    assert f.leaders == ()  # the letter asks for leaders; it assigns nobody
    assert f.recipients == ("Như trên", "TT. Huyện ủy (b/c)", "Lưu: VT, NV")


def test_draft_with_blank_number_and_day():
    lines = [
        "DỰ THẢO",
        "ỦY BAN NHÂN DÂN", "THỊ TRẤN MỸ AN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "Số:      /BC-UBND", "Mỹ An, ngày      tháng 10 năm 2024",
        "BÁO CÁO", "Kết quả thực hiện công tác dân vận năm 2024",
        "Kính gửi: Ủy ban nhân dân huyện Tháp Mười.",
        "I. KẾT QUẢ", "Đã tổ chức 05 cuộc tuyên truyền.",
        "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
        "Nơi nhận:", "- Như trên;", "- Lưu: VT.",
    ]
    f = extract_facts(lines)
    assert f.number.value is None and f.number.confidence == 0
    assert f.type.value == "BC" and f.type.confidence >= 0.9  # the type is still known
    assert f.date.value is None
    assert f.place.value == "Mỹ An"
    assert f.issuer.value == "ỦY BAN NHÂN DÂN THỊ TRẤN MỸ AN"  # "DỰ THẢO" is a mark, not the issuer
    assert f.signer.value is None and f.signer_title.value == "CHỦ TỊCH"
    assert set(f.missing) == {"parent_body", "number", "date", "signer"}


def test_pdf_text_layer_with_both_columns_on_one_line():
    lines = [
        "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "HUYỆN THÁP MƯỜI Độc lập - Tự do - Hạnh phúc",
        "PHÒNG VĂN HÓA VÀ THÔNG TIN",
        "Số: 87/BC-VHTT Tháp Mười, ngày 16 tháng 10 năm 2024",
        "BÁO CÁO",
        "Kết quả thực hiện công tác dân vận năm 2024",
        "Kính gửi: Ủy ban nhân dân huyện Tháp Mười",
        "I. KẾT QUẢ THỰC HIỆN",
        "Phòng phân công đồng chí Lê Văn Sang, Phó Trưởng phòng phụ trách công tác dân vận.",
        "II. KIẾN NGHỊ",
        "Không có.",
        "Nơi nhận: TRƯỞNG PHÒNG",
        "- Như trên;",
        "- Phòng Nội vụ (tổng hợp); (Đã ký)",
        "- Lưu: VT, VHTT. Lê Thị Ngọc Hân",
    ]
    f = extract_facts(lines)
    assert facts_dict(f) == {
        "parent_body": "ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI",
        "issuer": "PHÒNG VĂN HÓA VÀ THÔNG TIN",
        "number": "87/BC-VHTT",
        "type": "BC",
        "type_name": "BÁO CÁO",
        "title": "Kết quả thực hiện công tác dân vận năm 2024",
        "place": "Tháp Mười",
        "date": "2024-10-16",
        "addressee": "Ủy ban nhân dân huyện Tháp Mười",
        "authority": None,
        "signer_title": "TRƯỞNG PHÒNG",
        "signer": "Lê Thị Ngọc Hân",
    }
    assert f.recipients == ("Như trên", "Phòng Nội vụ (tổng hợp)", "Lưu: VT, VHTT")
    assert f.sections[-1].text == "Không có."
    assert f.leaders == ("Lê Văn Sang, Phó Trưởng phòng",)


def test_pdf_text_layer_with_wrapped_national_title_and_wrapped_paragraphs():
    lines = [
        "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA",
        "HUYỆN THÁP MƯỜI VIỆT NAM",
        "TRUNG TÂM DỊCH VỤ NÔNG NGHIỆP Độc lập - Tự do - Hạnh phúc",
        "Số: 18/KH-TTDVNN Tháp Mười, ngày 20 tháng 02 năm 2024",
        "KẾ HOẠCH",
        "Thực hiện công tác dân vận năm 2024",
        "I. TỔ CHỨC THỰC HIỆN",
        "Trung tâm Dịch vụ nông nghiệp phân công đồng chí Võ Thanh",
        "Hiếu, Phó Giám đốc phụ trách công tác dân vận và thực hiện dân",
        "chủ ở cơ sở của cơ quan; giao đồng chí Lâm Văn Tài phụ trách công tác tài chính.",
        "GIÁM ĐỐC",
        "Lê Minh Phong",
    ]
    f = extract_facts(lines)
    assert f.parent_body.value == "ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI"
    assert f.issuer.value == "TRUNG TÂM DỊCH VỤ NÔNG NGHIỆP"
    assert f.number.value == "18/KH-TTDVNN" and f.date.value == "2024-02-20" and f.place.value == "Tháp Mười"
    assert f.title.value == "Thực hiện công tác dân vận năm 2024"
    # the assignment spans three lines; the finance assignment is not about mass mobilisation
    assert f.leaders == ("Võ Thanh Hiếu, Phó Giám đốc",)
    assert f.signer_title.value == "GIÁM ĐỐC" and f.signer.value == "Lê Minh Phong"
    assert f.sections[0].text.endswith("công tác tài chính.")


def test_nfd_text_gives_nfc_facts():
    lines = [unicodedata.normalize("NFD", s) for s in COMMUNE_REPORT_TABLE_HEADER]
    f = extract_facts(lines)
    assert facts_dict(f) == facts_dict(extract_facts(COMMUNE_REPORT_TABLE_HEADER))
    assert f.issuer.value == "ỦY BAN NHÂN DÂN XÃ MỸ HÒA"
    assert unicodedata.is_normalized("NFC", f.title.value)


def test_typos_en_dash_motto_number_without_colon_and_glued_date():
    lines = [
        "UỶ BAN NHÂN DÂN\tCỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "XÃ PHÚ ĐIỀN\tĐộc lập – Tự do – Hạnh phúc",
        "Số 45/BC-UBND\tPhú Điền,ngày 5 tháng5năm 2020",
        "BÁO CÁO",
        "Kết qủa thực hiện công tác dân vận năm 2019",
        "Kính gửi: Ủy ban nhân dân huyện Tháp Mười",
        "Ủy ban nhân dân xã báo cáo kết qủa như sau:",
        "1. Kết qủa đạt được",
        "Chủ tịch UBND xã Phú Điền trực tiếp phụ trách công tác dân vận.",
        "Nơi nhận:\tTM. ỦY BAN NHÂN DÂN",
        "- Như trên;\tCHỦ TỊCH",
        "- Lưu: VT.",
        "\tPhạm Minh Quý",
    ]
    f = extract_facts(lines)
    assert facts_dict(f) == {
        "parent_body": None,
        "issuer": "UỶ BAN NHÂN DÂN XÃ PHÚ ĐIỀN",
        "number": "45/BC-UBND",
        "type": "BC",
        "type_name": "BÁO CÁO",
        "title": "Kết qủa thực hiện công tác dân vận năm 2019",  # shown back as written
        "place": "Phú Điền",
        "date": "2020-05-05",
        "addressee": "Ủy ban nhân dân huyện Tháp Mười",
        "authority": "TM. ỦY BAN NHÂN DÂN",
        "signer_title": "CHỦ TỊCH",
        "signer": "Phạm Minh Quý",
    }
    assert f.recipients == ("Như trên", "Lưu: VT")
    assert f.leaders == ("Chủ tịch UBND xã Phú Điền",)


def test_missing_signer_with_signature_image_alt_text():
    lines = [
        "UBND HUYỆN THÁP MƯỜI", "PHÒNG TƯ PHÁP",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "Số: 31/BC-PTP", "Tháp Mười, ngày 09 tháng 10 năm 2024",
        "BÁO CÁO", "Kết quả thực hiện công tác dân vận năm 2024",
        "Kính gửi: Ủy ban nhân dân huyện Tháp Mười",
        "I. KẾT QUẢ", "Tổ chức 03 cuộc tuyên truyền pháp luật.",
        "Nơi nhận:", "- Như trên;", "- Lưu: VT.",
        "TRƯỞNG PHÒNG", "Picture 1", "Chữ Ký", "image2.png",
        "Phụ lục I",
        "SỐ LIỆU KẾT QUẢ",
        "(Kèm theo Báo cáo số 31/BC-PTP ngày 09/10/2024 của Phòng Tư pháp)",
        "Mã số", "Chỉ tiêu", "Kết quả", "DV01", "Số cuộc tuyên truyền", "3",
    ]
    tables = [[["Mã số", "Chỉ tiêu", "Kết quả"], ["DV01", "Số cuộc tuyên truyền", "3"]]]
    f = extract_facts(lines, tables)
    assert f.signer.value is None and f.signer.confidence == 0
    assert f.signer_title.value == "TRƯỞNG PHÒNG"
    assert f.authority.value is None
    assert "signer" in f.missing and "authority" in f.missing
    assert f.issuer.value == "PHÒNG TƯ PHÁP" and f.parent_body.value == "UBND HUYỆN THÁP MƯỜI"
    assert f.recipients == ("Như trên", "Lưu: VT")
    assert [(x.code, x.row, x.column, x.value) for x in f.figures] == [
        ("DV01", "Số cuộc tuyên truyền", "Kết quả", 3.0)]


def test_quyet_dinh_with_party_style_citation_and_authority_line_after_title():
    lines = [
        "ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "Số: 10763/QĐ-UBND", "Tháp Mười, ngày 29 tháng 6 năm 2021",
        "QUYẾT ĐỊNH",
        "Về việc ban hành Kế hoạch cải cách hành chính",
        "giai đoạn 2021 - 2030",
        "CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN THÁP MƯỜI",
        "Căn cứ Quyết định số 311-QĐ/TU ngày 06/01/2022 của Ban Thường vụ Tỉnh ủy;",
        "QUYẾT ĐỊNH:",
        "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch cải cách hành chính.",
        "Nơi nhận:", "- Như Điều 3;", "- Lưu: VT.",
        "CHỦ TỊCH", "Đoàn Thanh Bình",
    ]
    f = extract_facts(lines)
    assert f.type.value == "QĐ" and f.type_name.value == "QUYẾT ĐỊNH"
    assert f.title.value == "Về việc ban hành Kế hoạch cải cách hành chính giai đoạn 2021 - 2030"
    assert f.number.value == "10763/QĐ-UBND" and f.date.value == "2021-06-29"
    assert f.signer_title.value == "CHỦ TỊCH" and f.signer.value == "Đoàn Thanh Bình"
    assert f.recipients == ("Như Điều 3", "Lưu: VT")


def test_party_style_number():
    lines = ["TỈNH ỦY ĐỒNG THÁP", "ĐẢNG CỘNG SẢN VIỆT NAM", "Số 311-QĐ/TU", "Cao Lãnh, ngày 06 tháng 01 năm 2022",
             "QUYẾT ĐỊNH", "Về công tác dân vận của cơ quan nhà nước"]
    f = extract_facts(lines)
    assert f.number.value == "311-QĐ/TU" and f.type.value == "QĐ" and f.date.value == "2022-01-06"


def test_out_of_office_message_gives_no_facts():
    lines = [
        "Trả lời tự động: Tôi hiện đang nghỉ phép đến hết ngày 20 tháng 10 năm 2024.",
        "Trong thời gian này, xin liên hệ đồng chí Nguyễn Văn An, số điện thoại 0277 3823 456.",
        "Số điện thoại: 0277/3823456",
        "Trân trọng,",
        "Trần Thị Mai",
        "Phòng Nội vụ huyện Tháp Mười",
    ]
    f = extract_facts(lines)
    assert all(getattr(f, name) .value is None and getattr(f, name).confidence == 0 for name in FIELDS)
    assert f.missing == FIELDS
    assert f.sections == () and f.leaders == () and f.recipients == () and f.figures == ()


def test_garbage_and_empty_input_never_raise():
    assert extract_facts([]).missing == FIELDS
    f = extract_facts(["", "\x00\x01", "Số:", "ngày tháng năm", "TM.", "- ", "I.", "a)"] * 50,
                      [[["", None]], [], [["1.2.3", "x"]]])  # type: ignore[list-item]
    assert f.number.value is None and f.date.value is None


def test_fast_enough_on_a_long_document():
    body = ["Nội dung báo cáo chi tiết về công tác dân vận, cải cách hành chính và dân chủ ở cơ sở."] * 5000
    lines = COMMUNE_REPORT_TABLE_HEADER[:13] + body + COMMUNE_REPORT_TABLE_HEADER[13:]
    start = time.perf_counter()
    f = extract_facts(lines)
    elapsed = time.perf_counter() - start
    assert f.signer.value == "Đoàn Thanh Bình"
    assert elapsed < 1.0, elapsed


def test_loose_forms_found_with_lower_confidence_where_not_nd30():
    lines = [
        "UBND HUYỆN THÁP MƯỜI", "PHÒNG NỘI VỤ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập-Tự do-Hạnh phúc",
        "Số: 45 /BC - PNV", "TP. Hồ Chí Minh, ngày 15/10/2024",
        "BÁO CÁO", "Tổng kết công tác năm 2024",
        "Kính gởi: Ủy ban nhân dân huyện",
        "I/ KẾT QUẢ", "1/ Tuyên truyền", "Tốt.", "2- Dân vận khéo", "V/v này không phải một mục.",
        "T/M ỦY BAN NHÂN DÂN", "K/T CHỦ TỊCH", "PHÓ CHỦ TỊCH", "HỒ VĂN NAM",
    ]
    f = extract_facts(lines)
    assert f.number.value == "45/BC-PNV" and f.type.value == "BC"
    assert f.place.value == "TP. Hồ Chí Minh"
    assert f.date.value == "2024-10-15" and f.date.confidence < 0.9 <= f.place.confidence  # "15/10/2024"
    assert f.addressee.value == "Ủy ban nhân dân huyện"  # "gởi", the southern spelling
    assert [(s.number, s.level) for s in f.sections] == [("I", 1), ("1", 2), ("2", 2)]
    assert f.sections[-1].text == "V/v này không phải một mục."
    assert f.authority.value == "T/M ỦY BAN NHÂN DÂN K/T CHỦ TỊCH"
    assert f.signer_title.value == "PHÓ CHỦ TỊCH"
    assert f.signer.value == "HỒ VĂN NAM" and f.signer.confidence < 0.9  # capitals: a known surname only


def test_letter_summary_glued_to_the_number():
    f = extract_facts(["ỦY BAN NHÂN DÂN", "HUYỆN THÁP MƯỜI", "Số: 12/UBND-VX - V/v tiếp tục triển khai",
                       "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Tháp Mười, ngày 5 tháng 3 năm 2024"])
    assert (f.number.value, f.type.value, f.type_name.value, f.title.value) == (
        "12/UBND-VX", "CV", "V/v", "tiếp tục triển khai")


# Sentences a leader rule may or may not catch, mixed with filler, to compare the windowed search
# with a search over the whole text (the windows must find exactly what the full search does).
_LEADER_PIECES = [
    "Phân công đồng chí Nguyễn Văn Tâm, Phó Chủ tịch UBND xã phụ trách công tác dân vận.",
    "giao đ/c Trần Thị Mai trực tiếp chỉ đạo thực hiện quy chế dân chủ;",
    "Đồng chí Lê Văn Sang là người phụ trách dân vận chính quyền.",
    "Chủ tịch UBND xã Phú Điền trực tiếp chỉ đạo công tác dân vận.",
    "CỬ ĐỒNG CHÍ VÕ THANH HIẾU CHỊU TRÁCH NHIỆM về dân chủ ở cơ sở.",
    "Ban Chỉ đạo thực hiện quy chế dân chủ họp định kỳ.",
    "giao ông Phạm Văn Lợi phụ trách tài chính.",
    "PHÓ CHỦ TỊCH UBND XÃ Mỹ An TRỰC TIẾP CHỈ ĐẠO dân vận", "Chủ tịch UBND huyện", "trực tiếp",
    "Đ/c Lê Thị Hoa phụ trách dân vận.",
    "Trong năm, các đoàn thể đã phối hợp tổ chức nhiều hoạt động",
    "x" * 150, ";", ".", "dân vận", "phụ trách", "chỉ đạo",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LEADER_PIECES), max_size=40))
def test_leader_windows_find_what_a_full_search_finds(pieces):
    from parsers import facts_leaders as leaders

    lines = [" ".join(pieces)]
    windowed = leaders.read_leaders(lines)
    windows, may_match = leaders._leader_windows, leaders._may_match
    try:  # the reference: every regex over the whole text
        leaders._leader_windows = lambda text, low: [(0, len(text))]
        leaders._may_match = lambda *args: True
        assert leaders.read_leaders(lines) == windowed
    finally:
        leaders._leader_windows, leaders._may_match = windows, may_match


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aVI1) .\t\u00a0\u2003\x85-Đb")), max_size=20))
def test_shortcuts_agree_with_the_rules_they_spare(text):
    from parsers import facts

    # squash skips the split when the text is already squashed; _is_heading skips its regexes
    # unless the first character can start a heading.
    assert facts.squash(text) == " ".join(text.split())
    full = None
    for regex, level in ((facts._ROMAN_HEAD_RE, 1), (facts._ARABIC_HEAD_RE, 2), (facts._LETTER_HEAD_RE, 3)):
        m = regex.match(text)
        if m and (level != 1 or m.group("num") in facts._ROMANS):
            full = (m.group("num"), level)
            break
    assert facts._is_heading(text) == full


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("NnƠơIiTMKLUQ/ .\tnhận") + ["ơ", "Ơ"]), max_size=12))
def test_signing_hint_shortcut_agrees_with_the_regex(line):
    from parsers import facts_signing as signing

    # opens_signing tries the hint regex only on lines that can match it; where the regex says
    # yes, the shortcut must have let it try.
    if signing._SIGNING_HINT_RE.search(line):
        assert (line.startswith(signing._HINT_STARTS) or line[:3].lower() == "nơi"
                or "\t" in line or "   " in line)


def test_one_fact_list_names_every_fact_field():
    import dataclasses

    from parsers.model import CONTRACT_FACTS, EXTRA_FACTS, FACT_NAMES, DocumentFacts, Fact

    fact_fields = [f.name for f in dataclasses.fields(DocumentFacts) if f.type in (Fact, "Fact")]
    assert list(FACT_NAMES) == fact_fields
    assert set(CONTRACT_FACTS) | set(EXTRA_FACTS) == set(FACT_NAMES)
    assert CONTRACT_FACTS == ("issuer", "number", "date", "type", "title", "place", "authority",
                              "signer_title", "signer")  # the inspect --json contract, exactly


# -- real layouts (issue 11): each rule on its own, the corpus in tests/realdocs for them together --
NAT, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
BODY = ["Căn cứ tình hình thực tế, đơn vị báo cáo như sau:", "1. Nội dung thứ nhất đã thực hiện xong./."]


def _letter(header, sign, heading=("BÁO CÁO", "Kết quả công tác năm 2024")):
    return extract_facts(list(header) + list(heading) + BODY + list(sign))


def test_interleaved_header_columns_with_a_wrapped_date():
    f = _letter(["UBND HUYỆN THÁP MƯỜI", NAT, "PHÒNG NỘI VỤ", MOTTO, "Số: 181        /BC-PNV",
                 "Tháp Mười, ngày 21 tháng  01  năm", "2024"],
                ["TRƯỞNG PHÒNG", "Trần Thị Hoa"])
    assert (f.parent_body.value, f.issuer.value) == ("UBND HUYỆN THÁP MƯỜI", "PHÒNG NỘI VỤ")
    assert (f.number.value, f.date.value, f.place.value) == ("181/BC-PNV", "2024-01-21", "Tháp Mười")


def test_a_date_wrapped_beside_the_left_column_of_a_layout_page():
    f = extract_facts(["ỦY BAN NHÂN DÂN                    CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                       "HUYỆN THÁP MƯỜI                    Độc lập - Tự do - Hạnh phúc",
                       "Số: 1452/UBND-VX                   Tháp Mười, ngày 10 tháng 11 năm",
                       "V/v tiếp tục triển khai thực hiện     2023", "Chỉ thị số 33/CT-TTg",
                       "Kính gửi: Các cơ quan chuyên môn."] + BODY + ["CHỦ TỊCH", "Lê Văn A"])
    assert (f.date.value, f.place.value, f.number.value) == ("2023-11-10", "Tháp Mười", "1452/UBND-VX")
    assert (f.type.value, f.title.value) == ("CV", "tiếp tục triển khai thực hiện Chỉ thị số 33/CT-TTg")


def test_a_date_wrapped_before_the_month_and_typed_without_a_space():
    f = _letter([f"ỦY BAN NHÂN DÂN\t{NAT}", f"XÃ MỸ AN\t{MOTTO}", "Số: 40/TB-UBND\tMỹ An, ngày 14 tháng",
                 "5 năm 2023"], ["CHỦ TỊCH", "Lê Văn A"])
    assert f.date.value == "2023-05-14"
    g = _letter([f"ỦY BAN NHÂN DÂN\t{NAT}", f"XÃ MỸ AN\t{MOTTO}", "Số: 40/TB-UBND\tMỹ An, ngày 14 tháng5 năm 2023"],
                ["CHỦ TỊCH", "Lê Văn A"])
    assert g.date.value == "2023-05-14"


def test_motto_and_stray_codes_are_never_part_of_the_issuer():
    f = _letter(["BỘ TÀI CHÍNH CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập – Tự do – Hạnh phúc",
                 "Số: 12/BC-BTC Hà Nội, ngày 5 tháng 2 năm 2024"], ["BỘ TRƯỞNG", "Hồ Đức Phớc"])
    assert f.issuer.value == "BỘ TÀI CHÍNH" and f.place.value == "Hà Nội"
    g = _letter([f"ỦY BAN NHÂN DÂN\t{NAT}", f"THÀNH PHỐ CẦN THƠ XV80\t{MOTTO}", "Số: 3/BC-UBND"],
                ["CHỦ TỊCH", "Trần Việt Trường"])
    assert g.issuer.value == "ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ"
    h = _letter([f"TRƯỜNG THCS SỐ 2\t{NAT}", f"\t{MOTTO}", "Số: 3/BC-THCS"], ["HIỆU TRƯỞNG", "Lê Thị B"])
    assert h.issuer.value == "TRƯỜNG THCS SỐ 2"  # a number in a name is not a stray code
    k = _letter([f"CÔNG AN TỈNH ĐỒNG THÁP\t{NAT}", f"PHÒNG PC06\t{MOTTO}", "Số: 3/BC-PC06"], ["TRƯỞNG PHÒNG", "Lê Văn C"])
    assert k.issuer.value == "PHÒNG PC06"  # nor is a short name's own code


@pytest.mark.parametrize("written,number,type_code", [
    ("Số: 144/2002/QĐ/BTC", "144/2002/QĐ/BTC", "QĐ"), ("Số: 40/2000/TT/BTC", "40/2000/TT/BTC", "TT"),
    ("Số: 215/QĐ-UB", "215/QĐ-UB", "QĐ"), ("Số: 30/2020/NĐ-CP", "30/2020/NĐ-CP", "NĐ"),
    ("Số: 28/2020/TT-BGDĐT", "28/2020/TT-BGDĐT", "TT"), ("Số: 12/KH-UBND", "12/KH-UBND", "KH"),
    ("Số: 181 /BC-SNV", "181/BC-SNV", "BC"), ("Số: 56/UBND-VP", "56/UBND-VP", "CV"),
])
def test_numbers_and_the_type_their_symbol_gives(written, number, type_code):
    f = extract_facts(["BỘ TÀI CHÍNH", NAT, MOTTO, written, "Hà Nội, ngày 5 tháng 2 năm 2024"] + BODY)
    assert (f.number.value, f.type.value) == (number, type_code)


@pytest.mark.parametrize("heading,code,title", [
    (["NGHỊ ĐỊNH", "Về công tác văn thư"], "NĐ", "Về công tác văn thư"),
    (["THÔNG TƯ", "Hướng dẫn chế độ báo cáo"], "TT", "Hướng dẫn chế độ báo cáo"),
    (["K Ế  H O Ạ C H", "Tổ chức hội thi"], "KH", "Tổ chức hội thi"),
    (["QUYẾT ĐỊNH CỦA BỘ TRƯỞNG BỘ TÀI CHÍNH", "Về việc ban hành chế độ kế toán"], "QĐ", "Về việc ban hành chế độ kế toán"),
    (["QUYẾT ĐỊNH", "CỦA CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN", "V/v thành lập Ban chỉ đạo"], "QĐ", "V/v thành lập Ban chỉ đạo"),
])
def test_type_and_title_from_the_heading(heading, code, title):
    f = _letter(["BỘ TÀI CHÍNH", NAT, MOTTO, "Số: 9/2024/XX-BTC", "Hà Nội, ngày 5 tháng 2 năm 2024"],
                ["BỘ TRƯỞNG", "Hồ Đức Phớc"], heading)
    assert (f.type.value, f.title.value) == (code, title)


def test_letter_summary_after_vv_or_ve_viec_on_the_next_lines():
    f = extract_facts(["SỞ TÀI CHÍNH", NAT, MOTTO, "Số: 905 /STC-QLNS", "Về việc hướng dẫn lập dự toán",
                       "ngân sách nhà nước năm 2025", "Đồng Tháp, ngày 1 tháng 7 năm 2024",
                       "Kính gửi: Các sở, ban, ngành."] + BODY + ["GIÁM ĐỐC", "Đinh Công Lý"])
    assert (f.type.value, f.title.value) == ("CV", "hướng dẫn lập dự toán ngân sách nhà nước năm 2025")
    assert f.number.value == "905/STC-QLNS" and f.date.value == "2024-07-01"


@pytest.mark.parametrize("auth,title", [
    (["KT/ CHỦ TỊCH"], "PHÓ CHỦ TỊCH"), (["K/T CHỦ TỊCH"], "PHÓ CHỦ TỊCH"), (["K.T CHỦ TỊCH"], "PHÓ CHỦ TỊCH"),
    (["TM . ỦY BAN NHÂN DÂN"], "CHỦ TỊCH"), (["T/M ỦY BAN NHÂN DÂN"], "CHỦ TỊCH"),
    (["TL. CHỦ TỊCH KT. CHÁNH VĂN PHÒNG"], "PHÓ CHÁNH VĂN PHÒNG"),
    (["TL. CHỦ TỊCH", "KT. CHÁNH VĂN PHÒNG"], "PHÓ CHÁNH VĂN PHÒNG"),
    (["KT. BỘ TRƯỞNG, CHỦ NHIỆM"], "PHÓ CHỦ NHIỆM"), (["KT. BỘ TRƯỞNG"], "THỨ TRƯỞNG"),
    (["Q. CHÁNH THANH TRA"], "PHÓ CHÁNH THANH TRA"), (["TUQ. CHỦ TỊCH"], "CHÁNH VĂN PHÒNG"),
    (["TM. CHÍNH PHỦ"], "THỦ TƯỚNG"), (["TM UBND XÃ"], "CHỦ TỊCH"), (["KT CHỦ TỊCH"], "PHÓ CHỦ TỊCH"),
])
def test_authorities_in_every_real_spelling(auth, title):
    f = _letter([f"ỦY BAN NHÂN DÂN\t{NAT}", f"XÃ MỸ AN\t{MOTTO}", "Số: 4/BC-UBND"],
                ["Nơi nhận:", "- Như trên;", "- Lưu: VT."] + auth + [title, "Nguyễn Văn Tâm"])
    expected = " ".join(auth)
    assert (f.authority.value, f.signer_title.value, f.signer.value) == (expected, title, "Nguyễn Văn Tâm")


@pytest.mark.parametrize("sign", [
    ["Nơi nhận:\t\tTM. CHÍNH PHỦ", "- Ban Bí thư;\t\tTHỦ TƯỚNG", "- Lưu: VT, TH.\t\tNguyễn Tấn Dũng đã ký"],
    ["Nơi nhận:", "TM. CHÍNH PHỦ", "- Ban Bí thư;", "THỦ TƯỚNG", "- Lưu: VT, TH.", "(Đã ký) Nguyễn Tấn Dũng"],
    ["TM. CHÍNH PHỦ", "THỦ TƯỚNG", "Người ký: Nguyễn Tấn Dũng", "Cơ quan: Chính phủ, Thời gian ký: 10.04.2007"],
    ["TM. CHÍNH PHỦ", "THỦ TƯỚNG", "Ký bởi: Nguyễn Tấn Dũng"],
    ["Nơi nhận:                          TM. CHÍNH PHỦ", "- Ban Bí thư;                      THỦ TƯỚNG",
     "- Lưu: VT, TH.", "                                   Nguyễn Tấn Dũng"],
])
def test_the_signer_where_it_stands(sign):
    f = _letter(["CHÍNH PHỦ", NAT, MOTTO, "Số: 64/2007/NĐ-CP", "Hà Nội, ngày 10 tháng 4 năm 2007"], sign,
                ["NGHỊ ĐỊNH", "Về ứng dụng công nghệ thông tin"])
    assert (f.authority.value, f.signer_title.value, f.signer.value) == ("TM. CHÍNH PHỦ", "THỦ TƯỚNG", "Nguyễn Tấn Dũng")


@pytest.mark.parametrize("written", ["Thượng tá Lê Văn Minh", "TS. Lê Văn Minh", "ĐẠI TÁ LÊ VĂN MINH"])
def test_a_rank_or_degree_before_the_signer_name(written):
    f = _letter(["CÔNG AN HUYỆN THÁP MƯỜI", NAT, MOTTO, "Số: 5/BC-CAH"], ["KT. TRƯỞNG CÔNG AN HUYỆN",
                                                                     "PHÓ TRƯỞNG CÔNG AN HUYỆN", written])
    assert f.signer.value.upper() == "LÊ VĂN MINH"


def test_a_parent_body_stays_apart_from_an_abbreviated_issuer():
    f = _letter([f"UBND HUYỆN THÁP MƯỜI	{NAT}", f"BCĐ PHÒNG CHỐNG THIÊN TAI	{MOTTO}", "Số: 3/BC-BCĐ"],
                ["TRƯỞNG BAN", "Lê Văn A"])
    assert (f.parent_body.value, f.issuer.value) == ("UBND HUYỆN THÁP MƯỜI", "BCĐ PHÒNG CHỐNG THIÊN TAI")


def test_what_is_not_there_is_null_never_a_neighbour():
    # A draft: no number, no day, no name under the title; the recipients stay recipients.
    f = _letter([f"ỦY BAN NHÂN DÂN\t{NAT}", f"XÃ PHÚ ĐIỀN\t{MOTTO}", "Số:      /BC-UBND\tPhú Điền, ngày    tháng 10 năm 2024"],
                ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nơi nhận:", "- Như trên;", "- Ban Dân vận Huyện ủy;", "- Lưu: VT."])
    assert (f.number.value, f.date.value, f.signer.value) == (None, None, None)
    assert f.place.value == "Phú Điền" and f.recipients == ("Như trên", "Ban Dân vận Huyện ủy", "Lưu: VT")
    # An organisation's e-signature at the top is not the signer, nor part of the issuer.
    g = extract_facts(["Người ký: Ủy ban Nhân dân tỉnh Đồng Tháp", "Cơ quan: Tỉnh Đồng Tháp",
                       f"ỦY BAN NHÂN DÂN\t{NAT}", f"TỈNH ĐỒNG THÁP\t{MOTTO}", "Số: 7/BC-UBND"] + BODY
                      + ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"])
    assert g.issuer.value == "ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP" and g.signer.value is None


def test_a_short_letter_without_heading_keeps_its_signing_block_apart_from_the_header():
    f = extract_facts(["TRƯỜNG TIỂU HỌC MỸ AN", NAT, MOTTO, "Số: 15/TH-VP", "Mỹ An, ngày 2 tháng 9 năm 2024",
                       "Nhà trường thông báo lịch họp phụ huynh.", "HIỆU TRƯỞNG", "Võ Thị Mai"])
    assert f.issuer.value == "TRƯỜNG TIỂU HỌC MỸ AN"
    assert (f.signer_title.value, f.signer.value) == ("HIỆU TRƯỞNG", "Võ Thị Mai")


def test_a_decision_names_who_issues_it_under_its_summary_in_the_header():
    f = extract_facts(["BỘ TƯ PHÁP", NAT, MOTTO, "Số: 2890/QĐ-BTP", "Hà Nội, ngày 20 tháng 12 năm 2023",
                       "QUYẾT ĐỊNH", "Về việc ban hành Kế hoạch công tác năm 2024", "BỘ TRƯỞNG BỘ TƯ PHÁP",
                       "Căn cứ Nghị định số 98/2022/NĐ-CP;", "QUYẾT ĐỊNH:", "Điều 1. Ban hành Kế hoạch.",
                       "Nơi nhận:", "- Như Điều 3;", "- Lưu: VT.", "BỘ TRƯỞNG", "LÊ THÀNH LONG"])
    assert (f.title.value, f.authority.value) == ("Về việc ban hành Kế hoạch công tác năm 2024", None)
    assert (f.signer_title.value, f.signer.value) == ("BỘ TRƯỞNG", "LÊ THÀNH LONG")


def test_a_place_led_by_a_locality_word_and_a_lower_case_vv():
    f = extract_facts(["ỦY BAN NHÂN DÂN", "THỊ XÃ HỒNG NGỰ", NAT, MOTTO, "Số: 12/UBND-VP",
                       "v/v tăng cường phòng dịch", "thị xã Hồng Ngự, ngày 1 tháng 1 năm 2024."] + BODY)
    assert (f.place.value, f.date.value) == ("thị xã Hồng Ngự", "2024-01-01")
    assert (f.type.value, f.title.value) == ("CV", "tăng cường phòng dịch")


def test_a_number_wrapped_under_its_label():
    f = extract_facts(["ỦY BAN NHÂN DÂN", "XÃ MỸ HÒA", NAT, MOTTO, "Số:", "45/BC-UBND", "Mỹ Hòa, ngày 15 tháng 10 năm 2024",
                       "BÁO CÁO", "Kết quả công tác dân vận"] + BODY)
    assert (f.issuer.value, f.number.value, f.date.value, f.type.value) == (
        "ỦY BAN NHÂN DÂN XÃ MỸ HÒA", "45/BC-UBND", "2024-10-15", "BC")


def test_a_party_bodys_title_is_never_part_of_the_issuer():
    # Huyện ủy, Đảng ủy: "ĐẢNG CỘNG SẢN VIỆT NAM" stands where the national title stands.
    lines = ["ĐẢNG BỘ TỈNH ĐỒNG THÁP", "HUYỆN ỦY THÁP MƯỜI", "*", "ĐẢNG CỘNG SẢN VIỆT NAM",
             "Số 125-BC/HU", "Tháp Mười, ngày 20 tháng 10 năm 2024", "BÁO CÁO", "sơ kết công tác dân vận",
             "Nội dung báo cáo.", "T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "Nguyễn Thành Công"]
    f = extract_facts(lines)
    assert (f.issuer.value, f.parent_body.value) == ("HUYỆN ỦY THÁP MƯỜI", "ĐẢNG BỘ TỈNH ĐỒNG THÁP")
    assert (f.number.value, f.type.value, f.authority.value) == ("125-BC/HU", "BC", "T/M BAN THƯỜNG VỤ")
    tabbed = ["ĐẢNG BỘ HUYỆN THÁP MƯỜI\t\tĐẢNG CỘNG SẢN VIỆT NAM", "ĐẢNG ỦY XÃ MỸ HÒA", "Số 08-NQ/ĐU\t\tMỹ Hòa, ngày 5 tháng 1 năm 2024",
              "NGHỊ QUYẾT", "về nhiệm vụ năm 2024"]
    f = extract_facts(tabbed)
    assert (f.issuer.value, f.parent_body.value) == ("ĐẢNG ỦY XÃ MỸ HÒA", "ĐẢNG BỘ HUYỆN THÁP MƯỜI")


def test_the_youth_unions_title_goes_but_a_body_named_after_it_stays():
    lines = ["TỈNH ĐOÀN ĐỒNG THÁP\t\tĐOÀN TNCS HỒ CHÍ MINH", "BCH ĐOÀN HUYỆN THÁP MƯỜI",
             "Số: 35-KH/HĐTM\t\tTháp Mười, ngày 05 tháng 3 năm 2024", "KẾ HOẠCH", "Tháng Thanh niên năm 2024"]
    assert extract_facts(lines).issuer.value == "BCH ĐOÀN HUYỆN THÁP MƯỜI"
    named = ["BCH ĐOÀN TNCS HỒ CHÍ MINH HUYỆN THÁP MƯỜI\t\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
             "Số: 36-KH/HĐTM\t\tTháp Mười, ngày 05 tháng 3 năm 2024", "KẾ HOẠCH", "Tháng Thanh niên năm 2024"]
    assert extract_facts(named).issuer.value == "BCH ĐOÀN TNCS HỒ CHÍ MINH HUYỆN THÁP MƯỜI"


def test_a_national_title_wrapped_after_any_word_in_a_narrow_cell():
    # A PDF of a narrow header cell: "CỘNG HÒA XÃ HỘI CHỦ" / "NGHĨA VIỆT NAM" beside the issuer.
    lines = ["ỦY BAN NHÂN DÂN          CỘNG HÒA XÃ HỘI CHỦ", "NGHĨA VIỆT NAM",
             "XÃ LÁNG BIỂN         Độc lập - Tự do - Hạnh phúc",
             "Số: 73/KH-UBND             Láng Biển, ngày 3 tháng 4 năm 2024", "KẾ HOẠCH", "Phòng, chống thiên tai"]
    assert extract_facts(lines).issuer.value == "ỦY BAN NHÂN DÂN XÃ LÁNG BIỂN"


def test_an_e_signature_stamp_inside_the_block_does_not_hide_the_name():
    lines = ["ỦY BAN NHÂN DÂN", "TỈNH ĐỒNG THÁP", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
             "Số: 1056/QĐ-UBND", "Đồng Tháp, ngày 15 tháng 10 năm 2024", "QUYẾT ĐỊNH", "Về việc ban hành Kế hoạch",
             "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch.",
             "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Ký bởi: Ủy ban Nhân dân tỉnh Đồng Tháp",
             "Email: ubnd@dongthap.gov.vn", "Thời gian ký: 15.10.2024 10:22:31 +07:00", "Đoàn Tấn Bửu"]
    f = extract_facts(lines)
    assert (f.signer_title.value, f.signer.value) == ("PHÓ CHỦ TỊCH", "Đoàn Tấn Bửu")
    lines[-4:-1] = ["Ký bởi: Phòng Nông nghiệp và Phát triển nông thôn", "Ngày ký: 23-09-2024 16:05"]
    assert extract_facts(lines).signer.value == "Đoàn Tấn Bửu"


@pytest.mark.parametrize("written", ["Bs. Nguyễn Hữu Tài", "BS. Nguyễn Hữu Tài", "BSCKII. Nguyễn Hữu Tài",
                                     "ThS.BS. Nguyễn Hữu Tài", "Ths. Nguyễn Hữu Tài", "TS. Nguyễn Hữu Tài"])
def test_a_degree_in_any_case_before_the_signer(written):
    lines = ["SỞ Y TẾ ĐỒNG THÁP", "TRUNG TÂM Y TẾ HUYỆN THÁP MƯỜI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
             "Số: 215/KH-TTYT", "Tháp Mười, ngày 02 tháng 7 năm 2024", "KẾ HOẠCH", "Phòng, chống dịch bệnh",
             "Nội dung kế hoạch.", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "(Đã ký)", written]
    assert extract_facts(lines).signer.value == "Nguyễn Hữu Tài"


def test_an_acting_post_under_tl_is_the_signers_title():
    # "TL. CHỦ TỊCH" / "Q. CHÁNH VĂN PHÒNG" / name: the acting head signs under his acting post;
    # "Q. CHÁNH THANH TRA" / "PHÓ CHÁNH THANH TRA" (a title follows) stays an authority.
    head = ["UBND HUYỆN THÁP MƯỜI", "VĂN PHÒNG HĐND VÀ UBND", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Số: 145/TB-VP", "Tháp Mười, ngày 28 tháng 10 năm 2024", "THÔNG BÁO", "Kết luận cuộc họp", "Nội dung."]
    f = extract_facts(head + ["TL. CHỦ TỊCH", "Q. CHÁNH VĂN PHÒNG", "Phạm Thị Diễm"])
    assert (f.authority.value, f.signer_title.value, f.signer.value) == ("TL. CHỦ TỊCH", "Q. CHÁNH VĂN PHÒNG", "Phạm Thị Diễm")
    f = extract_facts(head + ["Q. CHÁNH THANH TRA", "PHÓ CHÁNH THANH TRA", "Kiều Văn Lâm"])
    assert (f.authority.value, f.signer_title.value) == ("Q. CHÁNH THANH TRA", "PHÓ CHÁNH THANH TRA")


def test_a_date_whose_rest_comes_after_the_left_columns_line():
    # A text layer without positions: "ngày 22 tháng 7" / "V/v ..." (left) / "năm 2024" / the V/v's rest.
    lines = ["UBND TỈNH ĐỒNG THÁP", "SỞ GIAO THÔNG VẬN TẢI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
             "Số: 1870/SGTVT-QLGT", "Đồng Tháp, ngày 22 tháng 7", "V/v đảm bảo an toàn giao", "năm 2024",
             "thông đường", "thủy nội địa mùa mưa lũ",
             "Thực hiện chỉ đạo của cấp trên và căn cứ tình hình thực tế của",
             "đơn vị, đơn vị triển khai thực hiện các nội dung sau:"]
    f = extract_facts(lines)
    assert (f.date.value, f.place.value, f.type.value) == ("2024-07-22", "Đồng Tháp", "CV")
    assert f.title.value == "đảm bảo an toàn giao thông đường thủy nội địa mùa mưa lũ"


def test_a_signers_title_wrapped_in_a_narrow_cell():
    head = ["HUYỆN ỦY THÁP MƯỜI\t\tĐẢNG CỘNG SẢN VIỆT NAM", "Số 210-TB/HU\t\tTháp Mười, ngày 07 tháng 11 năm 2024",
            "THÔNG BÁO", "ý kiến về công tác cán bộ", "Nội dung."]
    sign = ["Nơi nhận:                          T/M BAN THƯỜNG VỤ", "- Như trên;                        PHÓ BÍ THƯ THƯỜNG",
            "TRỰC", "- Lưu: VT.", "Lê Minh Hoan"]
    f = extract_facts(head + sign)
    assert (f.signer_title.value, f.signer.value) == ("PHÓ BÍ THƯ THƯỜNG TRỰC", "Lê Minh Hoan")
    # a name in capitals after the title is the signer, never the title's tail
    f = extract_facts(head + ["T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ", "LÊ MINH HOAN"])
    assert (f.signer_title.value, f.signer.value) == ("PHÓ BÍ THƯ", "LÊ MINH HOAN")


def test_a_mass_organisations_national_name_stands_for_the_national_title():
    # Hội CCB, Hội Nông dân: their national name is in the right column, never the issuer.
    lines = ["HỘI CCB TỈNH ĐỒNG THÁP", "HỘI CCB HUYỆN THÁP MƯỜI", "HỘI CỰU CHIẾN BINH VIỆT NAM",
             "Số: 22/BC-CCB", "Tháp Mười, ngày 15 tháng 12 năm 2024", "BÁO CÁO", "Tổng kết công tác Hội năm 2024"]
    f = extract_facts(lines)
    assert (f.issuer.value, f.parent_body.value) == ("HỘI CCB HUYỆN THÁP MƯỜI", "HỘI CCB TỈNH ĐỒNG THÁP")
    tabbed = ["HỘI NÔNG DÂN TỈNH ĐỒNG THÁP\t\tHỘI NÔNG DÂN VIỆT NAM", "BAN THƯỜNG VỤ HỘI NÔNG DÂN HUYỆN THÁP MƯỜI",
              "Số: 31-KH/HNDH\t\tTháp Mười, ngày 11 tháng 01 năm 2024", "KẾ HOẠCH", "Phong trào thi đua"]
    assert extract_facts(tabbed).issuer.value == "BAN THƯỜNG VỤ HỘI NÔNG DÂN HUYỆN THÁP MƯỜI"


def test_a_joint_documents_heading_is_of_its_base_type():
    lines = ["UBND HUYỆN THÁP MƯỜI", "PHÒNG NỘI VỤ - PHÒNG TÀI CHÍNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
             "Số: 02/HDLN-NV-TC", "Tháp Mười, ngày 14 tháng 02 năm 2024", "HƯỚNG DẪN LIÊN NGÀNH",
             "Thực hiện chế độ phụ cấp", "Nội dung hướng dẫn dài hơn một dòng để đọc là thân văn bản, không phải trích yếu, "
             "vì nó dài quá một trăm năm mươi ký tự của một dòng trích yếu thông thường trong văn bản hành chính."]
    f = extract_facts(lines)
    assert (f.type.value, f.title.value) == ("HD", "Thực hiện chế độ phụ cấp")


def test_a_second_post_under_the_title_is_not_the_signer():
    # The head of a steering committee signs as TRƯỞNG BAN, his own post under it; "Phó" is a surname.
    lines = ["UBND HUYỆN THÁP MƯỜI", "BAN CHỈ ĐẠO QUY CHẾ DÂN CHỦ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
             "Số: 03/KH-BCĐ", "Tháp Mười, ngày 22 tháng 4 năm 2024", "KẾ HOẠCH", "Kiểm tra năm 2024", "Nội dung.",
             "TM. BAN CHỈ ĐẠO", "TRƯỞNG BAN", "PHÓ CHỦ TỊCH UBND HUYỆN", "Nguyễn Văn Tâm"]
    f = extract_facts(lines)
    assert (f.signer_title.value, f.signer.value) == ("TRƯỞNG BAN", "Nguyễn Văn Tâm")


def test_a_numbers_code_wrapped_after_its_hyphen():
    # A PDF of a narrow header cell: "Số: 14/TTr-" / "TTDVNN", the date wrapped beside it.
    lines = ["UBND HUYỆN THÁP MƯỜI          CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "TRUNG TÂM DỊCH VỤ NÔNG NGHIỆP",
             "Số: 14/TTr-                             Tháp Mười, ngày 20",
             "TTDVNN                                  tháng 3 năm 2024", "TỜ TRÌNH", "Về việc phê duyệt kế hoạch"]
    f = extract_facts(lines)
    assert (f.number.value, f.type.value, f.date.value) == ("14/TTr-TTDVNN", "TTr", "2024-03-20")
    # a body line in capitals after a whole number is not a code's rest
    whole = ["UBND HUYỆN THÁP MƯỜI\t\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "PHÒNG NỘI VỤ",
             "Số: 14/BC-PNV\t\tTháp Mười, ngày 20 tháng 3 năm 2024", "BÁO CÁO", "Kết quả"]
    assert extract_facts(whole).number.value == "14/BC-PNV"


@pytest.mark.parametrize("glued, authority, title", [
    ("- Lưu: VT.KT. GIÁM ĐỐC", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"),
    ("- Lưu: VT.T/M BAN THƯỜNG VỤ", "T/M BAN THƯỜNG VỤ", "PHÓ GIÁM ĐỐC"),
])
def test_an_authority_glued_without_a_space_to_the_last_recipient(glued, authority, title):
    # A .doc whose signing table LibreOffice flattened: the cells' paragraphs run together.
    lines = ["UBND TỈNH ĐỒNG THÁP", "SỞ XÂY DỰNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Số: 745/SXD-QLXD",
             "Đồng Tháp, ngày 04 tháng 7 năm 2018", "V/v quản lý trật tự xây dựng", "Nội dung công văn.",
             "Nơi nhận:", "- Như trên;", glued, "PHÓ GIÁM ĐỐC", "Lê Văn Sĩ"]
    f = extract_facts(lines)
    assert (f.authority.value, f.signer_title.value, f.signer.value) == (authority, title, "Lê Văn Sĩ")
    assert f.recipients[-1] == "Lưu: VT"
    # without a space, only an authority splits: "- Lưu: VT,NV." stays one recipient
    lines[-3] = "- Lưu: VT,NV."
    assert extract_facts(lines).recipients[-1] == "Lưu: VT,NV"


def test_a_vv_summary_never_runs_into_the_signing_block():
    # A short letter flattened without blank lines: the V/v's continuation stops at the block.
    lines = ["SỞ Y TẾ\t\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Số: 12/SYT-NV\t\tĐồng Tháp, ngày 06 tháng 01 năm 2022",
             "V/v tăng cường phòng chống", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "ThS.BS Nguyễn Văn An"]
    f = extract_facts(lines)
    assert f.title.value == "tăng cường phòng chống"
    assert (f.authority.value, f.signer_title.value, f.signer.value) == ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn An")
