"""Units' sentences in the Ủy ban's voice. Pure functions over strings and typed records.

A unit writes about itself ("Phòng đã tổ chức...", "UBND xã quán triệt...", "Chúng tôi...",
"Đơn vị..."). The consolidated report is signed by the Ủy ban nhân dân huyện, so a unit's own
words can only be kept if who did it is said in the third person:

- `strip_self` replaces the self-reference by a placeholder (SELF) before sentences are merged,
  so "Phòng đã tổ chức 30 cuộc" and "UBND xã đã tổ chức 12 cuộc" become the same wording and
  are summed once;
- `voiced` puts the subject back: one unit's name, a short list ("Phòng A; Phòng B và Phòng
  C"), or the collective ("Các cơ quan, đơn vị và UBND các xã, thị trấn") when many wrote it.
  A sentence that starts with a verb ("Tổ chức 24 buổi...") gets the subject in front; one that
  names its own subject ("Cán bộ, công chức chấp hành...") is kept and, from a single unit,
  says whose it is in brackets. Nothing else of the unit's wording changes.
- `proposal` reads "Đề nghị <addressee> ..." sentences: addressed to the district (the Ủy ban
  that signs), they become its own task ("Tổ chức tập huấn..."); otherwise they stay a
  proposal to the level above, the unit named.

Whose sentence it was is never lost: every voiced sentence keeps its sources (model.Trace).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SELF = "⟨S⟩"  # never printed: voiced() always replaces it

# A unit naming itself without its proper name: the word is followed by a lower-case word
# ("Phòng đã", "UBND xã quán triệt"); "Phòng Tư pháp đã" names the unit and stays as written.
_SELF_WORDS = (r"Ủy ban nhân dân (?:xã|thị trấn|phường)|Uỷ ban nhân dân (?:xã|thị trấn|phường)|UBND (?:xã|thị trấn|phường)"
               r"|Văn phòng|Phòng|Thanh tra huyện|Thanh tra|Ban quản lý|Ban|Nhà trường|Trung tâm|Đơn vị|Cơ quan"
               r"|Địa phương|Chúng tôi")
_LOWER = r"(?=\s+[a-zàáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ])"
# ...but not when the word starts a common phrase: "Ban hành" (issue), "Phòng chống" (prevent),
# "Cơ quan chức năng", "Trung tâm hành chính công", "Đơn vị tính" are no self-reference.
_NOT_SELF = (r"(?!\s+(?:hành\b|chống\b|ngừa\b|chức năng|tính\b|hóa\b|cấp\b|trực thuộc|liên quan|khác\b"
             r"|chuyên môn|sự nghiệp|hành chính|y tế|giáo dục|văn hóa|thông tin|xã hội))")
_SELF_AT = re.compile(rf"(^|,\s+|;\s+)({_SELF_WORDS}){_NOT_SELF}{_LOWER}")
_SELF_INSIDE = re.compile(r"\b(?:chúng tôi|đơn vị mình|địa phương mình)\b")

# First words of a sentence that are a predicate without subject: the subject can go in front.
_VERBS = ("tổ chức", "triển khai", "thực hiện", "ban hành", "quán triệt", "tiếp nhận", "giải quyết", "phối hợp",
          "duy trì", "xây dựng", "tuyên truyền", "đăng ký", "đã", "công khai", "niêm yết", "kiện toàn", "tiếp tục",
          "chỉ đạo", "phân công", "hoàn thành", "đẩy mạnh", "tăng cường", "nâng cao", "lồng ghép", "tạo điều kiện",
          "cung cấp", "tiếp thu", "phổ biến", "đưa", "chấn chỉnh", "rà soát", "kiểm tra", "vận động", "hỗ trợ",
          "đạt", "có", "không", "chưa", "tham mưu", "tập trung", "quan tâm", "chủ động", "thường xuyên")

_PROPOSAL = re.compile(r"^(?:Đề nghị|Kiến nghị|Đề xuất|Kính đề nghị|Kính kiến nghị)\s+", re.IGNORECASE)
# After the addressee, words of courtesy that carry no task ("quan tâm tổ chức" -> "Tổ chức").
_COURTESY = re.compile(r"^(?:(?:sớm|tiếp tục|nên|cần)\s+)?(?:quan tâm|xem xét|chỉ đạo|có ý kiến)?\s*", re.IGNORECASE)


def strip_self(sentence: str) -> str:
    """The sentence with the unit's self-reference replaced by SELF (see the module doc)."""
    out = _SELF_AT.sub(lambda m: m.group(1) + SELF, sentence, count=1)
    return _SELF_INSIDE.sub(SELF, out)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _low(text: str) -> str:
    # Only the first letter of a common word: "Tổ chức" -> "tổ chức"; names are never lowered
    # because only sentences starting with a word of _VERBS get here.
    return text[:1].lower() + text[1:]


def starts_with_verb(sentence: str) -> bool:
    low = sentence.lower()
    return any(low.startswith(v + " ") for v in _VERBS)


def voiced(sentence: str, subject: str, single: str | None = None) -> str:
    """The sentence (with SELF placeholders) in the third person.

    subject: who did it ("UBND xã Mỹ Hòa", "Các cơ quan, đơn vị và UBND các xã, thị trấn"), or ""
    for the Ủy ban's own tasks (IV), which then read as directives ("Tiếp tục quán triệt...").
    single: the unit's name when one unit wrote it: said in brackets after a sentence that names
    its own subject, so a concrete contribution keeps its unit."""
    text = sentence.strip()
    if SELF in text:
        if not subject:
            text = re.sub(rf"(^|[,;]\s+){re.escape(SELF)}\s+", r"\1", text)
            text = text.replace(SELF, "")
            return _cap(" ".join(text.split()))
        first = text.startswith(SELF)
        text = text.replace(SELF, _low(subject) if not first and subject[:1].isupper() and subject.startswith("Các ")
                            else subject)
        return _cap(text)
    if subject and starts_with_verb(text):
        return f"{_cap(subject)} {_low(text)}"
    if not subject:
        return _cap(text)
    if single:
        body = text.rstrip()
        end = ""
        while body and body[-1] in ".;:!":
            end = body[-1] + end
            body = body[:-1]
        return f"{body} ({single}){'.' if end else ''}"
    return text


@dataclass(frozen=True)
class Proposal:
    addressee: str  # as written: "Ủy ban nhân dân huyện", "Sở Nội vụ"; "" when none is named
    to_district: bool  # addressed to the Ủy ban that signs the report (or to nobody in particular)
    task: str  # for the district: the task itself, capitalised ("Tổ chức tập huấn ...")


def proposal(sentence: str, district_names: tuple[str, ...], fold) -> Proposal | None:
    """A unit's proposal, or None when the sentence is not one. `fold` is the folding key
    (text.Keys.fold) used to recognise the district's names in any tone placement or case."""
    m = _PROPOSAL.match(sentence.strip())
    if not m:
        return None
    rest = sentence.strip()[m.end():]
    folded = fold(rest)
    for name in sorted(district_names, key=len, reverse=True):
        key = fold(name)
        if key and folded.startswith(key):
            after = rest[len(name):].lstrip(" ,")
            # "huyện" may be followed by its own name: "Ủy ban nhân dân huyện Tháp Mười"
            after = re.sub(r"^(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\s+){0,2}(?=[a-zđà-ỹ])", "", after) if after[:1].isupper() else after
            task = _COURTESY.sub("", after, count=1).strip()
            return Proposal(rest[:len(rest) - len(after)].strip(" ,"), True, _cap(task or after))
    if rest[:1].islower():  # "Đề nghị quan tâm ...": addressed to nobody named, i.e. the district
        return Proposal("", True, _cap(_COURTESY.sub("", rest, count=1).strip() or rest))
    return Proposal(rest.split(" ", 3)[0], False, sentence.strip())
