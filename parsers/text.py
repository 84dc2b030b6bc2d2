"""Vietnamese text handling shared by every reader and by matching: pure functions, no IO.

- nfc: everything we keep is Unicode NFC (macOS sends NFD text and file names).
- Legacy 8-bit fonts (TCVN3/ABC ".VnTime", VNI "VNI-Times", VISCII, Windows-1258): a reader
  hands us a run's text as the font's bytes shown through Windows-1252 ("Céng hoµ" for
  "Cộng hoà"); decode_run / decode_runs turn it into Unicode by the run's font name (a
  symbol font's run, Symbol or Wingdings, gives bullets, never letters), and
  detect_legacy recognises such text where no font name exists (PDF, plain text, HTML).
- fold_key / ascii_key: comparison keys for names (case, spacing, dashes, tone placement,
  "Quí"/"Quý"). Keys are for matching only; text shown to people is never rewritten.
- safe_filename: an attachment's name made harmless for storage and display.

The code tables live in parsers/legacy_tables.py (with their sources).
"""
from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from parsers import legacy_tables as T
from parsers.legacy_tables import VIETNAMESE_LETTERS

__all__ = [
    "nfc",
    "legacy_encoding_for_font",
    "font_kind",
    "is_symbol_font",
    "symbol_text",
    "decode_legacy",
    "encode_legacy",
    "decode_run",
    "decode_runs",
    "detect_legacy",
    "legacy_readings",
    "fold_key",
    "ascii_key",
    "safe_filename",
    "LEGACY_ENCODINGS",
    "VIETNAMESE_LETTERS",
]


def nfc(s: str) -> str:
    """Unicode NFC: one code point per Vietnamese letter, whatever the sender's system did."""
    return unicodedata.normalize("NFC", s)


def squash(text: str) -> str:
    """Whitespace runs as one space, none at the ends (" ".join(text.split())).

    Most lines and cells are so already; every whitespace character but " " is unprintable to
    str.isprintable, so these C-level tests say it without splitting the text into words."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


# Vietnamese letters (NFC, both cases) to their base letter, đ to d: a table lookup.
_TO_BASE_LETTER = str.maketrans(
    {c: unicodedata.normalize("NFKD", c)[0] for c in T.VIETNAMESE_LETTERS} | {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})
_NOT_LETTERS_RE = re.compile(r"[^A-Z0-9]+")


@functools.lru_cache(maxsize=16384)  # headings and column headers repeat in every unit's documents
def letters_key(text: str) -> str:
    """Upper-case ASCII words without diacritics ("Số thứ tự" -> "SO THU TU"), for matching a
    fixed vocabulary (document type names, column headers). A table lookup: ascii_key's
    syllable canonicalisation is not needed for such words, and costs far more. Not for names
    (there fold_key/ascii_key make "Quí"/"Quý" and "hòa"/"hoà" one)."""
    return _NOT_LETTERS_RE.sub(" ", unicodedata.normalize("NFC", text).translate(_TO_BASE_LETTER).upper()).strip()


def nfc_all(texts: Sequence[str]) -> list[str]:
    """nfc() of each text, in one pass over them joined: a document's few hundred lines or cells
    cost one C call instead of one Python call each. U+001F (a control character, which never
    composes with a neighbour) separates them; a text that holds one itself is done alone."""
    if not texts:
        return []
    joined = "\x1f".join(texts)
    if joined.count("\x1f") != len(texts) - 1:
        return [nfc(t) for t in texts]
    return unicodedata.normalize("NFC", joined).split("\x1f")


_TONE_SET = frozenset(T.TONES)
_VIET_SET = frozenset(T.VIETNAMESE_LETTERS)
# Letters a legacy byte can never surface as (outside Latin-1): their presence proves a run
# already holds Unicode even when its font is a legacy one.
_UNICODE_ONLY = frozenset(c for c in T.VIETNAMESE_LETTERS if ord(c) > 0xFF)
_TCVN3_ENC, _TCVN3_DEC = T.TCVN3_ENCODE, T.TCVN3_DECODE
_VNI_ENC, _VNI_DEC = T.VNI_ENCODE, T.VNI_DECODE
_VISCII_ENC, _VISCII_DEC = T.VISCII_ENCODE, T.VISCII_DECODE
_CP1258_ENC, _CP1258_DEC = T.CP1258_ENCODE, T.CP1258_DECODE
_TCVN3_TRANS = str.maketrans(_TCVN3_DEC)
_VISCII_TRANS = str.maketrans(_VISCII_DEC)
_CP1258_TRANS = str.maketrans(_CP1258_DEC)
_VNI_RE = re.compile("|".join(re.escape(k) for k in sorted(_VNI_DEC, key=len, reverse=True)))

# "h" encodings: the upper-case-only fonts (.VnTimeH, "VI Times H") draw every letter upper case.
LEGACY_ENCODINGS = ("tcvn3", "tcvn3h", "vni", "viscii", "visciih", "cp1258")

# A PDF text layer of a .VnTime document gives U+2212 for TCVN3 0xAD (ư) and U+2219 for 0xB7 (ã)
# (observed by viparse over real PDFs). Only next to a letter: between digits it is a minus.
_PDF_TCVN3_GLYPHS = {"\u2212": "\xad", "\u2219": "\xb7"}
_PDF_GLYPH_RE = re.compile(r"(?<=[^\W\d_])[\u2212\u2219]|[\u2212\u2219](?=[^\W\d_])")


def _pdf_glyph(m: re.Match) -> str:
    """U+2212/U+2219 as the TCVN3 letter it stands for, except a bullet or dash before a word.

    Inside a word ("n\u2212íc") it is always the letter. At a word's start it is the letter
    only when the word then reads as a syllable ("\u2212íc" is ước): a symbol-font bullet glued
    to the next word ("\u2212c¸c") must not become "ưcác"."""
    glyph, start = m.group(), m.start()
    text = m.string
    if start and not text[start - 1].isspace() and not _EDGE_OPEN(text[start - 1]):
        return _PDF_TCVN3_GLYPHS[glyph]
    end = start + 1
    while end < len(text) and not text[end].isspace():
        end += 1
    word = (_PDF_TCVN3_GLYPHS[glyph] + text[start + 1:end]).translate(_TCVN3_TRANS)
    return _PDF_TCVN3_GLYPHS[glyph] if _word_validity(word) else glyph


def _EDGE_OPEN(ch: str) -> bool:
    return ch in "([{\"'\u201c\u2018"


# A word typed with the ABC keyboard in an upper-case ("H") font but read as .VnTime: TCVN3 has
# no codes for upper-case toned letters, so "PHÇN" holds upper-case ASCII letters and the
# lower-case code of Ầ. Two upper-case ASCII letters and no lower-case one mark such a word
# (a capitalised word, "Cã" for Có, has one); it is upper-cased whole ("PHầN" -> "PHẦN").
_CAPS_WORD_RE = re.compile(r"(?<![^\W\d_])(?=[^\W\d_]*[A-Z][^\W\d_]*[A-Z])(?![^\W\d_]*[a-z])[^\W\d_]+")


def _caps_word(m: re.Match) -> str:
    return _upper(m.group())


def _upper(s: str) -> str:
    # Per character, so "ß" and friends keep their length; the fonts draw one glyph per byte.
    return "".join(u if len(u := c.upper()) == 1 else c for c in s)


def _base_encoding(encoding: str) -> tuple[str, bool]:
    enc = encoding.lower().replace("-", "").replace("_", "")
    aliases = {"abc": "tcvn3", "vn3": "tcvn3", "vniwin": "vni", "vniwindows": "vni",
               "windows1258": "cp1258", "1258": "cp1258"}
    enc = aliases.get(enc, enc)
    if enc in ("tcvn3h", "visciih"):
        return enc[:-1], True
    if enc in ("tcvn3", "vni", "viscii", "cp1258"):
        return enc, False
    raise ValueError(f"unknown legacy encoding: {encoding!r}")


def decode_legacy(s: str, encoding: str) -> str:
    """Legacy-font text (bytes shown as Windows-1252 characters) -> Unicode NFC.

    encoding: "tcvn3", "tcvn3h" (TCVN3 in an upper-case font such as .VnTimeH: decoded, then
    upper-cased), "vni", "viscii", "visciih", "cp1258". Characters that are not codes of the
    encoding pass through unchanged. Pure table conversion: decode_run adds the safety check
    for runs that already hold Unicode.
    """
    base, upper = _base_encoding(encoding)
    if base == "tcvn3":
        if "\u2212" in s or "\u2219" in s:
            s = _PDF_GLYPH_RE.sub(_pdf_glyph, s)
        out = s.translate(_TCVN3_TRANS)
        if not upper and out != s:
            out = _CAPS_WORD_RE.sub(_caps_word, out)
    elif base == "vni":
        out = _VNI_RE.sub(lambda m: _VNI_DEC[m.group()], s)
    elif base == "viscii":
        out = s.translate(_VISCII_TRANS)
    else:
        out = s.translate(_CP1258_TRANS)
    out = nfc(out)
    return _upper(out) if upper else out


# The non-ASCII characters each encoding uses as codes: another such character cannot be written.
_CODE_CHARS = {
    "tcvn3": frozenset(c for code in _TCVN3_ENC.values() for c in code if ord(c) >= 0x80),
    "vni": frozenset(c for code in _VNI_ENC.values() for c in code if ord(c) >= 0x80),
    "viscii": frozenset(_VISCII_DEC),
}


def _cp1258_encode_char(ch: str) -> str | None:
    if ch in _CP1258_ENC:
        return _CP1258_ENC[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    tones = [c for c in decomposed if c in _TONE_SET]
    rest = nfc("".join(c for c in decomposed if c not in _TONE_SET))
    if len(tones) != 1 or len(rest) != 1:
        return None
    head = rest if ord(rest) < 0x80 else _CP1258_ENC.get(rest)
    tail = _CP1258_ENC.get(tones[0])
    return None if head is None or tail is None else head + tail


def encode_legacy(s: str, encoding: str, errors: str = "strict") -> str:
    """Unicode -> legacy-font text (the inverse of decode_legacy), to make test and demo files.

    TCVN3 has no codes for most upper-case letters with tone marks: real documents set such
    text in an "H" font (use "tcvn3h"; its input is upper-cased first). errors="strict" raises
    ValueError for any character the encoding cannot write; errors="replace" writes what the
    ABC keyboard did (the lower-case code) for those letters and "?" for anything else.
    """
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace', not {errors!r}")
    base, upper = _base_encoding(encoding)
    s = nfc(s)
    if upper:
        s = _upper(s)
    out: list[str] = []
    for pos, ch in enumerate(s):
        code = _encode_char(ch, base, upper)
        if code is None and errors == "replace":
            lower = ch.lower()
            code = _encode_char(lower, base, upper) if lower != ch else None
            code = "?" if code is None else code
        if code is None:
            raise ValueError(f"{encoding} cannot write {ch!r} (position {pos})")
        out.append(code)
    return "".join(out)


def _encode_char(ch: str, base: str, upper: bool) -> str | None:
    if base == "cp1258":
        return ch if ord(ch) < 0x80 else _cp1258_encode_char(ch)
    table = {"tcvn3": _TCVN3_ENC, "vni": _VNI_ENC, "viscii": _VISCII_ENC}[base]
    if ch in table:
        return table[ch]
    if base == "tcvn3" and upper and ch in _VIET_SET:
        return table.get(ch.lower())  # the H font draws lower-case codes upper case
    if ch in _VIET_SET:
        return None
    if ord(ch) < 0x80:
        return None if base == "viscii" and ord(ch) in T.VISCII_C0 else ch
    # Any other character survives only if its byte means nothing in this encoding.
    if ch not in _CODE_CHARS[base] and _is_surface_char(ch):
        return ch
    return None


_ALL_SURFACES = frozenset(s for b in range(0x80, 0x100) for s in T.surfaces(b))


def _is_surface_char(ch: str) -> bool:
    return ch in _ALL_SURFACES


# ----------------------------------------------------------------------------------------------
# Fonts and runs
# ----------------------------------------------------------------------------------------------

_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")  # PDF subset prefix: "ABCDEF+.VnTime"
_STYLE_SUFFIX = re.compile(
    r"(?:[,:\-\s]+(?:bold|italic|oblique|regular|bolditalic|boldoblique|bd|bi|it|mt|ps))+$",
    re.IGNORECASE,
)
# The same style words glued on, as PDF producers write them (".VnTimeHBold", ".VnTimeHPS").
_GLUED_STYLE = re.compile(r"(?<=[a-zA-Z])(?:Bold|Italic|Oblique|Regular|PS|MT)+$")
_PDF_NAME_ESCAPE = re.compile(r"#([0-9A-Fa-f]{2})")  # "/.VnTimeH#20Bold"
# ABC (TCVN3) families seen without their leading dot (PDF base fonts, some converters).
# Case-sensitive: "VNtimes" and friends are other (Unicode) families.
_DOTLESS_ABC = re.compile(
    r"^Vn(?:Time|Arial|Avant|Bodoni|Book|Century|Clarendon|Cooper|Courier|Free|Goth|Helvet|"
    r"Lincoln|Monotype|Shelley|Stamper|Teknical|Universe|Black|Arabia|Souvenir|Optima|Aptima)")
# Fonts that draw pictures, not letters: their bytes are bullets, boxes and arrows. ".VnSymbol"
# is ABC's own one; it must not be read as TCVN3 text.
_SYMBOL_FONTS = re.compile(
    r"^(?:symbol|wingdings(?:\s*[23])?|webdings|marlett|mt\s*extra|\.?vn\s*symbol|zapf\s*dingbats|"
    r"zapfdingbats|ms\s*outlook|bookshelf\s*symbol.*|mt\s*symbol|opensymbol|starsymbol|"
    r"monotype\s*sorts|dingbats|symbol\s*mt|vni-?symbol|vps\s*symbol)$",
    re.IGNORECASE)


def _clean_font_name(font: str) -> str:
    # CSS escapes (Word's HTML writes font-family:"\.VnTime") and PDF name escapes first.
    name = _PDF_NAME_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), font.replace("\\", ""))
    name = _SUBSET_TAG.sub("", name.strip().strip("\"'").strip())
    name = name.split(",")[0].strip()  # PDF: ".VnTimeH,Bold"
    name = re.sub(r"\s*\([^)]*\)\s*$", "", name)  # ".VnTimeH (TCVN3)"
    name = _STYLE_SUFFIX.sub("", name).strip()
    return _GLUED_STYLE.sub("", name) if len(name) > 6 else name


def is_symbol_font(font: str | None) -> bool:
    """Symbol, Wingdings, Webdings, .VnSymbol...: fonts whose characters are never letters."""
    return bool(font) and bool(_SYMBOL_FONTS.match(_clean_font_name(font)))


@lru_cache(maxsize=1024)  # a document names a handful of fonts, on every run
def legacy_encoding_for_font(font: str | None) -> str | None:
    """The legacy encoding a font name implies, or None for a Unicode font.

    ".Vn..." fonts (.VnTime, .VnArial, .VnCentury Schoolbook...) are TCVN3; their "H" variants
    (.VnTimeH, .VnArialH, ".VnTimeH Bold", ".VnTimeHBold") are upper-case fonts -> "tcvn3h".
    "VNI-..." fonts are VNI. Fonts named "...VISCII..." or "VI Times"-style ("VI " + family)
    are VISCII ("... H" -> "visciih"). Symbol fonts (.VnSymbol too), Times New Roman, Arial and
    unknown names -> None.
    """
    if not font:
        return None
    name = _clean_font_name(font)
    if not name or _SYMBOL_FONTS.match(name):
        return None
    lower = name.lower()
    abc = lower.startswith(".vn") or bool(_DOTLESS_ABC.match(name))
    if abc or "tcvn3" in lower:
        return "tcvn3h" if abc and (name.endswith("H") or lower.endswith(" h")) else "tcvn3"
    if lower == "vni" or re.match(r"vni[-_ ]", lower):
        return "vni"
    if "viscii" in lower or name.startswith("VI "):
        return "visciih" if re.search(r"\sH$", name) else "viscii"
    return None


@lru_cache(maxsize=1024)
def font_kind(font: str | None) -> str | None:
    """How a run in this font is read: a legacy encoding (see legacy_encoding_for_font),
    "symbol" for a picture font (see symbol_text), or None for a Unicode font."""
    return "symbol" if is_symbol_font(font) else legacy_encoding_for_font(font)


# Characters a symbol-font run may keep: spacing and the ASCII hyphen people type as a dash.
_SYMBOL_KEEP = frozenset(" \t\n\u00a0")


_NO_PICTURE = frozenset(("Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp"))


def symbol_text(text: str) -> str:
    """A symbol-font run's text: each picture (a bullet, a box, an arrow, whatever its code)
    becomes one "•", repeated pictures one "•"; spacing stays. Never a letter: these codes
    happen to be TCVN3/VNI letters (Symbol's bullet 0xB7 is TCVN3 "ã")."""
    out: list[str] = []
    for ch in text:
        if ch in _SYMBOL_KEEP:
            out.append(ch)
        # Private-use codes are pictures too (Word stores Symbol's bullet as U+F0B7).
        # and so is every byte code of the font, even one that Latin-1 calls invisible (0xAD).
        elif ("\x80" <= ch <= "\xff" or unicodedata.category(ch) not in _NO_PICTURE) and (
                not out or out[-1] != "\u2022"):
            out.append("\u2022")
    return "".join(out)


def _decode_guarded(text: str, encoding: str) -> str:
    """decode_legacy, unless the text evidently already holds Unicode.

    A run formatted with a legacy font can hold real Unicode (typed with a Unicode keyboard;
    Word falls back to another font to draw it). Decoding that would wreck it ("chính" ->
    "chớnh"), so keep the text when it has letters no legacy byte can produce, or when it reads
    as better Vietnamese as it is than decoded.
    """
    if _has_unicode_evidence(text):
        through = _decode_through_cp1258(text, encoding)
        return through if through != nfc(text) else _decode_legacy_words(text, encoding)
    decoded = decode_legacy(text, encoding)
    asis = nfc(text)
    if decoded == asis:
        return decoded
    before, after = _changed_word_validity(asis, decoded)
    return asis if before > after else decoded


# A letter no legacy byte can surface as, or a combining mark: one regex search, in C.
_UNICODE_EVIDENCE_RE = re.compile("[\u0300-\u036f" + "".join(sorted(_UNICODE_ONLY)) + "]")


def _has_unicode_evidence(text: str) -> bool:
    return _UNICODE_EVIDENCE_RE.search(text) is not None


def _decode_legacy_words(text: str, encoding: str) -> str:
    """Runs that hold both Unicode words ("Ủy ban") and legacy ones ("C¸c"): the Unicode words
    stay, the others are decoded when, taken together, they read as better Vietnamese so."""
    tokens = re.split(r"(\s+)", text)
    picked = [i for i in range(0, len(tokens), 2)
              if not tokens[i].isascii() and not _has_unicode_evidence(tokens[i])]
    if not picked:
        return nfc(text)
    decoded = {i: decode_legacy(tokens[i], encoding) for i in picked}
    before = sum(bool(_word_validity(nfc(tokens[i]))) for i in picked)
    after = sum(bool(_word_validity(decoded[i])) for i in picked)
    if after > before:  # a tie keeps the text: beside Unicode words, "nhân" is Unicode too
        for i in picked:
            tokens[i] = decoded[i]
    return nfc("".join(tokens))


def _decode_through_cp1258(text: str, encoding: str) -> str:
    """A legacy-font run whose bytes a converter read as Windows-1258 (an RTF font declared
    \\fcharset163, a Vietnamese Windows): "C¸c ®¬n v\u0303" holds a combining tilde where the
    byte 0xDE (TCVN3 "ị") was. Such text is turned back into its bytes and decoded, when that
    reads as better Vietnamese; Unicode typed into a legacy font reads worse and stays."""
    asis = nfc(text)
    try:
        raw = text.encode("cp1258")
    except UnicodeEncodeError:
        return asis
    decoded = decode_legacy("".join(_CP1252_SURFACE[b] for b in raw), encoding)
    before, after = _changed_word_validity(asis, decoded)
    return decoded if after > before else asis


_CP1252_SURFACE = tuple(T.surface(b) for b in range(256))


def decode_run(text: str, font: str | None) -> str:
    """One run's text as Unicode NFC: decoded when its font is a legacy one, else nfc(text).

    Prefer decode_runs for a paragraph: a VNI letter (base + mark byte) can be split across two
    runs, and only decoding the joined runs puts it back together.
    """
    kind = font_kind(font)
    if kind is None:
        return nfc(text)
    if kind == "symbol":
        return symbol_text(text)
    return _decode_guarded(text, kind)


def decode_runs(runs: Iterable[tuple[str, str | None]]) -> str:
    """A paragraph's runs [(text, font name), ...] -> its Unicode NFC text.

    Adjacent runs with the same legacy encoding are joined before decoding (Word splits runs
    anywhere, even inside a VNI letter); Unicode runs pass through nfc.
    """
    parts: list[str] = []
    group: list[str] = []
    group_enc: str | None = None

    def flush() -> None:
        if group:
            joined = "".join(group)
            if group_enc is None:
                parts.append(nfc(joined))
            elif group_enc == "symbol":
                parts.append(symbol_text(joined))
            else:
                parts.append(_decode_guarded(joined, group_enc))
            group.clear()

    for text, font in runs:
        enc = font_kind(font)
        if enc != group_enc:
            flush()
            group_enc = enc
        group.append(text)
    flush()
    # A bullet glued to the next word ("•các", the bullet run had no tab after it) gets a space.
    for i in range(1, len(parts)):
        if parts[i - 1].endswith("\u2022") and parts[i][:1].isalnum():
            parts[i - 1] += " "
    return nfc("".join(parts))


# ----------------------------------------------------------------------------------------------
# Is this a Vietnamese syllable? (the evidence for detect_legacy and the run guard)
# ----------------------------------------------------------------------------------------------

_ONSETS = ("ngh ng gh gi kh nh ph th tr ch qu b c d đ g h k l m n p r s t v x").split()
_RHYMES = frozenset("""
a ai ao au ay ac ach am an ang anh ap at
ă ăc ăm ăn ăng ăp ăt
â âu ây âc âm ân âng âp ât
e eo ec em en eng ep et
ê êu êch êm ên ênh êp êt
i ia iu ich im in inh ip it
iê iêu iêc iêm iên iêng iêp iêt
yê yêu yêm yên yêng yêt
o oi oc om on ong op ot oong ooc
oa oai oay oao oac oach oam oan oang oanh oap oat
oă oăc oăm oăn oăng oăt
oe oeo oen oet oem oeng
ô ôi ôc ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua ui uc um un ung up ut
uâ uân uâng uât uây
uê uêch uênh uên
uô uôi uôc uôm uôn uông uôt
uơ
uy uya uyu uych uyn uynh uyp uyt uyên uyêt
ư ưa ưi ưu ưc ưm ưn ưng ưt
ươ ươi ươu ươc ươm ươn ương ươp ươt
y
""".split())
_STOP_CODAS = ("c", "ch", "p", "t")
_SYLLABLE_ALPHABET = frozenset("abcdeghiklmnopqrstuvxyđăâêôơư")


@lru_cache(maxsize=65536)
def _is_syllable(word: str) -> bool:
    """True when a lower-case NFC word is a well-formed Vietnamese syllable."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONE_SET]
    if len(tones) > 1:
        return False
    base = nfc("".join(c for c in decomposed if c not in _TONE_SET))
    if not base or any(c not in _SYLLABLE_ALPHABET for c in base):
        return False
    for onset in [""] + _ONSETS:
        if base.startswith(onset):
            rhyme = base[len(onset):]
            if rhyme in _RHYMES:
                if rhyme.endswith(_STOP_CODAS) and tones[:1] not in (["\u0301"], ["\u0323"]):
                    continue  # a syllable ending in c, ch, p, t takes sắc or nặng
                return True
    return False


# Edge characters to drop from a token: ASCII punctuation, digits, typographic quotes and dashes.
# Not the Latin-1 symbols, which are letters in TCVN3 ("x·" is xã, "®i" is đi).
_EDGE_CHARS = string.punctuation + string.digits + (
    "\u201c\u201d\u2018\u2019\u201e\u2026\u2013\u2014")


@lru_cache(maxsize=65536)  # the same tokens come back in every run and paragraph (51,910 calls for 9 TCVN3 reports)
def _word_validity(word: str) -> bool | None:
    """Is one whitespace-separated token a Vietnamese syllable? None when it has no letters.

    Legacy code characters that are not letters (µ is, but ¸ · ¶ ¹ § are not) are kept inside
    the token: only edge punctuation is stripped.
    """
    core = word.casefold().strip(_EDGE_CHARS) if word else ""
    if not core:
        return None
    return _is_syllable(nfc(core))


def _changed_word_validity(original: str, decoded: str) -> tuple[int, int]:
    """Among the tokens a decoding changed: how many were syllables before, and after."""
    before = after = 0
    for old, new in zip(original.split(), decoded.split()):
        if old == new:
            continue
        before += bool(_word_validity(old))
        after += bool(_word_validity(new))
    return before, after


def legacy_readings(token: str, encodings: Sequence[str] = ("tcvn3", "vni", "viscii")) -> tuple[str, ...]:
    """The encodings, among `encodings`, under which one token is a legacy word: it is not a
    Vietnamese syllable as it stands and becomes one decoded ("caùc": VNI only; "thoâng": VNI
    thông and TCVN3 "thoõng" alike, which only its neighbours can settle)."""
    if all(ord(c) < 0x80 for c in token) or _word_validity(token) is not False:
        return ()
    if _has_unicode_evidence(token):
        return ()
    return tuple(enc for enc in encodings
                 if (decoded := decode_legacy(token, enc)) != token and _word_validity(decoded))


_DETECT_CANDIDATES = ("tcvn3", "vni", "viscii")
_DETECT_SAMPLE = 20_000  # characters; enough to decide, bounded for huge PDFs
_DETECT_MIN_WORDS = 3
_DETECT_MIN_VALID = 0.6
_DETECT_MIN_GAIN = 0.3


def detect_legacy(s: str) -> str | None:
    """Which legacy encoding ("tcvn3", "vni", "viscii") text without font information is in,
    when it is clearly legacy-encoded Vietnamese; else None.

    Each table is tried; it wins when the words it changes turn from non-Vietnamese into
    Vietnamese syllables: at least 3 changed words, >= 60% of them syllables after decoding,
    and a gain of >= 30 points over before. Unicode Vietnamese loses syllables under every
    table, and English or French words do not become Vietnamese syllables, so neither fires.
    A document that mixes encodings is best passed block by block (each needs 3 changed words).
    """
    sample = nfc(s[:_DETECT_SAMPLE])
    if all(ord(c) < 0x80 for c in sample):
        return None
    best: tuple[float, str] | None = None
    for encoding in _DETECT_CANDIDATES:
        decoded = decode_legacy(sample, encoding)
        changed = sum(1 for a, b in zip(sample.split(), decoded.split())
                      if a != b and _word_validity(b) is not None)
        if changed < _DETECT_MIN_WORDS:
            continue
        before, after = _changed_word_validity(sample, decoded)
        gain = (after - before) / changed
        if after / changed >= _DETECT_MIN_VALID and gain >= _DETECT_MIN_GAIN:
            if best is None or gain > best[0]:
                best = (gain, encoding)
    return best[1] if best else None


# ----------------------------------------------------------------------------------------------
# Matching keys
# ----------------------------------------------------------------------------------------------

_VOWEL_SET = frozenset("aăâeêioôơuưy")
_DASHES = re.compile(r"\s*[\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]\s*")
_WORD_RUN = re.compile(r"[^\W\d_]+")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")


@lru_cache(maxsize=65536)  # words repeat: a document has a few thousand distinct ones
def _canonical_syllable(word: str) -> str:
    """One canonical spelling of a lower-case syllable: the tone mark on the vowel the modern
    rule picks (hoà, thuỷ, khoẻ, quả; a misplaced "qủa" too) and y for i after "qu" ("quí" ->
    "quý") but i for a lone y after any other consonant ("mỹ" -> "mĩ", "lý" -> "lí").
    Words that are not one syllable are returned unchanged."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONE_SET]
    if len(tones) > 1:
        return word
    base = nfc("".join(c for c in decomposed if c not in _TONE_SET))
    first = next((i for i, c in enumerate(base) if c in _VOWEL_SET), None)
    if first is None:
        return word
    end = first
    while end < len(base) and base[end] in _VOWEL_SET:
        end += 1
    if any(c in _VOWEL_SET for c in base[end:]):
        return word  # two vowel groups: not a single syllable
    start = first
    if first == 1 and end - first > 1 and base[:2] in ("qu", "gi"):
        start = 2  # the u of "qu" and the i of "gi" belong to the onset
    onset, nucleus, coda = base[:start], base[start:end], base[end:]
    if onset == "qu" and nucleus == "i":
        nucleus = "y"
    elif onset and onset not in ("qu", "gi") and nucleus == "y" and not coda:
        nucleus = "i"
    if not tones:
        return onset + nucleus + coda
    marked = [k for k, c in enumerate(nucleus) if c in "ăâêôơư"]
    if marked:
        k = marked[-1]
    elif len(nucleus) == 1:
        k = 0
    elif len(nucleus) == 2:
        k = 1 if coda or nucleus in ("oa", "oe", "uy") else 0
    elif len(nucleus) == 3:
        k = 1
    else:
        return word
    pos = len(onset) + k + 1
    spelled = onset + nucleus + coda
    return nfc(spelled[:pos] + tones[0] + spelled[pos:])


def _strip_edges(s: str) -> str:
    def keep(c: str) -> bool:
        return unicodedata.category(c)[0] not in "PSZC"

    start, end = 0, len(s)
    while start < end and not keep(s[start]):
        start += 1
    while end > start and not keep(s[end - 1]):
        end -= 1
    return s[start:end]


@functools.lru_cache(maxsize=16384)  # pure, and the same names and headings come back in every document
def fold_key(s: str) -> str:
    """Matching key: two legal spellings of one name give the same key, different words don't.

    NFKC + case folding; invisible characters dropped; whitespace collapsed; every dash made
    "-" with no spaces around it; punctuation and symbols stripped at both ends; "Ð"/"ð" read as
    "đ"; each syllable spelled canonically (tone placement "hòa"/"hoà", "thủy"/"thuỷ",
    "khỏe"/"khoẻ"; "Quí"/"Quý"; "Mỹ"/"Mĩ"). For comparison only, never for display.
    """
    if not s:
        return ""
    key = _INVISIBLE.sub("", s)
    for _ in range(3):  # NFKC and casefold feed each other on a few exotic characters
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", key).casefold())
        if folded == key:
            break
        key = folded
    key = key.replace("ð", "đ")
    key = "".join(c for c in key if c.isspace() or unicodedata.category(c) != "Cc")
    key = " ".join(key.split())
    key = _DASHES.sub("-", key)
    key = _WORD_RUN.sub(lambda m: _canonical_syllable(m.group()), key)
    return _strip_edges(key)


@functools.lru_cache(maxsize=16384)
def ascii_key(s: str) -> str:
    """fold_key without any diacritics (đ -> d), ASCII only: the fallback key."""
    key = unicodedata.normalize("NFKD", fold_key(s).replace("đ", "d"))
    # Fold again: a dropped mark can expose edge punctuation or a y/i spelling ("bÿ" -> "by").
    return fold_key("".join(c for c in key if ord(c) < 0x80))


# ----------------------------------------------------------------------------------------------
# File names
# ----------------------------------------------------------------------------------------------

_MAX_NAME_CHARS = 150
_MAX_NAME_BYTES = 240  # UTF-8; file systems stop at 255, and Vietnamese letters take 3 bytes
_RESERVED = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def _fit(stem: str, ext: str) -> str:
    stem = stem[: max(1, _MAX_NAME_CHARS - len(ext))]
    while stem and len((stem + ext).encode("utf-8")) > _MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(" .") or "tep-dinh-kem") + ext


def _clean_name(text: str) -> str:
    text = "".join(c for c in nfc(text) if c == "\t" or unicodedata.category(c)[0] != "C")
    text = text.replace("\t", " ").replace("\\", "/").split("/")[-1]
    return _RESERVED.sub("_", " ".join(text.split())).strip(" ")


def safe_filename(name: str | None, default: str = "tep-dinh-kem") -> str:
    """An attachment's name made safe to store and show: NFC, last path component only (no
    "/", "\\", no "..", no leading dots), no control or invisible formatting characters,
    Windows-reserved characters <>:"|?* replaced by "_", trimmed, at most 150 characters and 240
    UTF-8 bytes with the extension kept. Never empty: falls back to `default`."""
    fallback = _clean_name(default or "").strip(" .") or "tep-dinh-kem"
    text = _clean_name(name or "")
    only_ext = re.fullmatch(r"\.+([^.\s]{1,16})", text)  # ".docx": keep the type, name it
    if only_ext:
        return _fit(fallback, "." + only_ext.group(1))
    text = text.strip(" .")
    if not text:
        return _fit(fallback, "")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem.strip(" .") or len(ext) > 16 or " " in ext:
        stem, ext = text, ""
    else:
        stem, ext = stem.strip(" ."), "." + ext
    if _WINDOWS_DEVICES.match(stem):
        stem = "_" + stem
    return _fit(stem, ext)
