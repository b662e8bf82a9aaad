"""Placeholder styles of the scripted residents that must hold whatever copy they play."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.model.sensitive import luhn_valid
from scripts.converse_eval.residents import PLACEHOLDER, _format


@given(st.text("0123456789", min_size=6, max_size=18))
def test_an_extra_digit_is_one_digit_more_and_never_a_card_number(number: str) -> None:
    typed = _format(number, "extradigit")

    assert typed[:-1] == number and typed[-1].isdigit()
    assert not luhn_valid(typed)


def test_the_style_is_read_in_a_scenario_placeholder() -> None:
    match = PLACEHOLDER.fullmatch("{account:BESL|extradigit}")
    assert match and match.group(3) == "extradigit"
