"""Amounts are paise everywhere; shown to people as rupees with Indian digit grouping."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model.money import format_rupees

SHOWN = re.compile(r"^(-?)₹([0-9,]+)\.([0-9]{2})$")
# Indian grouping: the last three digits, then groups of two ("12,34,56,789").
INDIAN_GROUPS = re.compile(r"^([0-9]{1,3}|[0-9]{1,2}(,[0-9]{2})*,[0-9]{3})$")

amounts = st.integers(min_value=-(10**15), max_value=10**15)


@pytest.mark.parametrize(
    ("paise", "shown"),
    [
        (0, "₹0.00"),
        (5, "₹0.05"),
        (48_750, "₹487.50"),
        (1_00_000, "₹1,000.00"),
        (1_23_456_789, "₹12,34,567.89"),
        (10_00_00_000, "₹10,00,000.00"),
        (-2_50_000, "-₹2,500.00"),
    ],
)
def test_format_rupees_examples(paise: int, shown: str) -> None:
    assert format_rupees(paise) == shown


@given(amounts)
def test_reading_the_shown_digits_gives_back_the_paise(paise: int) -> None:
    match = SHOWN.match(format_rupees(paise))
    assert match is not None
    sign, rupees, fraction = match.groups()
    parsed = int(rupees.replace(",", "")) * 100 + int(fraction)
    assert (-parsed if sign else parsed) == paise


@given(amounts)
def test_rupees_are_grouped_the_indian_way(paise: int) -> None:
    match = SHOWN.match(format_rupees(paise))
    assert match is not None
    assert INDIAN_GROUPS.match(match.group(2))
