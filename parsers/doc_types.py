"""The document types of Nghị định 30/2020 with their codes: a plain table, apart from the fact
readers so that the service's texts can name a type without loading every reader's patterns."""
from __future__ import annotations

# Phụ lục III of ND30: type names and their codes. A công văn has no code; we call it "CV".
TYPE_NAMES: dict[str, str] = {
    "NGHỊ QUYẾT": "NQ", "QUYẾT ĐỊNH": "QĐ", "CHỈ THỊ": "CT", "QUY CHẾ": "QC", "QUY ĐỊNH": "QyĐ",
    "THÔNG CÁO": "TC", "THÔNG BÁO": "TB", "HƯỚNG DẪN": "HD", "CHƯƠNG TRÌNH": "CTr",
    "KẾ HOẠCH": "KH", "PHƯƠNG ÁN": "PA", "ĐỀ ÁN": "ĐA", "DỰ ÁN": "DA", "BÁO CÁO": "BC",
    "BIÊN BẢN": "BB", "TỜ TRÌNH": "TTr", "HỢP ĐỒNG": "HĐ", "CÔNG ĐIỆN": "CĐ",
    "BẢN GHI NHỚ": "BGN", "BẢN THỎA THUẬN": "BTT", "GIẤY ỦY QUYỀN": "GUQ", "GIẤY MỜI": "GM",
    "GIẤY GIỚI THIỆU": "GGT", "GIẤY NGHỈ PHÉP": "GNP", "PHIẾU GỬI": "PG", "PHIẾU CHUYỂN": "PC",
    "PHIẾU BÁO": "PB",
    # Legal normative documents (Luật Ban hành văn bản quy phạm pháp luật): units forward them.
    "NGHỊ ĐỊNH": "NĐ", "THÔNG TƯ": "TT", "THÔNG TƯ LIÊN TỊCH": "TTLT",
}
