"""parsers.text: NFC, legacy Vietnamese encodings, matching keys, safe file names."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import legacy_tables as T
from parsers.text import (
    VIETNAMESE_LETTERS,
    ascii_key,
    decode_legacy,
    decode_run,
    decode_runs,
    detect_legacy,
    encode_legacy,
    fold_key,
    legacy_encoding_for_font,
    nfc,
    nfc_all,
    safe_filename,
)

UNICODE_PARAGRAPH = (
    "Thực hiện Chỉ thị số 33/CT-TTg ngày 26/11/2021 của Thủ tướng Chính phủ về tăng cường và "
    "nâng cao hiệu quả công tác dân vận của cơ quan nhà nước, Ủy ban nhân dân xã Mỹ Hòa báo cáo "
    "kết quả thực hiện năm 2024 như sau: tuyên truyền, phổ biến đến toàn thể cán bộ, công chức; "
    "đẩy mạnh phong trào thi đua Dân vận khéo; tiếp công dân và giải quyết khiếu nại, tố cáo."
)
LOWER = [c for c in VIETNAMESE_LETTERS if c.islower()]
UPPER = [c for c in VIETNAMESE_LETTERS if c.isupper()]


# --- nfc ---------------------------------------------------------------------------------------

def test_nfc_composes_macos_decomposed_text():
    decomposed = unicodedata.normalize("NFD", "Báo cáo Phòng Nội vụ")
    assert decomposed != "Báo cáo Phòng Nội vụ"
    assert nfc(decomposed) == "Báo cáo Phòng Nội vụ"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(["a", "o", "\u0301", "\u0323", "\u0302", "Đ", "\x1f", " ", "\n"]),
                        max_size=12), max_size=8))
def test_nfc_all_is_nfc_of_each(texts):
    # Combining marks at the edges of a text must not compose across the separator, and a text
    # holding the separator itself must still come back whole.
    assert nfc_all(texts) == [nfc(t) for t in texts]


def test_there_are_134_vietnamese_letters_with_diacritics():
    assert len(VIETNAMESE_LETTERS) == 134 and len(LOWER) == len(UPPER) == 67
    assert all(unicodedata.is_normalized("NFC", c) and len(c) == 1 for c in VIETNAMESE_LETTERS)


# --- fonts -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("font", "expected"),
    [
        (".VnTime", "tcvn3"),
        (".VnArial", "tcvn3"),
        (".VnCentury Schoolbook", "tcvn3"),
        (".vntime", "tcvn3"),
        (".VnTimeH", "tcvn3h"),
        (".VnArialH", "tcvn3h"),
        (".VnArial NarrowH", "tcvn3h"),
        ("ABCDEF+.VnTimeH,Bold", "tcvn3h"),
        (".VnTime-Bold", "tcvn3"),
        ("VNI-Times", "vni"),
        ("VNI-Helve", "vni"),
        ("vni-times", "vni"),
        ("VI Times", "viscii"),
        ("VI Times H", "visciih"),
        ("VISCII Courier", "viscii"),
        ("Times New Roman", None),
        ("Arial", None),
        ("Calibri", None),
        ("VNtimes", None),
        ("", None),
        (None, None),
    ],
)
def test_legacy_encoding_for_font(font, expected):
    assert legacy_encoding_for_font(font) == expected


# --- decoding known real strings ---------------------------------------------------------------

def test_decode_tcvn3_national_title_and_type_code():
    assert decode_legacy("Céng hoµ x· héi chñ nghÜa ViÖt Nam", "tcvn3") == (
        "Cộng hoà xã hội chủ nghĩa Việt Nam"
    )
    assert decode_legacy("Q§", "tcvn3") == "QĐ"
    assert decode_legacy("Tªn ®¬n vÞ: Phßng Néi vô", "tcvn3") == "Tên đơn vị: Phòng Nội vụ"


def test_decode_tcvn3_keeps_windows_1252_punctuation():
    # 0x80-0x9F are not TCVN3 letters: the en dash of the motto and curly quotes stay.
    assert decode_legacy("§éc lËp – Tù do – H¹nh phóc", "tcvn3") == "Độc lập – Tự do – Hạnh phúc"
    assert decode_legacy("“D©n vËn khÐo”…", "tcvn3") == "“Dân vận khéo”…"


def test_decode_tcvn3_upper_case_font():
    assert decode_legacy("céng hoµ x· héi chñ nghÜa viÖt nam", "tcvn3h") == (
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    assert decode_run("CéNG HOµ X· HéI", ".VnTimeH") == "CỘNG HOÀ XÃ HỘI"
    assert decode_run("uû ban nh©n d©n", ".VnTimeH") == "UỶ BAN NHÂN DÂN"


def test_decode_tcvn3_from_pdf_glyph_substitutions():
    # A PDF of a .VnTime document shows ư as U+2212 and ã as U+2219; a minus before digits stays.
    assert decode_legacy("nhµ n\u2212íc, Th«ng t\u2212 \u22125", "tcvn3") == "nhà nước, Thông tư \u22125"
    assert decode_legacy("x\u2219 héi", "tcvn3") == "xã hội"


def test_decode_vni():
    assert decode_legacy("Boä Taøi chính", "vni") == "Bộ Tài chính"
    assert decode_legacy("QÑ", "vni") == "QĐ"
    assert decode_legacy("Boä Taøi chiùnh", "vni") == "Bộ Tài chính"  # i + mark, seen in real files
    assert decode_legacy("COÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM", "vni") == (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    assert decode_legacy("Ñoäc laäp - Töï do - Haïnh phuùc", "vni") == "Độc lập - Tự do - Hạnh phúc"
    assert decode_legacy("Ñaø Naüng, saün coù, Uûy ban", "vni") == "Đà Nẵng, sẵn có, Ủy ban"


def test_decode_viscii_from_bytes_in_either_surface():
    # The VISCII bytes of "Cộng hòa xã hội", spelled out from RFC 1456.
    viscii = bytes([0x43, 0xB5, 0x6E, 0x67, 0x20, 0x68, 0xF2, 0x61, 0x20, 0x78, 0xE3, 0x20,
                    0x68, 0xB5, 0x69])
    assert decode_legacy(viscii.decode("latin-1"), "viscii") == "Cộng hòa xã hội"
    # 0x80 (Ạ) and 0x9E (Ụ): Windows-1252 shows € and ž, Latin-1 gives C1 controls.
    assert decode_legacy("\u20ac \x80 \u017e \x9e", "viscii") == "Ạ Ạ Ụ Ụ"


def test_decode_cp1258_combining_tones_become_nfc():
    raw = b"Vi\xea\xf2t Nam, \xd0\xf4\xccng Th\xe1p"  # cp1258 writes tones as combining marks
    assert nfc(raw.decode("cp1258")) == "Việt Nam, Đồng Tháp"
    assert decode_legacy(raw.decode("cp1252"), "cp1258") == "Việt Nam, Đồng Tháp"
    assert decode_legacy(raw.decode("cp1252"), "windows-1258") == "Việt Nam, Đồng Tháp"


def test_unknown_encoding_is_an_error():
    with pytest.raises(ValueError):
        decode_legacy("x", "vps")
    with pytest.raises(ValueError):
        encode_legacy("x", "koi8")


# --- round trips -------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["vni", "viscii", "cp1258"])
def test_every_letter_round_trips(encoding):
    for letter in VIETNAMESE_LETTERS:
        assert decode_legacy(encode_legacy(letter, encoding), encoding) == letter, letter
    text = "".join(VIETNAMESE_LETTERS)
    assert decode_legacy(encode_legacy(text, encoding), encoding) == text


def test_tcvn3_round_trips_every_letter_it_can_write():
    # TCVN3 writes the 67 lower-case letters and Ă Â Ê Ô Ơ Ư Đ; every upper-case letter goes
    # through the upper-case font (tcvn3h).
    writable = LOWER + list(T.TCVN3_UPPER_BASES)
    for letter in writable:
        assert decode_legacy(encode_legacy(letter, "tcvn3"), "tcvn3") == letter, letter
    for letter in UPPER:
        assert decode_legacy(encode_legacy(letter, "tcvn3h"), "tcvn3h") == letter, letter
    # Every code is one byte, and no two letters share one in the regular font.
    codes = [encode_legacy(c, "tcvn3") for c in writable]
    assert all(len(c) == 1 for c in codes) and len(set(codes)) == len(codes)


def test_tcvn3_cannot_write_most_upper_case_toned_letters():
    with pytest.raises(ValueError):
        encode_legacy("Ủy ban", "tcvn3")
    # "replace" does what the ABC keyboard did: the lower-case code.
    assert decode_legacy(encode_legacy("Ủy ban", "tcvn3", errors="replace"), "tcvn3") == "ủy ban"


def test_encode_refuses_characters_the_encoding_cannot_write():
    with pytest.raises(ValueError):
        encode_legacy("señor", "vni")  # ñ is VNI's đ
    with pytest.raises(ValueError):
        encode_legacy("© 2024", "tcvn3")  # © is TCVN3's â
    assert encode_legacy("Số 45 – “x”", "tcvn3") == "Sè 45 – “x”"


def test_known_real_strings_encode_as_seen_in_documents():
    assert encode_legacy("Cộng hoà xã hội chủ nghĩa Việt Nam", "tcvn3") == (
        "Céng hoµ x· héi chñ nghÜa ViÖt Nam"
    )
    assert encode_legacy("QĐ", "tcvn3") == "Q§"
    assert encode_legacy("Bộ Tài chính", "vni") == "Boä Taøi chính"
    assert encode_legacy("QĐ", "vni") == "QÑ"


_ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-()/\n"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=list(_ASCII) + list(VIETNAMESE_LETTERS), max_size=60),
       st.sampled_from(["vni", "viscii", "cp1258"]))
def test_random_text_round_trips(text, encoding):
    assert decode_legacy(encode_legacy(text, encoding), encoding) == text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=list(_ASCII.lower()) + LOWER + list(T.TCVN3_UPPER_BASES), max_size=60))
def test_random_text_round_trips_tcvn3(text):
    assert decode_legacy(encode_legacy(text, "tcvn3"), "tcvn3") == text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=list(_ASCII.upper()) + UPPER, max_size=60))
def test_random_upper_case_text_round_trips_tcvn3h(text):
    assert decode_legacy(encode_legacy(text, "tcvn3h"), "tcvn3h") == text


# --- runs --------------------------------------------------------------------------------------

def test_decode_run_by_font():
    assert decode_run("Céng hoµ", ".VnTime") == "Cộng hoà"
    assert decode_run("Boä Taøi chính", "VNI-Times") == "Bộ Tài chính"
    assert decode_run(unicodedata.normalize("NFD", "Cộng hoà"), "Times New Roman") == "Cộng hoà"
    assert decode_run("Céng hoµ", None) == "Céng hoµ"


def test_decode_run_leaves_unicode_typed_into_a_legacy_font_alone():
    # Word draws Unicode typed into a .VnTime run with a fallback font; decoding would wreck it.
    assert decode_run("Phòng Tài chính", ".VnTime") == "Phòng Tài chính"
    assert decode_run("Ủy ban nhân dân", ".VnTime") == "Ủy ban nhân dân"
    assert decode_run("chính phủ", "VNI-Times") == "chính phủ"
    # ...while real legacy text that happens to look like Latin-1 is still decoded.
    assert decode_run("sè", ".VnTime") == "số"


def test_decode_runs_joins_a_vni_letter_split_across_runs():
    runs = [("Bo", "VNI-Times"), ("ä Taøi chính", "VNI-Times"), (" và ", "Times New Roman"),
            ("Q§", ".VnTimeH"), (" ", None), ("Phòng Nội vụ", "Arial")]
    assert decode_runs(runs) == "Bộ Tài chính và QĐ Phòng Nội vụ"
    assert decode_runs([]) == ""


# --- detection without font information --------------------------------------------------------

@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "viscii"])
def test_detect_legacy_recognises_each_encoding(encoding):
    legacy = encode_legacy(UNICODE_PARAGRAPH, encoding, errors="replace")
    assert detect_legacy(legacy) == encoding
    assert fold_key(decode_legacy(legacy, encoding)) == fold_key(UNICODE_PARAGRAPH)


def test_detect_legacy_on_short_real_lines():
    assert detect_legacy("Céng hoµ x· héi chñ nghÜa ViÖt Nam") == "tcvn3"
    assert detect_legacy("Boä Taøi chính ñaõ ban haønh quyeát ñònh") == "vni"


@pytest.mark.parametrize(
    "text",
    [
        UNICODE_PARAGRAPH,
        unicodedata.normalize("NFD", UNICODE_PARAGRAPH),
        UNICODE_PARAGRAPH.upper(),
        "The quick brown fox jumps over the lazy dog. Report attached, thanks.",
        "Le café est à côté de l'hôtel, très élégant, où l'on mange des crêpes à la crème.",
        "Größe über Äpfel für die Straße, schöne Grüße aus München.",
        "El niño está en la ciudad con su señora mañana; qué ilusión, acción.",
        "Số: 45/BC-UBND   Tháp Mười, ngày 15 tháng 10 năm 2024",
        "1.234,5 – 2.000 – 100%",
        "",
    ],
)
def test_detect_legacy_does_not_fire_on_normal_text(text):
    assert detect_legacy(text) is None


# --- matching keys -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mỹ Hòa", "MỸ HOÀ"),
        ("hòa", "hoà"),
        ("thủy", "thuỷ"),
        ("khỏe", "khoẻ"),
        ("Quí", "Quý"),
        ("xã Mỹ Quý", "Xã  Mỹ  Quí."),
        ("Ủy ban nhân dân", "Uỷ ban nhân dân"),
        ("kết qủa", "kết quả"),
        ("Phòng Tài chính - Kế hoạch", "Phòng Tài chính – Kế hoạch"),
        ("Phòng Tài chính—Kế hoạch", "phòng tài chính-kế hoạch"),
        ("“Dân vận khéo”", "dân vận khéo"),
        ("Đồng Tháp", "Ðồng Tháp"),  # U+00D0 typed for Đ
        ("Tháp\u00a0Mười", "Tháp Mười"),
        ("Phòng\u200b Nội vụ", "phòng nội vụ"),
    ],
)
def test_fold_key_equal_for_spellings_of_one_name(a, b):
    assert fold_key(a) == fold_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("hòa", "hóa"), ("Mỹ An", "Mỹ Ân"), ("Tân Kiều", "Tân Kiểu"), ("đa", "da"), ("thủy", "thụy")],
)
def test_fold_key_keeps_distinct_words_apart(a, b):
    assert fold_key(a) != fold_key(b)


def test_ascii_key():
    assert ascii_key("Đốc Binh Kiều") == "doc binh kieu"
    assert ascii_key("  Phòng Lao động – Thương binh và Xã hội ") == "phong lao dong-thuong binh va xa hoi"
    assert ascii_key("Mỹ Quí") == ascii_key("My Quy")


_ONSETS = ["", "b", "ch", "d", "đ", "g", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "s",
           "t", "th", "tr", "v", "x"]
_CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"]
_NUCLEI = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uy", "ai",
           "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "iê", "oi", "ôi", "ơi", "ua", "uô",
           "ui", "ưa", "ươ", "ưu", "oai", "uôi", "ươi", "iêu", "uyê"]


def _place(onset: str, nucleus: str, coda: str, tone: int | None, first_of_pair: bool) -> str:
    """Spell a syllable with its tone on a chosen vowel: old style puts it on the first vowel of
    an open oa/oe/uy, new style on the second (the test's own, independent rule)."""
    if tone is None:
        return onset + nucleus + coda
    marked = [k for k, c in enumerate(nucleus) if c in "ăâêôơư"]
    if marked:
        k = marked[-1]
    elif len(nucleus) == 1:
        k = 0
    elif len(nucleus) == 3:
        k = 1
    elif nucleus in ("oa", "oe", "uy") and not coda:
        k = 0 if first_of_pair else 1
    else:
        k = 1 if coda else 0
    toned = nucleus[:k] + T.toned(nucleus[k], tone) + nucleus[k + 1:]
    return onset + toned + coda


_SYLLABLE = st.tuples(st.sampled_from(_ONSETS), st.sampled_from(_NUCLEI), st.sampled_from(_CODAS),
                      st.one_of(st.none(), st.integers(0, 4)))


@settings(max_examples=200, deadline=None)
@given(st.lists(_SYLLABLE, min_size=1, max_size=6), st.sampled_from([str.lower, str.upper, str.title]))
def test_fold_key_ignores_tone_placement_case_and_normal_form(syllables, case):
    old = " ".join(_place(*s, first_of_pair=True) for s in syllables)
    new = " ".join(_place(*s, first_of_pair=False) for s in syllables)
    assert fold_key(old) == fold_key(new)
    assert fold_key(case(old)) == fold_key(new)
    assert fold_key(unicodedata.normalize("NFD", old)) == fold_key(new)
    assert ascii_key(old) == ascii_key(new)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(_CODAS[:1]), st.one_of(st.none(), st.integers(0, 4)))
def test_fold_key_unifies_qui_and_quy(coda, tone):
    qui = "qu" + (T.toned("i", tone) if tone is not None else "i") + coda
    quy = "qu" + (T.toned("y", tone) if tone is not None else "y") + coda
    assert fold_key("Mỹ " + qui.title()) == fold_key("Mỹ " + quy)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_fold_key_is_idempotent_and_ascii_key_is_ascii(text):
    key = fold_key(text)
    assert fold_key(key) == key
    assert fold_key(unicodedata.normalize("NFD", text)) == fold_key(unicodedata.normalize("NFC", text))
    assert all(ord(c) < 128 for c in ascii_key(text))
    assert ascii_key(ascii_key(text)) == ascii_key(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=list(_ASCII) + list(VIETNAMESE_LETTERS) + list("–—“”‘’…\u00a0\t"), max_size=80))
def test_fold_key_is_idempotent_on_vietnamese_text(text):
    key = fold_key(text)
    assert fold_key(key) == key
    assert key == key.strip() and "  " not in key


# --- file names --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("..\\..\\x.doc", "x.doc"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\vt\\Báo cáo.docx", "Báo cáo.docx"),
        (unicodedata.normalize("NFD", "Báo cáo năm 2024.pdf"), "Báo cáo năm 2024.pdf"),
        ("  Kế hoạch   .docx  ", "Kế hoạch.docx"),
        ("a\x00b\u202e\r\n.pdf", "ab.pdf"),
        ("Số: 45/BC-UBND.docx", "BC-UBND.docx"),
        ("Báo cáo?.docx", "Báo cáo_.docx"),
        ("..", "tep-dinh-kem"),
        ("", "tep-dinh-kem"),
        (None, "tep-dinh-kem"),
        (".docx", "tep-dinh-kem.docx"),
        ("CON.txt", "_CON.txt"),
    ],
)
def test_safe_filename_examples(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_keeps_extension_when_trimming_long_names():
    long = safe_filename("Báo cáo " * 60 + ".docx")
    assert long.endswith(".docx") and len(long) <= 150 and len(long.encode("utf-8")) <= 240
    assert safe_filename("", default="bao-cao") == "bao-cao"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.text(alphabet="./\\ \x00\x1f.aư", max_size=40)))
def test_safe_filename_is_always_safe(name):
    out = safe_filename(name)
    assert out and out not in (".", "..")
    assert "/" not in out and "\\" not in out
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in out)
    assert not out.startswith(".") and out == out.strip()
    assert len(out) <= 150 and len(out.encode("utf-8")) <= 240
    assert unicodedata.is_normalized("NFC", out)
