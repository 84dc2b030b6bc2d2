"""parsers.numbers: reading and writing numbers the Vietnamese way."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.numbers import format_number, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234", 1234),
        ("1.234,5", 1234.5),
        ("12,5", 12.5),
        ("0,5", 0.5),
        ("1.234.567", 1234567),
        ("1.234.567,89", 1234567.89),
        ("100%", 100),
        ("12,5 %", 12.5),
        ("-3", -3),
        ("\u22123", -3),  # minus sign
        ("– 3", -3),  # en dash typed as a minus
        ("+7", 7),
        ("  2 345 ", 2345),
        ("1\u00a0234\u00a0567", 1234567),
        ("1 234,5", 1234.5),
        ("1,234.5", 1234.5),  # English, unambiguous: both separators, comma first
        ("1,234,567", 1234567),
        ("1,234", 1.234),  # one comma is the decimal comma
        ("12.5", 12.5),  # "." not followed by exactly three digits: decimal point
        ("12.500", 12500),  # followed by exactly three digits: thousands
        ("0.500", 0.5),  # a leading "0" group is never a thousands group
        ("1.2345", 1.2345),
        ("0", 0),
        ("007", 7),
        ("45", 45),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "-", "x", "X", "—", "–", "...", "(3)", "(1)", "abc", "1.234 người", "12a", "1.23.4",
     "1,2,3", "1..2", ",5", "1,", "1.", "--3", "3-", "1 23", "12 5", "Số 45", "IV", "½", "9" * 400],
)
def test_parse_number_rejects_non_numbers(text):
    assert parse_number(text) is None


def test_parse_number_passes_cell_values_through():
    assert parse_number(12) == 12.0 and isinstance(parse_number(12), float)
    assert parse_number(12.5) == 12.5
    assert parse_number(None) is None
    assert parse_number(True) is None
    assert parse_number(float("nan")) is None


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 1, "1.234,5"),
        (1234, 0, "1.234"),
        (1234567.891, 2, "1.234.567,89"),
        (0.5, 1, "0,5"),
        (-1234.5, 1, "-1.234,5"),
        (-0.01, 1, "0,0"),
        (12, 0, "12"),
        (999.96, 1, "1.000,0"),
    ],
)
def test_format_number(value, decimals, expected):
    assert format_number(value, decimals) == expected


def test_format_number_rejects_what_is_not_a_number():
    with pytest.raises(ValueError):
        format_number(math.inf)
    with pytest.raises(ValueError):
        format_number(math.nan)
    with pytest.raises(ValueError):
        format_number(1.0, -1)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-10**15, max_value=10**15))
def test_integers_round_trip(n):
    assert parse_number(format_number(n)) == n


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-10**14, max_value=10**14))
def test_one_decimal_values_round_trip(tenths):
    x = tenths / 10
    assert parse_number(format_number(x, 1)) == x
