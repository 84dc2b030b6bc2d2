"""Numbers out of tables, and a campaign's indicators matched in a unit's tables."""
from __future__ import annotations

from parsers.figures import Indicator, read_form_indicators, read_indicators, table_figures
from parsers.model import Figure

REPORT_TABLE = [
    ["BẢNG TỔNG HỢP KẾT QUẢ", "BẢNG TỔNG HỢP KẾT QUẢ", "BẢNG TỔNG HỢP KẾT QUẢ", "BẢNG TỔNG HỢP KẾT QUẢ",
     "BẢNG TỔNG HỢP KẾT QUẢ"],
    ["STT", "Nội dung", "Đơn vị tính", "Năm 2023", "Năm 2024"],
    ["(1)", "(2)", "(3)", "(4)", "(5)"],
    ["I", "CÔNG TÁC TUYÊN TRUYỀN", "", "", ""],
    ["1", "Số cuộc tuyên truyền", "cuộc", "12", "15"],
    ["2", "Số lượt người tham dự", "lượt", "1.234", "2.345"],
    ["II", "CẢI CÁCH HÀNH CHÍNH", "", "", ""],
    ["1.1", "Tỷ lệ hồ sơ đúng hạn", "%", "97,5", "99,2%"],
    ["", "Tổng cộng", "", "1.246", "-"],
]


def test_table_figures_reads_labels_columns_codes_and_vietnamese_numbers():
    assert table_figures([REPORT_TABLE]) == (
        Figure("Số cuộc tuyên truyền", "Năm 2023", 12.0, "1"),
        Figure("Số cuộc tuyên truyền", "Năm 2024", 15.0, "1"),
        Figure("Số lượt người tham dự", "Năm 2023", 1234.0, "2"),
        Figure("Số lượt người tham dự", "Năm 2024", 2345.0, "2"),
        Figure("Tỷ lệ hồ sơ đúng hạn", "Năm 2023", 97.5, "1.1"),
        Figure("Tỷ lệ hồ sơ đúng hạn", "Năm 2024", 99.2, "1.1"),
        Figure("Tổng cộng", "Năm 2023", 1246.0, None),
    )


def test_table_figures_without_header_words_and_with_text_tables():
    plain = [["Chỉ số", "Giá trị"], ["Số hộ nghèo giảm", "35"], ["Số mô hình", "4"]]
    assert table_figures([plain]) == (
        Figure("Số hộ nghèo giảm", "Giá trị", 35.0, None),
        Figure("Số mô hình", "Giá trị", 4.0, None),
    )
    header_table = [["ỦY BAN NHÂN DÂN\nXÃ MỸ HÒA", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
                    ["Số: 45/BC-UBND", "Mỹ Hòa, ngày 15 tháng 10 năm 2024"]]
    assert table_figures([header_table, [], [[]]]) == ()
    coded = [["DV01", "Số cuộc tuyên truyền", "5"], ["DV02", "Số mô hình", "2"]]
    assert table_figures([coded]) == (
        Figure("Số cuộc tuyên truyền", "Cột 3", 5.0, "DV01"),
        Figure("Số mô hình", "Cột 3", 2.0, "DV02"),
    )


INDICATORS = (
    Indicator("DV01", "Số cuộc tuyên truyền", "cuộc"),
    Indicator("DV02", "Số mô hình \"Dân vận khéo\" được công nhận", "mô hình"),
    Indicator("DV03", "Số buổi tiếp công dân của Chủ tịch UBND xã Mỹ Hòa", "buổi"),
    Indicator("DV04", "Số đơn khiếu nại đã giải quyết", "đơn"),
    Indicator("DV05", "Tỷ lệ hồ sơ giải quyết đúng hạn", "%"),
    Indicator("DV06", "Số cuộc giám sát của Mặt trận", "cuộc"),
    Indicator("DV07", "Số hộ được hỗ trợ nhà ở", "hộ"),
)


def test_read_indicators_by_code_by_folded_name_and_by_ascii_name():
    tables = [[
        ["Mã số", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú"],
        ["DV01", "Số cuộc tuyên truyền, quán triệt (đã diễn đạt lại)", "cuộc", "1.250", ""],
        # no code: found by fold_key (case, spaces, tone placement "Hoà"/"Hòa")
        ["", "SỐ  BUỔI TIẾP CÔNG DÂN CỦA CHỦ TỊCH UBND XÃ MỸ HOÀ", "buổi", "24", ""],
        # no code, typed without diacritics: found by ascii_key
        ["", "So mo hinh \"Dan van kheo\" duoc cong nhan", "mô hình", "3", ""],
        ["DV04", "Số đơn khiếu nại đã giải quyết", "đơn", "không có", "chưa tổng hợp"],
        ["DV05", "Tỷ lệ hồ sơ giải quyết đúng hạn", "%", "98,5", ""],
        ["DV06", "Số cuộc giám sát của Mặt trận", "cuộc", "", ""],
    ]]
    values, problems = read_indicators(tables, INDICATORS)
    assert values == {"DV01": 1250.0, "DV02": 3.0, "DV03": 24.0, "DV05": 98.5}
    assert problems == (
        "Chỉ tiêu DV04 (Số đơn khiếu nại đã giải quyết): giá trị “không có” không phải là số.",
        "Chỉ tiêu DV06 (Số cuộc giám sát của Mặt trận) chưa có số liệu.",
        "Không tìm thấy chỉ tiêu DV07 (Số hộ được hỗ trợ nhà ở) trong bảng số liệu.",
    )


def test_code_match_is_refused_when_the_row_is_about_something_else():
    # A report's own numbered table: row "1" is not the form's indicator "1".
    form = (Indicator("1", "Số cuộc tuyên truyền"), Indicator("2", "Số mô hình dân vận khéo"),
            Indicator("3", "Số hộ được hỗ trợ nhà ở"))
    tables = [
        [["STT", "Nội dung", "Kết quả"], ["1", "Diện tích lúa gieo sạ", "4.500"], ["2", "Sản lượng", "31.000"],
         ["3", "Năng suất lúa bình quân", "6,8"]],
        [["STT", "Nội dung", "Kết quả"], ["1", "Số mô hình dân vận khéo", "3"], ["2", "Số cuộc tuyên truyền", "7"]],
    ]
    values, problems = read_indicators(tables, form)
    assert values == {"1": 7.0, "2": 3.0}
    assert problems == ("Không tìm thấy chỉ tiêu 3 (Số hộ được hỗ trợ nhà ở) trong bảng số liệu.",)


def test_value_column_chosen_by_header_among_several_numbers():
    tables = [[["TT", "Chỉ tiêu", "Kế hoạch", "Thực hiện", "Tỷ lệ (%)"],
               ["DV01", "Số cuộc tuyên truyền", "10", "12", "120"]]]
    values, problems = read_indicators(tables, INDICATORS[:1])
    assert values == {"DV01": 12.0} and problems == ()


def test_read_form_indicators_from_a_blank_form():
    blank = [
        ["BIỂU SỐ LIỆU CÔNG TÁC DÂN VẬN", "", "", "", ""],
        ["Đơn vị báo cáo: ....", "", "", "", ""],
        ["Mã số", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú"],
        ["I", "CÔNG TÁC TUYÊN TRUYỀN", "", "", ""],
        ["DV01", "Số cuộc tuyên truyền", "cuộc", "", ""],
        ["DV02", "Số mô hình \"Dân vận khéo\" được công nhận", "mô hình", "", ""],
        ["", "Ghi chú: số liệu tính đến 30/9", "", "", ""],
    ]
    assert read_form_indicators([blank]) == (
        Indicator("DV01", "Số cuộc tuyên truyền", "cuộc"),
        Indicator("DV02", "Số mô hình \"Dân vận khéo\" được công nhận", "mô hình"),
    )
    assert read_form_indicators([[["a", "b"], ["c", "d"]]]) == ()


def test_ky_hieu_header_names_the_code_column():
    # "Ký hiệu" is a code header; ascii_key spells it "ki hieu" (y after k is i), which the
    # header words never matched. Headers are compared on plain letters now.
    table = [["Nội dung", "Ký hiệu", "Kết quả"], ["Số cuộc tuyên truyền", "DV01", "15"]]
    figures = table_figures([table])
    assert [(f.code, f.row, f.column, f.value) for f in figures] == [("DV01", "Số cuộc tuyên truyền", "Kết quả", 15.0)]
