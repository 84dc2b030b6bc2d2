"""Typesetting the draft's texts for print: “Dân vận khéo”, not "Dân vận khéo". Pure.

Units type straight quotes, and so do the admins in config; a document for signature uses the
typographic pair. Only the double quote is changed: an apostrophe in a Vietnamese text is rare and
a single quote would too often be something else (a foot mark, a transliteration).
"""
from __future__ import annotations

import re

# A straight quote opens at the start or after a space or an opening bracket/dash; else it closes.
_OPENING = re.compile(r'(^|[\s(\[{\-–—/])"')


def curly_quotes(text: str) -> str:
    if '"' not in text:
        return text
    return _OPENING.sub(lambda m: m.group(1) + "“", text).replace('"', "”")


def typeset(value):
    """curly_quotes over every string of a JSON-like value (the model as the template reads it)."""
    if isinstance(value, str):
        return curly_quotes(value)
    if isinstance(value, list):
        return [typeset(v) for v in value]
    if isinstance(value, dict):
        return {k: typeset(v) for k, v in value.items()}
    return value
