"""Guessing Hindi or English from what a resident types."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model.language import detect_language
from bot.model.residents import Language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मेरा बिल", Language.HI),
        ("bill चाहिए", Language.HI),
        ("bijli ka bill kitna hai", Language.HI),
        ("Mera PANI ka bill batao", Language.HI),
        ("what is my bill", Language.EN),
        ("Pay my electricity bill please", Language.EN),
        ("123456", None),
        ("ok", None),
        ("", None),
    ],
)
def test_detect_language_examples(text: str, expected: Language | None) -> None:
    assert detect_language(text) is expected


@pytest.mark.parametrize("text", ["ramesh.kumar", "/payment_history", '/inform{"utility":"water"}'])
def test_ids_and_button_payloads_say_nothing_about_the_language(text: str) -> None:
    assert detect_language(text) is None


@given(st.text())
def test_detect_language_never_raises_and_answers_hi_en_or_nothing(text: str) -> None:
    assert detect_language(text) in (Language.HI, Language.EN, None)


@given(
    st.text(alphabet=st.characters(min_codepoint=0x0900, max_codepoint=0x097F), min_size=1),
    st.text(),
)
def test_any_devanagari_means_hindi(devanagari: str, rest: str) -> None:
    assert detect_language(rest + devanagari) is Language.HI
