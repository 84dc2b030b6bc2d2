"""Numbers as Vietnamese documents write them: "1.234" is one thousand two hundred thirty-four,
"1.234,5" has a decimal comma. Pure functions.

Reading rules of parse_number (in this order):
- Empty, "-", "x", "—", words, anything with letters -> None.
- A number in parentheses, "(3)", -> None: in report tables it is a column number ("(1)",
  "(2)" under the headers), not an accounting negative.
- An optional sign (+, -, U+2212 minus, en dash) before the digits; an optional "%" after them
  ("100%" -> 100; the caller knows the column is a percentage).
- Spaces (also no-break and thin spaces) between groups of three digits are thousands
  separators: "2 345" -> 2345.
- Both "." and ",": the one that comes last is the decimal separator, the other groups
  thousands in threes: "1.234,5" -> 1234.5 (Vietnamese), "1,234.5" -> 1234.5 (English).
- Only ",": one comma is the decimal comma ("12,5" -> 12.5, "1,234" -> 1.234); several commas
  must group thousands ("1,234,567" -> 1234567).
- Only ".": several dots must group thousands ("1.234.567"); one dot followed by exactly three
  digits, after a leading group of 1-3 digits that is not "0", is a thousands dot
  ("1.234" -> 1234, "12.500" -> 12500), otherwise it is a decimal point ("12.5" -> 12.5,
  "0.500" -> 0.5, "1.2345" -> 1.2345).
Malformed groupings ("1.23.4", "1,2,3") -> None.
"""
from __future__ import annotations

import math
import re

_SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
_SIGN = re.compile(r"^([+\-\u2212\u2013])\s*")

_EMPTY_MARKS = {"", "-", "--", "x", "X", "\u2014", "\u2013", "\u2212", "...", "…", "/"}


def _grouped(digits: str, sep: str) -> bool:
    """ "1.234", "12.345.678": a first group of 1-3 digits (not "0"), then groups of three."""
    return re.fullmatch(r"[1-9]\d{0,2}(?:" + re.escape(sep) + r"\d{3})+", digits) is not None


def _plain_or_grouped(part: str, sep: str) -> str | None:
    """The digits of an integer part written plain ("1234") or grouped by sep ("1.234")."""
    if re.fullmatch(r"\d+", part):
        return part
    if _grouped(part, sep):
        return part.replace(sep, "")
    return None


def parse_number(s: str | int | float | None) -> float | None:
    """A number written the Vietnamese way -> float, or None when it is not a number.

    See the module docstring for the rules. An int or float (an .xlsx cell value) is returned
    as a float; bool and NaN give None.
    """
    if s is None or isinstance(s, bool):
        return None
    if isinstance(s, (int, float)):
        return None if isinstance(s, float) and not math.isfinite(s) else float(s)
    text = s.strip()
    if text in _EMPTY_MARKS or text.startswith("(") or text.endswith(")"):
        return None
    negative = False
    match = _SIGN.match(text)
    if match:
        negative = match.group(1) != "+"
        text = text[match.end():]
    text = text.strip()
    if text.endswith("%"):
        text = text[:-1].rstrip()
    if not text or not re.fullmatch(r"[\d.,\s\u00a0\u2009\u202f]+", text) or not text[0].isdigit():
        return None
    if _SPACES.search(text):
        # "2 345", "1 234,5", "1 234.5": a first group of 1-3 digits, then groups of three;
        # the last group may carry the decimal part.
        head, *middle, last = _SPACES.split(text)
        m = re.fullmatch(r"(\d{3})(?:[.,](\d+))?", last)
        if not m or not re.fullmatch(r"[1-9]\d{0,2}", head) or any(
            not re.fullmatch(r"\d{3}", g) for g in middle
        ):
            return None
        return _finish(head + "".join(middle) + m.group(1), m.group(2) or "", negative)
    has_dot, has_comma = "." in text, "," in text
    if has_dot and has_comma:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands_sep = "." if decimal_sep == "," else ","
        int_part, _, frac = text.rpartition(decimal_sep)
        digits = _plain_or_grouped(int_part, thousands_sep)
        if digits is None or not re.fullmatch(r"\d+", frac):
            return None
        return _finish(digits, frac, negative)
    if has_comma:
        if text.count(",") == 1:
            int_part, _, frac = text.partition(",")
            if not re.fullmatch(r"\d+", int_part) or not re.fullmatch(r"\d+", frac):
                return None
            return _finish(int_part, frac, negative)
        return _finish(text.replace(",", ""), "", negative) if _grouped(text, ",") else None
    if has_dot:
        if text.count(".") > 1 or _grouped(text, "."):
            return _finish(text.replace(".", ""), "", negative) if _grouped(text, ".") else None
        int_part, _, frac = text.partition(".")
        if not re.fullmatch(r"\d+", int_part) or not re.fullmatch(r"\d+", frac):
            return None
        return _finish(int_part, frac, negative)
    return _finish(text, "", negative)


def _finish(int_digits: str, frac_digits: str, negative: bool) -> float | None:
    value = float(f"{int_digits}.{frac_digits}" if frac_digits else int_digits)
    if not math.isfinite(value):
        return None  # hundreds of digits: not a figure from a report
    return -value if negative and value else value


def format_number(x: float, decimals: int = 0) -> str:
    """Vietnamese format for output: thousands ".", decimal ",". 1234.5 -> "1.234,5" with
    decimals=1; 1234 -> "1.234". Rounds to `decimals` places; "-0" is written "0"."""
    if not math.isfinite(x):
        raise ValueError(f"cannot format {x!r} as a number")
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    text = f"{x:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
