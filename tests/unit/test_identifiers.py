"""Numbers and codes as residents type them: spaces, hyphens, Devanagari digits; masking."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model.identifiers import find_otp, mask, mask_name, normalise_number, normalise_sso_id

TO_DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
SEPARATORS = [" ", "-", "  ", " - ", "\t"]

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
alphanumeric = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20)


@st.composite
def with_separators(draw: st.DrawFn, text: str) -> str:
    """`text` with spaces and hyphens inserted anywhere, as residents type numbers."""
    out = []
    for char in text:
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(SEPARATORS)))
        out.append(char)
    if draw(st.booleans()):
        out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


# --- consumer numbers ------------------------------------------------------------------------
@given(st.data(), alphanumeric)
def test_spaces_and_hyphens_never_change_a_normalised_number(
    data: st.DataObject, number: str
) -> None:
    assert normalise_number(data.draw(with_separators(number))) == normalise_number(number)


@given(digits)
def test_devanagari_digits_never_change_a_normalised_number(number: str) -> None:
    assert normalise_number(number.translate(TO_DEVANAGARI)) == normalise_number(number) == number


@given(st.data(), digits)
def test_devanagari_digits_with_separators_give_the_ascii_digits(
    data: st.DataObject, number: str
) -> None:
    typed = data.draw(with_separators(number.translate(TO_DEVANAGARI)))

    assert normalise_number(typed) == number


@given(alphanumeric)
def test_letters_are_kept_in_upper_case(number: str) -> None:
    assert normalise_number(number.lower()) == number


# --- masking ---------------------------------------------------------------------------------
@given(st.text(alphabet=st.characters(exclude_characters="•"), max_size=40))
def test_mask_never_reveals_more_than_the_last_four_characters(identifier: str) -> None:
    shown = mask(identifier).replace("•", "")

    assert len(shown) <= 4
    assert identifier.endswith(shown)
    if len(identifier) <= 4:
        assert shown == ""


def test_mask_examples() -> None:
    assert mask("210145678912") == "••••8912"
    assert mask("+919812345678") == "••••5678"
    assert mask("1234") == "••••"
    assert mask_name("Ramesh Kumar") == "Ra*** Ku***"


# --- OTPs --------------------------------------------------------------------------------------
codes = st.text(alphabet="0123456789", min_size=6, max_size=6)
no_digits = st.text(alphabet=st.characters(exclude_categories=["Nd"]), max_size=30)


@given(codes, no_digits, no_digits)
def test_find_otp_finds_a_code_in_any_sentence_without_other_digits(
    code: str, before: str, after: str
) -> None:
    assert find_otp(f"{before}{code}{after}") == code


@given(st.data(), codes)
def test_find_otp_reads_devanagari_and_split_codes_as_ascii(data: st.DataObject, code: str) -> None:
    typed = data.draw(with_separators(code.translate(TO_DEVANAGARI)))

    assert find_otp(typed) == code


@given(
    st.text(alphabet=st.sampled_from("0123456789०१२३४५६७८९ -abcकोड:")).filter(
        lambda t: len(re.sub(r"\D", "", t)) != 6
    )
)
def test_find_otp_refuses_text_with_more_or_fewer_than_six_digits(text: str) -> None:
    assert find_otp(text) is None


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Nd"])
        | st.sampled_from("0123456789०१२३४५६७८९")
    )
)
def test_find_otp_answers_nothing_or_six_ascii_digits(text: str) -> None:
    found = find_otp(text)

    assert found is None or re.fullmatch(r"[0-9]{6}", found)


def test_find_otp_reads_other_indian_digits_as_ascii_or_not_at_all() -> None:
    assert find_otp("૧૨૩૪૫૬") in ("123456", None)


# --- SSO IDs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Ramesh.Kumar", "ramesh.kumar"),
        (" sunita1985 ", "sunita1985"),
        ("रमेश", None),
        ("abc", None),
        ("a" * 30, "a" * 30),
        ("a" * 31, None),
        ("ramesh_kumar", None),
    ],
)
def test_normalise_sso_id(typed: str, canonical: str | None) -> None:
    assert normalise_sso_id(typed) == canonical
