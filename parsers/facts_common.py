"""What the fact readers share: confidences, column and rule patterns, and what a name looks like.

Pure; regexes compiled once. parsers.facts (header), parsers.facts_signing (signing block) and
parsers.facts_leaders (leaders of mass-mobilisation work) build on it.
"""
from __future__ import annotations

import re

from parsers.model import Fact
from parsers.text import squash

HIGH = 0.95
GOOD = 0.85
FAIR = 0.7
LOW = 0.5
NOT_FOUND = Fact(None, 0.0)

RULE_RE = re.compile(r"^[\s_\-–—‐=*~.·•…]*$")
COLUMNS_RE = re.compile(r"\t+| {3,}")
BULLET_RE = re.compile(r"^[-+•–—*]\s*")
IGNORABLE_RE = re.compile(
    r"(?i)(?:đã\s*ký|ký\s*tên|chữ\s*ký|ký\s*số|đóng\s*dấu|ghi\s*rõ\s*họ\s*tên|signature|signed|"
    # an e-signature stamp's own lines inside the block ("Ký bởi: Sở Y tế", "Thời gian ký: ...")
    r"ký\s*bởi|người\s*ký|(?:thời\s*gian|ngày)\s*ký|^\s*e-?mail\s*:|"
    r"\bimage\d*|\bpicture\s*\d*|\.(?:png|jpe?g|gif|emf|wmf)\b|hình\s*ảnh)")
# First words of Title Case lines that are not names ("Nơi Nhận", "Phòng Nội Vụ", "Tháp Mười").
_NAME_STOP = frozenset({"Nơi", "Kính", "Trân", "Phòng", "Ủy", "Uỷ", "Ban", "Trung", "Sở", "Bộ", "Hội",
                        "Đã", "Ký", "Chữ", "Huyện", "Xã", "Tỉnh", "Thành", "Như", "Lưu", "Các",
                        "Thường", "Tháp", "Độc", "Cộng", "Số", "Ngày"})
SURNAMES = frozenset("""Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đoàn Đào
Trương Lâm Mai Trịnh Đinh Lương Tạ Cao Châu Hà Tô Thái Quách Lưu Tăng Kiều La Diệp Từ Triệu Phùng Hứa
Chu Lai Nghiêm Khúc Thân Âu Văn Giang Mạc Tôn Thạch Lữ Lục Nông Kha Đồng Quan Vương Khổng Bạch Danh
Sơn Lạc Trang Ông Phó Hầu Mẫn Tống Hàn Liêu""".split())

def squashed(texts: list[str]) -> list[str]:
    """[squash(t) for t in texts]; `texts` itself when every text is so already, which two
    C-level tests over them all say (a document's body: hundreds of lines, table cells mostly).
    With every character printable, " " is the only whitespace (squash's own fast test), so a
    text needs squashing only for a double space or a space at an end, which show in the texts
    joined by U+001F (not printable: a text holding one fails the first test)."""
    if "".join(texts).isprintable():
        joined = "\x1f".join(texts)
        if "  " not in joined and " \x1f" not in joined and "\x1f " not in joined \
                and joined[:1] != " " and joined[-1:] != " ":
            return texts
    return [squash(t) for t in texts]


def is_upper(text: str) -> bool:
    """Written in capitals: some letter, none of them lower case (str.isupper, in C)."""
    return text.isupper()


def name_like(text: str) -> bool:
    """A Vietnamese personal name in Title Case: 2-6 words, letters only, not a known phrase."""
    words = squash(text).strip(" .,;").split()
    if not 2 <= len(words) <= 6 or words[0] in _NAME_STOP or IGNORABLE_RE.search(text):
        return False
    for w in words:
        if not w.isalpha() or not w[0].isupper():
            return False
        if len(w) > 1 and not w[1:].islower():
            return False
    return True


def upper_name(text: str) -> bool:
    """A name typed in capitals ("ĐOÀN THANH BÌNH"): accepted only with a known surname."""
    words = squash(text).split()
    return 2 <= len(words) <= 6 and all(w.isalpha() for w in words) and words[0].title() in SURNAMES

