"""The facts' fast paths (one C-level test over many lines or cells) give what the per-line
helpers they stand in for give, on the texts that send them to the slow way."""
from __future__ import annotations

from parsers.facts_common import squashed
from parsers.facts_signing import _opening_line, opens_signing
from parsers.figures import _clean, _clean_already, _rows, table_figures
from parsers.text import squash

_TRICKY = ["", "a", "Tổng số hộ", " lề trái", "lề phải ", "hai  dấu cách", "cột\tcột", "ngắt\ndòng",
           "cách\u00a0cứng", "rộng\u3000", "ẩn\u200bký tự", "ngăn\x1fcách", "Hòa", "Hoà", "Ho\u0300a"]


def test_squashed_is_squash_of_each_line():
    clean = ["I. KẾT QUẢ", "1. Về sản xuất", "12", "Tổng số hộ"]
    assert squashed(clean) is clean  # nothing to do: the list itself
    for odd in _TRICKY:
        lines = clean + [odd]
        assert squashed(lines) == [squash(t) for t in lines], repr(odd)


def test_clean_already_only_when_clean_changes_nothing():
    assert _clean_already(["STT", "Nội dung", "1.234", ""])
    for odd in _TRICKY:
        cells = ["STT", odd]
        # a sufficient test (a zero-width space fails it, though _clean keeps one): the rows are
        # then cleaned one cell at a time, as before
        assert not _clean_already(cells) or all(_clean(c) == c for c in cells), repr(odd)
        assert _rows([cells, [odd]]) == [r for r in [[_clean(c) for c in cells], [_clean(odd)]] if any(r)]
    assert not _clean_already(["STT", "hai  dấu cách"]) and not _clean_already(["Ho\u0300a"])
    assert not _clean_already(["STT", None]) and not _clean_already([5, "a"])
    # an NFD cell is normalised either way: the figure's row label is NFC
    nfd = [["STT", "Nội dung", "Kết quả"], ["1", "Ho\u0300a an", "12"]]
    assert table_figures([nfd])[0].row == "Hòa an"


def test_opening_line_is_the_first_line_opens_signing_accepts():
    lines = ["I. KẾT QUẢ", "Tổng số", "Thực hiện", "12", "TỔNG CỘNG", "Quản lý", "nơi làm việc",
             "Kết quả\t\t", "Nơi nhận:", "- Như trên;", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
             "x   KT. CHỦ TỊCH", "hai\ndòng TM. UBND", "Q. CHÁNH VĂN PHÒNG", "PHÓ CHỦ TỊCH", ""]
    for start in range(len(lines) + 1):
        tail = lines[start:]
        for k in range(len(tail) + 1):  # each line in turn the first candidate left
            sub = lines[:start] + tail[k:]
            expected = next((i for i in range(start, len(sub)) if sub[i] and opens_signing(sub[i])), None)
            assert _opening_line(sub, start) == expected, (start, k)


def _sections_line_by_line(body: list[str]):
    """_sections written plainly: _is_heading on each line (_sections has it inline)."""
    from parsers.facts import _is_heading
    from parsers.model import Section

    lines = [s for s in squashed(body) if s]
    heads = [i for i, s in enumerate(lines) if _is_heading(s)]
    return tuple(Section(lines[i], *_is_heading(lines[i]), "\n".join(lines[i + 1:j]))
                 for i, j in zip(heads, heads[1:] + [len(lines)]))


_HEADING_LIKE = ["I. KẾT QUẢ", "II- Nhiệm vụ", "IV/ Kiến nghị", "V/v báo cáo", "V/ Đề xuất", "IIII. bốn",
                 "XX: hai mươi", "XXI. quá", "L. không", "IV.", "IV. ", "1. Về sản xuất", "1.5 tỷ đồng",
                 "12", "12) mười hai", "123. ba chữ số", "1 . cách", "1.", "1.2. mục con", "1- gạch",
                 "1/ xiên", "2–gạch dài", "1. 2", "3) ,", "a) Việc một", "a)", "a ) cách", "đ) chữ đ",
                 "b)c", "ă) không", "A) hoa", "²) mũ", "١. số Ả Rập", "x) Kết luận", "1.\u00a0cách cứng",
                 "I.\tthụt", "  1. lề", "c)  hai dấu cách", "- gạch đầu dòng", "Tổng cộng", "", " "]


def test_sections_finds_the_headings_is_heading_finds():
    import random

    from parsers.facts import _sections

    rng = random.Random(17)
    assert _sections(_HEADING_LIKE) == _sections_line_by_line(_HEADING_LIKE)
    assert [s.number for s in _sections(["I. A", "x", "1. B", "", "y", "a) C", "z", "II. D"])] == ["I", "1", "a", "II"]
    for _ in range(300):
        body = [rng.choice(_HEADING_LIKE) for _ in range(rng.randrange(0, 25))]
        assert _sections(body) == _sections_line_by_line(body), body
