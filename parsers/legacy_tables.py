"""Code tables of the legacy 8-bit Vietnamese encodings: TCVN3 (ABC), VNI Windows, VISCII,
and the letter <-> "surface" maps built from them at import; parsers/text.py does the converting.

The tables are written by *byte value*. What a reader hands us is each byte as Windows-1252
shows it (a .VnTime run in a .docx stores byte 0xB5 as U+00B5 "µ"): the surface character.
The maps at the bottom translate between Vietnamese letters and those surface strings.

Sources (transcribed, then cross-checked by script against each other; tests/test_text.py
re-checks round trips and known real strings):
- TCVN3 (TCVN 5712:1993 VN3, the ".Vn" fonts): UniKey's VnConv table "TCVN3" (Pham Kim Long,
  ukengine/data.cpp), checked byte by byte against libiconv's TCVN-5712 (VN1) table, of which
  VN3 is the lower-case subset, and against viparse 0.1.31's corpus-observed TCVN3 table
  (all 74 of its entries agree).
  VN3 has codes for the lower-case letters and for the seven upper-case base letters
  Ă Â Ê Ô Ơ Ư Đ only. Other upper-case letters are written with the lower-case code and an
  upper-case font (.VnTimeH): the "H" fonts draw every letter upper-case.
  Bytes 0x80-0x9F are *not* used by VN3: they stay Windows-1252 punctuation (curly quotes,
  dashes, ellipsis), as UniKey keeps them; decoding them as VN1 letters would turn the en-dash
  of the motto into "Ọ". VN1's upper-case letters at 0xAF, 0xBA, 0xBF-0xC5, 0xD9-0xDB, 0xE0,
  0xF0, 0xFF are left out on purpose too: UniKey's VN3 table does not use them, and mapping
  them would corrupt Unicode text that sits in a run formatted with a .Vn font ("à" -> "Ổ").
- VNI Windows (VNI-Times, ...): UniKey's VnConv double-byte table "VNI-WIN" (base letter plus
  one mark byte; đ, ơ, ư, the i-family and ỵ are single bytes), checked against viparse's
  corpus-observed VNI table (all 132 of its entries agree; UniKey also has ẳ/Ẳ).
- VISCII 1.1 (RFC 1456): libiconv/glibc VISCII.TXT as shipped in the viscii-codec package,
  checked entry by entry against viparse's glibc-derived table.
"""
from __future__ import annotations

import unicodedata

# Tone marks in the order UniKey lists them: sắc, huyền, hỏi, ngã, nặng.
TONES = ("\u0301", "\u0300", "\u0309", "\u0303", "\u0323")

# The 12 vowels (lower case) that carry tones, and the two extra base letters.
VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")

# --- TCVN3 (VN3) -------------------------------------------------------------------------------
# vowel -> (byte of the toneless lower-case letter, bytes for sắc, huyền, hỏi, ngã, nặng).
# A toneless plain vowel is ASCII (None here).
TCVN3_VOWELS: dict[str, tuple[int | None, tuple[int, int, int, int, int]]] = {
    "a": (None, (0xB8, 0xB5, 0xB6, 0xB7, 0xB9)),
    "ă": (0xA8, (0xBE, 0xBB, 0xBC, 0xBD, 0xC6)),
    "â": (0xA9, (0xCA, 0xC7, 0xC8, 0xC9, 0xCB)),
    "e": (None, (0xD0, 0xCC, 0xCE, 0xCF, 0xD1)),
    "ê": (0xAA, (0xD5, 0xD2, 0xD3, 0xD4, 0xD6)),
    "i": (None, (0xDD, 0xD7, 0xD8, 0xDC, 0xDE)),
    "o": (None, (0xE3, 0xDF, 0xE1, 0xE2, 0xE4)),
    "ô": (0xAB, (0xE8, 0xE5, 0xE6, 0xE7, 0xE9)),
    "ơ": (0xAC, (0xED, 0xEA, 0xEB, 0xEC, 0xEE)),
    "u": (None, (0xF3, 0xEF, 0xF1, 0xF2, 0xF4)),
    "ư": (0xAD, (0xF8, 0xF5, 0xF6, 0xF7, 0xF9)),
    "y": (None, (0xFD, 0xFA, 0xFB, 0xFC, 0xFE)),
}
TCVN3_D_LOWER = 0xAE  # đ
# The only upper-case letters VN3 can write with a regular (non-H) font.
TCVN3_UPPER_BASES = {"Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7}

# --- VNI Windows -------------------------------------------------------------------------------
# A toned vowel is its base letter followed by a mark byte. Marks differ by vowel family and by
# case (upper-case letters take the upper-case mark byte). Bytes given for lower case; the
# upper-case mark is the same byte minus 0x20 (é 0xE9 -> É 0xC9), as in the VNI-WIN table.
VNI_TONE_MARKS = (0xF9, 0xF8, 0xFB, 0xF5, 0xEF)  # ù ø û õ ï  on a, e, o, u, y, ơ, ư
VNI_CIRCUMFLEX = 0xE2  # â  : a/e/o + â = â ê ô
VNI_CIRCUMFLEX_TONES = (0xE1, 0xE0, 0xE5, 0xE3, 0xE4)  # á à å ã ä : ấ ầ ẩ ẫ ậ (ế ề ..., ố ồ ...)
VNI_BREVE = 0xEA  # ê  : a + ê = ă
VNI_BREVE_TONES = (0xE9, 0xE8, 0xFA, 0xFC, 0xEB)  # é è ú ü ë : ắ ằ ẳ ẵ ặ
# Letters that VNI writes as one byte of their own (lower case; upper case is byte - 0x20).
VNI_SINGLE = {
    "đ": 0xF1,  # ñ
    "ơ": 0xF4,  # ô  (and ơ + tone = ô + tone mark)
    "ư": 0xF6,  # ö
    "í": 0xED,
    "ì": 0xEC,
    "ỉ": 0xE6,  # æ
    "ĩ": 0xF3,  # ó
    "ị": 0xF2,  # ò
    "ỵ": 0xEE,  # î  (the other toned y are y + mark)
}
# Forms seen in real VNI documents besides UniKey's: "i" + mark for ì/í (viparse's corpus,
# e.g. "chiùnh" for chính) and "y" + ï for ỵ. Accepted when decoding, never produced.
VNI_DECODE_ALIASES = {"iù": "í", "iø": "ì", "yï": "ỵ"}

# --- VISCII 1.1 --------------------------------------------------------------------------------
# Six C0 control bytes are letters; 0x80-0xFF in full. Other bytes are ASCII.
VISCII_C0 = {0x02: 0x1EB2, 0x05: 0x1EB4, 0x06: 0x1EAA, 0x14: 0x1EF6, 0x19: 0x1EF8, 0x1E: 0x1EF4}
VISCII_HIGH = (
    0x1EA0, 0x1EAE, 0x1EB0, 0x1EB6, 0x1EA4, 0x1EA6, 0x1EA8, 0x1EAC,  # 0x80
    0x1EBC, 0x1EB8, 0x1EBE, 0x1EC0, 0x1EC2, 0x1EC4, 0x1EC6, 0x1ED0,  # 0x88
    0x1ED2, 0x1ED4, 0x1ED6, 0x1ED8, 0x1EE2, 0x1EDA, 0x1EDC, 0x1EDE,  # 0x90
    0x1ECA, 0x1ECE, 0x1ECC, 0x1EC8, 0x1EE6, 0x0168, 0x1EE4, 0x1EF2,  # 0x98
    0x00D5, 0x1EAF, 0x1EB1, 0x1EB7, 0x1EA5, 0x1EA7, 0x1EA9, 0x1EAD,  # 0xA0
    0x1EBD, 0x1EB9, 0x1EBF, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EC7, 0x1ED1,  # 0xA8
    0x1ED3, 0x1ED5, 0x1ED7, 0x1EE0, 0x01A0, 0x1ED9, 0x1EDD, 0x1EDF,  # 0xB0
    0x1ECB, 0x1EF0, 0x1EE8, 0x1EEA, 0x1EEC, 0x01A1, 0x1EDB, 0x01AF,  # 0xB8
    0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x1EA2, 0x0102, 0x1EB3, 0x1EB5,  # 0xC0
    0x00C8, 0x00C9, 0x00CA, 0x1EBA, 0x00CC, 0x00CD, 0x0128, 0x1EF3,  # 0xC8
    0x0110, 0x1EE9, 0x00D2, 0x00D3, 0x00D4, 0x1EA1, 0x1EF7, 0x1EEB,  # 0xD0
    0x1EED, 0x00D9, 0x00DA, 0x1EF9, 0x1EF5, 0x00DD, 0x1EE1, 0x01B0,  # 0xD8
    0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x1EA3, 0x0103, 0x1EEF, 0x1EAB,  # 0xE0
    0x00E8, 0x00E9, 0x00EA, 0x1EBB, 0x00EC, 0x00ED, 0x0129, 0x1EC9,  # 0xE8
    0x0111, 0x1EF1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x1ECF, 0x1ECD,  # 0xF0
    0x1EE5, 0x00F9, 0x00FA, 0x0169, 0x1EE7, 0x00FD, 0x1EE3, 0x1EEE,  # 0xF8
)


# ==============================================================================================
# Derived maps (built once at import from the tables above)
# ==============================================================================================

def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


# ----------------------------------------------------------------------------------------------
# Letters
# ----------------------------------------------------------------------------------------------

_MOD_BASES = {"ă": ("a", "\u0306"), "â": ("a", "\u0302"), "ê": ("e", "\u0302"),
              "ô": ("o", "\u0302"), "ơ": ("o", "\u031b"), "ư": ("u", "\u031b")}


def toned(vowel: str, tone: int | None) -> str:
    """The NFC letter for a lower-case vowel with tone index 0..4 (sắc..nặng) or None."""
    return vowel if tone is None else _nfc(vowel + TONES[tone])


# Every lower-case letter with a diacritic (67): 12 vowels x 5 tones, ă â ê ô ơ ư, đ.
_VIET_LOWER: tuple[str, ...] = tuple(
    [toned(v, t) for v in VOWELS for t in range(5)] + list(_MOD_BASES) + ["đ"]
)
VIETNAMESE_LETTERS: tuple[str, ...] = tuple(
    sorted(set(_VIET_LOWER) | {c.upper() for c in _VIET_LOWER})
)  # the 134 letters with diacritics, both cases


# ----------------------------------------------------------------------------------------------
# Byte <-> surface character (what Windows-1252 shows for a byte; Latin-1 where 1252 has a hole)
# ----------------------------------------------------------------------------------------------

def surfaces(byte: int) -> list[str]:
    """Every character a reader may hand us for this byte: the Windows-1252 character and,
    for 0x80-0x9F, the Latin-1 control character too (Word and converters differ here)."""
    out = [chr(byte)]
    try:
        cp = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return out
    if cp not in out:
        out.insert(0, cp)
    return out


def surface(byte: int) -> str:
    """The preferred surface character of a byte (Windows-1252 where defined)."""
    return surfaces(byte)[0]


# ----------------------------------------------------------------------------------------------
# Maps: letter -> legacy surface string, and surface string -> letter
# ----------------------------------------------------------------------------------------------

def _build_tcvn3() -> tuple[dict[str, str], dict[str, str]]:
    enc: dict[str, str] = {}
    for vowel, (base, tones) in TCVN3_VOWELS.items():
        if base is not None:
            enc[vowel] = surface(base)
        for i, byte in enumerate(tones):
            enc[toned(vowel, i)] = surface(byte)
    enc["đ"] = surface(TCVN3_D_LOWER)
    for letter, byte in TCVN3_UPPER_BASES.items():
        enc[letter] = surface(byte)
    dec = {code: letter for letter, code in enc.items()}
    assert len(dec) == len(enc), "TCVN3 table has a duplicate code"
    return enc, dec


def _build_vni() -> tuple[dict[str, str], dict[str, str]]:
    enc: dict[str, str] = {}

    def add(letter: str, lower_bytes: list[int]) -> None:
        enc[letter] = "".join(chr(b) for b in lower_bytes)
        upper = [b - 0x20 if b >= 0xC0 else ord(chr(b).upper()) for b in lower_bytes]
        enc[letter.upper()] = "".join(chr(b) for b in upper)

    for vowel in ("a", "e", "o", "u", "y"):
        for i, mark in enumerate(VNI_TONE_MARKS):
            add(toned(vowel, i), [ord(vowel), mark])
    for vowel in ("â", "ê", "ô"):
        plain = ord(_MOD_BASES[vowel][0])
        add(vowel, [plain, VNI_CIRCUMFLEX])
        for i, mark in enumerate(VNI_CIRCUMFLEX_TONES):
            add(toned(vowel, i), [plain, mark])
    add("ă", [ord("a"), VNI_BREVE])
    for i, mark in enumerate(VNI_BREVE_TONES):
        add(toned("ă", i), [ord("a"), mark])
    for vowel in ("ơ", "ư"):
        add(vowel, [VNI_SINGLE[vowel]])
        for i, mark in enumerate(VNI_TONE_MARKS):
            add(toned(vowel, i), [VNI_SINGLE[vowel], mark])
    for letter, byte in VNI_SINGLE.items():  # đ, the i family, ỵ (overrides y + ï)
        add(letter, [byte])
    dec: dict[str, str] = {}
    for letter, code in enc.items():
        dec[code] = letter
        if len(code) == 2:
            # Case follows the base letter: accept a mark byte of the other case too.
            base, mark = code
            other = chr(ord(mark) + 0x20) if mark.isupper() else chr(ord(mark) - 0x20)
            dec.setdefault(base + other, letter)
    for code, letter in VNI_DECODE_ALIASES.items():
        dec.setdefault(code, letter)
        dec.setdefault(code.upper(), letter.upper())
    assert len(set(enc.values())) == len(enc), "VNI table has a duplicate code"
    return enc, dec


def _build_viscii() -> tuple[dict[str, str], dict[str, str]]:
    byte_to_cp = dict(VISCII_C0)
    byte_to_cp.update({0x80 + i: cp for i, cp in enumerate(VISCII_HIGH)})
    enc: dict[str, str] = {}
    dec: dict[str, str] = {}
    for byte, cp in byte_to_cp.items():
        letter = chr(cp)
        enc[letter] = surface(byte)
        for shown in surfaces(byte):
            dec[shown] = letter
    return enc, dec


def _build_cp1258() -> tuple[dict[str, str], dict[str, str]]:
    enc: dict[str, str] = {}
    dec: dict[str, str] = {}
    for byte in range(0x80, 0x100):
        try:
            char = bytes([byte]).decode("cp1258")
        except UnicodeDecodeError:
            continue
        enc.setdefault(char, surface(byte))
        for shown in surfaces(byte):
            dec[shown] = char
    return enc, dec


# letter -> legacy surface string, and surface string -> letter, per encoding.
TCVN3_ENCODE, TCVN3_DECODE = _build_tcvn3()
VNI_ENCODE, VNI_DECODE = _build_vni()
VISCII_ENCODE, VISCII_DECODE = _build_viscii()
CP1258_ENCODE, CP1258_DECODE = _build_cp1258()

