"""The identifiers a message names, in the forms erasure looks them up by (issue 13: a chat
that typed someone's SSO ID kept it after that person's erasure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.model.mentions import forms_of, identifiers_in

RESIDENT = forms_of("Ramesh.Kumar", "+919829100001", ["210145678912"])


def test_each_way_of_writing_an_identifier_is_found() -> None:
    for text in (
        "link my sso id ramesh.kumar",
        "RAMESH.KUMAR",
        "bill of 2101 4567 8912 please",
        "२१०१४५६७८९१२",
        "call me at +91 98291 00001",
        "my mobile 09829100001",
        "number: 9829100001.",
    ):
        assert identifiers_in(text) & RESIDENT, text


def test_ordinary_words_and_small_numbers_are_not_identifiers() -> None:
    assert identifiers_in("please pay my bill of 1245 rupees on 20/11") == frozenset()
    assert identifiers_in("what is my bill") == frozenset()


@given(
    digits=st.text("0123456789", min_size=10, max_size=10).filter(lambda d: d[0] in "6789"),
    separator=st.sampled_from(["", " ", "-", "."]),
    prefix=st.sampled_from(["", "+91", "+91 ", "0", "91"]),
    words=st.sampled_from(["{}", "my number is {}", "call {} now", "{}, thanks"]),
)
def test_a_mobile_is_found_however_it_is_typed(
    digits: str, separator: str, prefix: str, words: str
) -> None:
    typed = prefix + digits[:5] + separator + digits[5:]
    assert identifiers_in(words.format(typed)) & forms_of("x.y", "+91" + digits, [])


def test_an_email_address_named_in_any_case_is_found_for_erasure() -> None:
    resident = forms_of("ramesh.kumar", "+919829100001", [], ["Ramesh.K@gmail.com"])
    for text in ("ramesh.k@gmail.com", "mail my brother at RAMESH.K@GMAIL.COM please"):
        assert identifiers_in(text) & resident, text
    assert not identifiers_in("ramesh.k at gmail") & resident
