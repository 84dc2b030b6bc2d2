"""Plain text files, and what every reader without font names needs: lines, byte decoding, and
fix_legacy() for legacy Vietnamese text (TCVN3, VNI, VISCII) where no font says which.

Where a font name is known (RTF font table, HTML face, font-family or CSS class, .docx runs) runs
are decoded by parsers.text.decode_runs; where it is not (plain text, PDF text layers, Word binary,
ODF), fix_legacy() decodes the words that detect_legacy confirms.
"""
from __future__ import annotations

import re

from parsers.docx_reader import Blocks
from parsers.model import Limits
from parsers.text import (
    VIETNAMESE_LETTERS,
    decode_legacy,
    detect_legacy,
    legacy_readings,
    nfc,
)

# cp1252 where defined, Latin-1 for its five holes: legacy 8-bit text keeps every byte.
CP1252_VIEW = "".join(
    (bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)) for b in range(256)
)
_CP1258_MARK_BYTES = re.compile(rb"[A-Za-z\xc2\xca\xd4\xe2\xea\xf4\xc3\xe3][\xcc\xec\xd2\xde\xf2]")


def lines_of(text: str) -> list[str]:
    return [line for line in (nfc(raw).strip() for raw in text.splitlines()) if line]


_UNICODE_ONLY = frozenset(c for c in VIETNAMESE_LETTERS if ord(c) > 0xFF)


def _unicode_token(token: str) -> bool:
    """Does this token certainly hold Unicode (a letter or mark no legacy byte can give)?"""
    return any(c in _UNICODE_ONLY or "\u0300" <= c <= "\u036f" for c in token)


_FIX_CANDIDATES = ("tcvn3", "vni", "viscii")


def fix_legacy(text: str) -> str:
    """Decode legacy-encoded words in text that carries no font information (PDF text layers,
    plain text, Word binary text, ODF without styles).

    Documents often mix both: a title typed in .VnTime above a Unicode body, and a .doc can mix
    VNI and TCVN3 runs (pasted from two offices). So the main encoding is detected on the whole
    text, or failing that on the lines with no Unicode-only letter; then each word is decoded on
    its own, by the main encoding when that makes it a Vietnamese syllable it was not before,
    else by another one that does ("caùc" is VNI các, not TCVN3 "caực"); a Unicode "tháng"
    stays, TCVN3 "Céng" becomes "Cộng".
    """
    if not text or all(ord(c) < 0x80 for c in text[:200_000]):
        return text
    encoding = detect_legacy(text)
    if encoding is None:
        candidates = "\n".join(line for line in text.splitlines() if not _unicode_token(line))
        encoding = detect_legacy(candidates) if candidates.strip() else None
    if encoding is None:
        return text
    # TCVN3 and VNI are what offices mix; VISCII only when it is the document's own (its codes
    # make too many chance syllables of VNI words: "vaø" would read "vaụ").
    order = (encoding,) + tuple(e for e in _FIX_CANDIDATES if e != encoding and e != "viscii")
    readings: dict[str, tuple[str, ...]] = {}
    out = []
    for line in text.split("\n"):
        tokens = re.split(r"(\s+)", line)
        words = tokens[::2]
        hits = []
        for word in words:
            if word not in readings:
                readings[word] = legacy_readings(word, order)
            hits.append(readings[word])
        if not any(hits):
            out.append(line)
            continue
        # A line with no Unicode-only letter was typed in legacy fonts: once one of its words is
        # surely legacy, so are the ones the syllable check cannot decide ("Céng" is a possible
        # spelling, "hoµ" is not).
        whole = not any(_unicode_token(w) for w in words)
        for i, word in enumerate(words):
            if hits[i] or (whole and not _unicode_token(word) and not word.isascii()):
                tokens[2 * i] = decode_legacy(word, _pick_encoding(hits, i, order))
        out.append("".join(tokens))
    return "\n".join(out)


def _pick_encoding(hits: list[tuple[str, ...]], i: int, order: tuple[str, ...]) -> str:
    """The encoding for word i of a line: its only reading; else the one of the nearest word
    that has only one reading (a run of VNI or TCVN3 words was typed in one font), if it is
    one of word i's; else the first of its readings in the document's order."""
    own = hits[i] or order
    if len(own) == 1:
        return own[0]
    for distance in range(1, len(hits)):
        for j in (i - distance, i + distance):
            if 0 <= j < len(hits) and len(hits[j]) == 1 and hits[j][0] in own:
                return hits[j][0]
    return next(e for e in order if e in own)


# -- bytes -> text --------------------------------------------------------------------------
def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Best-effort decoding: BOM, declared charset, UTF-8, then 8-bit (cp1258 or cp1252).

    8-bit text that is not Windows-1258 is decoded byte-for-byte through cp1252, which is how
    TCVN3/VNI text looks in a Western code page, so detect_legacy can recognise it afterwards.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    if declared:
        enc = declared.strip().lower()
        if enc not in ("utf-8", "utf8"):
            try:
                return data.decode(enc)
            except (LookupError, UnicodeDecodeError):
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:
            return data.decode("utf-8", "replace")
    if len(_CP1258_MARK_BYTES.findall(data[:200_000])) >= 3:
        candidate = data.decode("cp1258", "replace")
        if detect_legacy(data.decode("latin-1")) is None:
            return nfc(candidate)
    return "".join(CP1252_VIEW[b] for b in data)


def read_txt(data: bytes, limits: Limits = Limits()) -> Blocks:
    text = decode_bytes(data[: limits.max_text_chars * 4])
    return Blocks(lines=lines_of(fix_legacy(text)))
