"""Which utility a resident means: "bijli", "पानी", "gas"…"""

from __future__ import annotations

import pytest

from bot.model.billing import Utility, parse_utility


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("electricity bill", Utility.ELECTRICITY),
        ("mera light ka bill", Utility.ELECTRICITY),
        ("बिजली", Utility.ELECTRICITY),
        ("पानी का बिल", Utility.WATER),
        ("water bill kitna hai", Utility.WATER),
        ("PNG gas", Utility.GAS),
        ("bijli aur pani", None),
        ("mera bill", None),
    ],
)
def test_parse_utility(text: str, expected: Utility | None) -> None:
    assert parse_utility(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bijli?", Utility.ELECTRICITY),
        ("pani.", Utility.WATER),
        ("पानी।", Utility.WATER),
        ("बि\u095bली", Utility.ELECTRICITY),  # ज़ typed as one code point
    ],
)
def test_parse_utility_ignores_punctuation_and_unicode_form(text: str, expected: Utility) -> None:
    assert parse_utility(text) is expected
