"""Does a text layer read as garbage? A pure test on the text a PDF reader returned.

A PDF reader that follows the content stream's order instead of the glyphs' positions scrambles
every line whose letters come in two fonts (font fallback, stamps, signature overlays): the
second font's letters are drawn after the line and land at its end, "K t qu th c hi n công tác
dân v n năm 2024ế ả ự ệ ậ". Other broken layers split words into letters ("B Á O C Á O") or put
the tone marks beside their letters ("Vie ̣t"). Vietnamese text never looks like that: every
syllable has a vowel, the letters of the Vietnamese block (ạ..ỹ) sit inside syllables, and a
combining mark follows its letter. So the test counts the words that break those rules.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# At least this many words before a verdict: a stamp or a page number says nothing.
MIN_WORDS = 12
# Share of broken words from which a text is garbage. Real administrative text scores 0-2%
# (units like "km", list letters "a)"); the scrambled layers of issue 11 score 25-45%.
MAX_BROKEN_SHARE = 0.12
# Share of one-letter words from which a text is letters spaced apart ("B Á O C Á O"): list
# items ("a)", "A.") and "ở", "ý" stay far below.
MAX_SINGLE_SHARE = 0.4

# One-letter Vietnamese words, and the units and abbreviations written without a vowel.
_ONE_LETTER_WORDS = frozenset("à ạ á ả ở ờ ơ ý ừ ồ ô ố ế ê e o".split())
_VOWELLESS_WORDS = frozenset("đ km kg cm mm m g l kw kwh mw".split())
_EDGE_PUNCT = "()[]{}\"'“”‘’«».,;:!?…-–—*•/\\%"
_LIST_ITEM = re.compile(r"[(]?[a-zđA-ZĐ][).]")
_VIET_BLOCK = re.compile(r"[\u1ea0-\u1ef9]")  # ạ ả ấ ... ỹ: letters only Vietnamese uses


@dataclass(frozen=True)
class Garbage:
    words: int  # words counted
    broken: int  # of which broken (detached letters, stray marks, vowelless fragments)
    single: int = 0  # of which one letter long

    @property
    def share(self) -> float:
        return self.broken / self.words if self.words else 0.0

    @property
    def is_garbage(self) -> bool:
        return self.words >= MIN_WORDS and (self.share >= MAX_BROKEN_SHARE
                                             or self.single >= MAX_SINGLE_SHARE * self.words)


def _base_letters(word: str) -> str:
    """The letters of a word without their marks, lower case (ế -> e, ư -> u, đ -> d)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))
    return bare.lower().replace("đ", "d")


def _broken(token: str) -> bool | None:
    """Is this whitespace-separated token (NFC) a broken word? None when it is not a word at all
    (numbers, codes like 45/BC-UBND, "V/v", "m2": anything with a non-letter inside).
    Cheap tests first: a page holds hundreds of ordinary words."""
    first, last = token[0], token[-1]
    if unicodedata.combining(first) or unicodedata.category(first) == "Sk":
        return True  # a tone mark standing alone or starting a word: "Vie ̣t"
    if len(token) > 2 and "\u1ea1" <= last <= "\u1ef9" and last.islower() \
            and all(ch.isdigit() or ch.isupper() for ch in token[-3:-1]):
        # "2024ế", "UBNDố": a small letter of the block glued after a number or two capitals,
        # pushed there from its own word ("Tự", "CHỦ" are words as they are).
        return True
    if len(token) <= 3 and _LIST_ITEM.fullmatch(token):
        return None  # "b)", "c.": list items, not words
    word = token.strip(_EDGE_PUNCT)
    if not word.isalpha():
        return None
    if len(word) > 4:
        return False  # fragments are short; long words always keep a vowel
    lower = word.lower()
    if len(word) == 1:
        if lower in _ONE_LETTER_WORDS or lower in _VOWELLESS_WORDS:
            return False
        # A lone Vietnamese-block letter is a letter cut off its syllable; a lone lower-case
        # consonant ("t", "n") is what is left of one. A lone capital is a list item ("A.").
        return bool(_VIET_BLOCK.match(lower)) or (word.islower() and not _has_vowel(word))
    if word.islower() and not _has_vowel(word) and lower not in _VOWELLESS_WORDS:
        return True  # "th", "ch", "ng": syllables that lost their vowels
    return False


def _has_vowel(word: str) -> bool:
    return any(ch in "aeiouy" for ch in _base_letters(word))


def measure(text: str) -> Garbage:
    """Count the words of text and how many of them are broken (see the module docstring)."""
    words = broken = single = 0
    for token in unicodedata.normalize("NFC", text).split():
        verdict, one_letter = _token_verdict(token)
        if verdict is None:
            continue
        words += 1
        broken += verdict
        single += one_letter
    return Garbage(words, broken, single)


@functools.lru_cache(maxsize=65536)  # words repeat ("của", "và", "năm"): is_garbage was 17% of a PDF read (cProfile)
def _token_verdict(token: str) -> tuple[bool | None, bool]:
    """(_broken(token), is it one letter long once edge punctuation is stripped)."""
    return _broken(token), len(token.strip(_EDGE_PUNCT)) == 1


def is_garbage(text: str) -> bool:
    """Does this text layer read as garbage (module docstring)? False for short texts."""
    return measure(text).is_garbage
