"""Passwords, card numbers, CVVs and Aadhaar numbers are taken out of a message; consumer
numbers, OTPs, phone numbers and ordinary sentences are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.model.sensitive import MARKERS, Sensitive, luhn_valid, screen, verhoeff_valid

SEED = Path(__file__).resolve().parents[2] / "integrations" / "sandbox" / "seed.yml"
words = st.lists(
    st.sampled_from("pay my bill please the now for electricity bijli ka kitna hai".split()),
    max_size=5,
).map(" ".join)


def with_luhn_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def with_verhoeff_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if verhoeff_valid(body + d))


cards = st.integers(12, 18).flatmap(
    lambda n: st.text("0123456789", min_size=n, max_size=n).map(with_luhn_digit)
)
aadhaars = st.tuples(
    st.sampled_from("23456789"), st.text("0123456789", min_size=10, max_size=10)
).map(lambda parts: with_verhoeff_digit(parts[0] + parts[1]))


def spaced(number: str, size: int = 4) -> str:
    return " ".join(number[i : i + size] for i in range(0, len(number), size))


def test_the_check_digit_algorithms_match_known_numbers() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert verhoeff_valid("2363") and not verhoeff_valid("2364")  # Wikipedia's example


@given(before=words, card=cards, after=words, grouped=st.booleans())
def test_a_luhn_valid_card_number_never_survives(
    before: str, card: str, after: str, grouped: bool
) -> None:
    typed = spaced(card) if grouped and len(card) % 4 in (0, 1, 2, 3) else card
    screened = screen(f"{before} {typed} {after}")
    assert card not in screened.text.replace(" ", "")
    assert Sensitive.CARD in screened.found
    assert screened.without_markers == " ".join(f"{before} {after}".split())


@given(
    before=words,
    number=aadhaars,
    after=words,
    word=st.sampled_from(["aadhaar", "Aadhar no", "आधार", "UID"]),
)
def test_an_aadhaar_number_said_to_be_one_never_survives(
    before: str, number: str, after: str, word: str
) -> None:
    for typed in (number, spaced(number)):
        screened = screen(f"{before} {word} {typed} {after}")
        assert typed not in screened.text
        assert screened.found == {Sensitive.AADHAAR}


@given(number=aadhaars)
def test_a_12_digit_number_is_aadhaar_only_when_said_to_be(number: str) -> None:
    # One consumer number in ten passes Verhoeff: without the word it is a consumer number.
    assert screen(f"my consumer number is {number}").text.endswith(number)
    assert screen(spaced(number)).text == spaced(number)
    assert Sensitive.AADHAAR in screen(f"mera aadhar {number} hai").found


@given(text=st.text(max_size=80))
def test_screening_is_idempotent_and_keeps_what_it_found(text: str) -> None:
    once = screen(text)
    twice = screen(once.text)
    assert twice.text == once.text
    assert twice.found == once.found


def seed_numbers() -> list[str]:
    seed = yaml.safe_load(SEED.read_text())
    return [
        account["consumer_number"]
        for resident in seed["residents"]
        for account in resident["accounts"]
    ] + [resident["mobile"] for resident in seed["residents"]]


@pytest.mark.parametrize("number", seed_numbers())
def test_the_sandbox_consumer_numbers_and_mobiles_pass_untouched(number: str) -> None:
    typed_spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    for text in (number, typed_spaced, f"consumer number {number}", f"{number} ka bill"):
        assert screen(text) == screen(text) and screen(text).text == text
        assert not screen(text).found


@pytest.mark.parametrize(
    "text",
    [
        "123456",  # an OTP
        "my otp is 482913",
        "I forgot my password, how do I reset it?",
        "my password is not working",
        "password bhool gaya hai",
        "मेरा पासवर्ड भूल गया",
        "pay 1,245.50 for bill JV2611-4567891",
        "receipt RJB261124ABCDEF123456",
        "I want to pass the bill to my brother",
        "what is cvv",
    ],
)
def test_ordinary_messages_are_left_alone(text: str) -> None:
    assert screen(text).text == text and not screen(text).found


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("my password is Jaipur@2024", "Jaipur@2024", Sensitive.PASSWORD),
        ("password: sunshine", "sunshine", Sensitive.PASSWORD),
        ("pass = hunter2", "hunter2", Sensitive.PASSWORD),
        ("mera password ramu1985 hai", "ramu1985", Sensitive.PASSWORD),
        ("मेरा पासवर्ड है राम@123", "राम@123", Sensitive.PASSWORD),
        ("upi pin: 4321", "4321", Sensitive.PASSWORD),
        ("card 4111 1111 1111 1111 cvv 123", "123", Sensitive.CVV),
        ("CVV is 0456", "0456", Sensitive.CVV),
        ("सीवीवी ७८९", "७८९", Sensitive.CVV),
        ("amex 3782 822463 10005", "822463", Sensitive.CARD),
        ("card ४१११११११११११११११", "४१११११११११११११११", Sensitive.CARD),
    ],
)
def test_secrets_are_replaced_by_a_marker(text: str, secret: str, kind: Sensitive) -> None:
    screened = screen(text)
    assert secret not in screened.text
    assert MARKERS[kind] in screened.text and kind in screened.found
