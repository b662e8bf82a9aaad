"""What the NLU sees of a message: one encoding of each word, ASCII digits, numbers in one piece."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model.text import normalise_text, normalise_with_origins

TO_DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
ZWJ, ZWNJ = "\u200d", "\u200c"
# Devanagari letters, signs, nukta and digits, some Latin, joiners, spaces and separators.
typed_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0900, max_codepoint=0x097F),
        st.sampled_from("abcKz0123456789 -.,₹" + ZWJ + ZWNJ),
    ),
    max_size=40,
)
consumer_numbers = st.text(alphabet="0123456789", min_size=10, max_size=13)


@st.composite
def grouped(draw: st.DrawFn, number: str) -> str:
    """`number` split into 2 to 4 groups of 3 to 5 digits, as residents type it."""
    # Built to fit rather than filtered: filtering random sizes rejects most draws.
    length = len(number)
    count = draw(st.sampled_from([k for k in (2, 3, 4) if 3 * k <= length <= 5 * k]))
    sizes = [3] * count
    for _ in range(length - 3 * count):  # hand out the rest, at most 5 digits a group
        sizes[draw(st.sampled_from([i for i, size in enumerate(sizes) if size < 5]))] += 1
    groups, start = [], 0
    for size in sizes:
        groups.append(number[start : start + size])
        start += size
    separator = draw(st.sampled_from([" ", "-", " - "]))
    return separator.join(groups)


@given(typed_text)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@given(typed_text)
def test_output_is_nfc_without_joiners_or_devanagari_digits(text: str) -> None:
    out = normalise_text(text)
    assert unicodedata.is_normalized("NFC", out)
    assert ZWJ not in out and ZWNJ not in out
    assert not any("०" <= char <= "९" for char in out)


@given(typed_text)
def test_digits_are_converted_never_lost(text: str) -> None:
    # str.isdigit is true for Devanagari and ASCII digits alike.
    assert sum(c.isdigit() for c in normalise_text(text)) == sum(c.isdigit() for c in text)


@given(st.data(), consumer_numbers, st.sampled_from(["en", "hi", "hinglish"]))
def test_spacing_of_a_consumer_number_does_not_matter(
    data: st.DataObject, number: str, lang: str
) -> None:
    typed = data.draw(grouped(number))
    if lang == "hi":
        typed = typed.translate(TO_DEVANAGARI)
    template = {
        "en": "my K number is {}",
        "hi": "मेरा के नंबर {} है",
        "hinglish": "mera k number {} hai",
    }[lang]
    assert normalise_text(template.format(typed)) == normalise_text(template.format(number))


@given(typed_text)
def test_origins_point_back_into_the_original_in_order(text: str) -> None:
    normalised = normalise_with_origins(text)
    assert len(normalised.origins) == len(normalised.text)
    assert list(normalised.origins) == sorted(normalised.origins)
    assert all(0 <= origin < len(text) for origin in normalised.origins)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # U+0958 (precomposed क़) and क + nukta are the same letter; NFC keeps the decomposed
        # form because U+0958..U+095F are excluded from composition.
        ("\u0958िला", "\u0915\u093cिला"),
        ("\u0915\u093cिला", "\u0915\u093cिला"),
        ("क्" + ZWJ + "ष", "क्ष"),
        ("बिल" + ZWNJ + " भरो", "बिल भरो"),
        ("२१०१ ४५६७ ८९१२", "210145678912"),
        ("K no. 2101-4567-8912 hai", "K no. 210145678912 hai"),
        ("mobile 98290 12345", "mobile 9829012345"),
        ("otp १२३४५६", "otp 123456"),
        # An amount next to a date, a short number, or groups adding up to too many digits
        # are separate numbers and stay apart.
        ("1250 15 03 2024", "1250 15 03 2024"),
        ("Rs 500 on 15 march", "Rs 500 on 15 march"),
        ("123 456", "123 456"),
        ("12345 67890 12345 6789", "12345 67890 12345 6789"),
        ("Rs 1,250 2101", "Rs 1,250 2101"),
        ("hello", "hello"),
    ],
)
def test_examples(typed: str, expected: str) -> None:
    assert normalise_text(typed) == expected


def test_annotated_span_follows_its_number_when_the_groups_are_joined() -> None:
    text = "mera number 2101 4567 8912 hai"
    start, end = text.index("2101"), text.index(" hai")
    normalised = normalise_with_origins(text)
    span = normalised.text[normalised.position(start) : normalised.position(end)]
    assert span == "210145678912"
