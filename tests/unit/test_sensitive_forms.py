"""The forms residents really type secrets in (issue 13, finding 3): any separator between a
number's groups (dots, slashes, no-break or double spaces, newlines), Devanagari digits and
words, "cvv#654", "pw: …", and mixtures of them; and the numbers that must pass untouched
(consumer numbers, mobiles, amounts, dates). A resident is told "it was not stored" only when
no part of the secret reached what is stored."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import messages
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Language
from bot.model.sensitive import MARKERS, Sensitive, luhn_valid, screen, verhoeff_valid
from bot.services.conversations import ConversationService
from bot.services.turns import TurnService
from tests.fakes import FakeClock, FakeDialogueEngine, InMemoryDatabase, InMemoryUnitOfWorkFactory

HINDI = str.maketrans("0123456789", "०१२३४५६७८९")
SEPARATORS = [" ", "  ", "-", ".", "/", "\n", "\u00a0", "\u202f", " - ", "\u200b", " / "]
separators = st.sampled_from(SEPARATORS)
scripts = st.sampled_from(["ascii", "devanagari"])
words = st.lists(
    st.sampled_from("pay my bill please card number mera kaarD hai कार्ड नंबर मेरा बिल है and".split()),
    max_size=4,
).map(" ".join)


def in_script(digits: str, script: str) -> str:
    return digits.translate(HINDI) if script == "devanagari" else digits


def grouped(digits: str, sizes: list[int], seps: list[str]) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    out = parts[0]
    for sep, part in zip(seps, parts[1:], strict=False):
        out += sep + part
    return out


def with_luhn_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def with_verhoeff_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if verhoeff_valid(body + d))


cards16 = st.text("0123456789", min_size=15, max_size=15).map(with_luhn_digit)
aadhaars = st.tuples(
    st.sampled_from("23456789"), st.text("0123456789", min_size=10, max_size=10)
).map(lambda parts: with_verhoeff_digit(parts[0] + parts[1]))


def digits_of(text: str) -> str:
    return "".join(
        c for c in text.translate(str.maketrans("०१२३४५६७८९", "0123456789")) if c.isdigit()
    )


@given(
    card=cards16,
    seps=st.lists(separators, min_size=3, max_size=3),
    script=scripts,
    before=words,
    after=words,
)
def test_a_card_number_with_any_separators_and_digits_never_survives(
    card: str, seps: list[str], script: str, before: str, after: str
) -> None:
    typed = in_script(grouped(card, [4, 4, 4, 4], seps), script)
    screened = screen(f"{before} {typed} {after}")
    assert card not in digits_of(screened.text)
    assert Sensitive.CARD in screened.found and screened.wholly_removed


@given(
    number=aadhaars,
    seps=st.lists(separators, min_size=2, max_size=2),
    script=scripts,
    word=st.sampled_from(["aadhaar", "Aadhar no.", "आधार", "आधार नंबर", "UID"]),
)
def test_an_aadhaar_number_with_any_separators_never_survives(
    number: str, seps: list[str], script: str, word: str
) -> None:
    typed = in_script(grouped(number, [4, 4, 4], seps), script)
    screened = screen(f"mera {word} {typed} hai")
    assert number not in digits_of(screened.text)
    assert Sensitive.AADHAAR in screened.found


@given(
    word=st.sampled_from(["cvv", "CVV2", "cvc", "सीवीवी", "security code"]),
    link=st.sampled_from([" ", "#", " #", " (", ": ", " no. ", " is ", " है ", "-", " = "]),
    value=st.text("0123456789", min_size=3, max_size=4),
    script=scripts,
)
def test_a_cvv_however_it_is_introduced_never_survives(
    word: str, link: str, value: str, script: str
) -> None:
    typed = in_script(value, script)
    closing = ")" if link.endswith("(") else ""
    screened = screen(f"card ok, {word}{link}{typed}{closing} thanks")
    assert typed not in screened.text
    assert Sensitive.CVV in screened.found


passwords = st.tuples(
    st.text("abcdefghijkLMNOPQRS", min_size=2, max_size=8),
    st.sampled_from(["@", "#", "!", "_", ""]),
    st.text("0123456789", min_size=1, max_size=4),
).map("".join)
PASSWORD_WORDS = ["password", "Password", "pw", "pwd", "passwd", "sso password", "पासवर्ड"]
PASSWORD_LINKS = [": ", " : ", ":", "=", " is ", " is: ", " was ", " - ", " है ", " "]


@given(
    word=st.sampled_from(PASSWORD_WORDS),
    link=st.sampled_from(PASSWORD_LINKS),
    value=passwords,
    lead=st.sampled_from(["", "my ", "mera ", "मेरा ", "help, my "]),
)
def test_a_password_however_it_is_introduced_never_survives(
    word: str, link: str, value: str, lead: str
) -> None:
    screened = screen(f"{lead}{word}{link}{value}")
    assert value not in screened.text
    assert Sensitive.PASSWORD in screened.found and screened.wholly_removed


@given(
    card=cards16,
    seps=st.lists(separators, min_size=3, max_size=3),
    cvv=st.text("0123456789", min_size=3, max_size=3),
    password=passwords,
    order=st.permutations([0, 1, 2]),
    script=scripts,
)
def test_mixtures_of_secrets_in_one_message_all_go(
    card: str, seps: list[str], cvv: str, password: str, order: list[int], script: str
) -> None:
    pieces = [
        f"card {in_script(grouped(card, [4, 4, 4, 4], seps), script)}",
        f"cvv#{in_script(cvv, script)}",
        f"pw: {password}",
    ]
    screened = screen(", ".join(pieces[i] for i in order) + ".")
    assert card not in digits_of(screened.text)
    assert password not in screened.text
    assert f"cvv#{in_script(cvv, script)}" not in screened.text
    assert screened.found == {Sensitive.CARD, Sensitive.CVV, Sensitive.PASSWORD}


# What must never be taken for a secret: it would break paying the bill.
consumer_numbers = st.text("0123456789", min_size=12, max_size=12)
mobiles = st.tuples(st.sampled_from("6789"), st.text("0123456789", min_size=9, max_size=9)).map(
    "".join
)


@given(
    number=consumer_numbers,
    seps=st.lists(separators, min_size=2, max_size=3),
    layout=st.sampled_from([[12], [4, 4, 4], [3, 3, 3, 3], [6, 6]]),
    mobile=mobiles,
    mobile_layout=st.sampled_from(["{m}", "+91{m}", "+91 {a} {b}", "{a}-{b}", "0{m}"]),
    paise=st.integers(0, 10_000_000),
    day=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    date_layout=st.sampled_from(["%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%y"]),
    script=scripts,
)
def test_consumer_numbers_mobiles_amounts_and_dates_pass_untouched(
    number: str,
    seps: list[str],
    layout: list[int],
    mobile: str,
    mobile_layout: str,
    paise: int,
    day: date,
    date_layout: str,
    script: str,
) -> None:
    consumer = in_script(grouped(number, layout, seps), script)
    phone = mobile_layout.format(m=mobile, a=mobile[:5], b=mobile[5:])
    amount = f"₹{paise // 100:,}.{paise % 100:02d}"
    for text in (
        consumer,
        f"K number {consumer}, mobile {phone}",
        f"pass the bill of {consumer} to {phone}",
        f"पिन कोड 302001, {consumer}",
        f"paid {amount} on {day.strftime(date_layout)} for {consumer}",
        f"मेरा कंज्यूमर नंबर {consumer} है, मोबाइल {phone}",
    ):
        screened = screen(text)
        assert screened.text == text and not screened.found


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("4111.1111.1111.1111", "4111.1111.1111.1111"),
        ("4111\u00a01111\u00a01111\u00a01111", "1111\u00a01111"),
        ("4111  1111  1111  1111", "1111  1111"),
        ("4111\n1111\n1111\n1111", "1111\n1111"),
        ("4111/1111/1111/1111", "1111/1111"),
        ("cvv#654", "654"),
        ("cvv (987)", "987"),
        ("aadhaar 2345.6789.0124", "6789"),
        ("pw: Jaipur@2024", "Jaipur@2024"),
        ("my sso password Ramesh@123", "Ramesh@123"),
        ("my password is: Secret99", "Secret99"),
        ("password: sunshine", "sunshine"),
        ("upi pin is 4321", "4321"),
        ("my atm pin 1234", "1234"),
        ("passcode 9876abc", "9876abc"),
        ("पिन है ४३२१", "४३२१"),
    ],
)
def test_the_forms_the_audit_found_are_caught(text: str, secret: str) -> None:
    screened = screen(text)
    assert secret not in screened.text and screened.found and screened.wholly_removed


def answer(text: str) -> tuple[str, str]:
    """(what the dialogue engine, and so Rasa's tracker, got; the warning the resident got)."""
    dialogue = FakeDialogueEngine()
    uow, clock = InMemoryUnitOfWorkFactory(InMemoryDatabase()), FakeClock()
    turns = TurnService(uow, clock, dialogue)

    async def turn() -> list[OutboundMessage]:
        conversation = await ConversationService(uow, clock).open(Channel.WEBCHAT, "web-secret")
        return await turns.handle(conversation, text)

    replies = asyncio.run(turn())
    stored = " ".join(passed for _, passed, _ in dialogue.turns)
    return stored, replies[0].text if replies else ""


NOT_STORED = messages.render("sensitive_warning", Language.EN)
MAYBE_KEPT = messages.render("sensitive_warning_partial", Language.EN)
NOT_STORED_ANY = {messages.render("sensitive_warning", lang) for lang in Language}
MAYBE_KEPT_ANY = {messages.render("sensitive_warning_partial", lang) for lang in Language}


def test_a_resident_is_told_not_stored_only_when_nothing_of_it_was() -> None:
    stored, warning = answer("my password is: Secret99")
    assert "Secret99" not in stored and warning == NOT_STORED

    stored, warning = answer("pw: correct horse battery staple")
    assert "correct" not in stored and warning == MAYBE_KEPT

    stored, warning = answer("card 4111 1111 1111 1111 123")  # a CVV typed without its name
    assert "4111" not in stored and warning == MAYBE_KEPT


@settings(deadline=None)  # a whole turn per example, on a shared machine
@given(
    word=st.sampled_from(PASSWORD_WORDS),
    link=st.sampled_from([": ", " is: ", "=", " : "]),
    secret_words=st.lists(passwords, min_size=1, max_size=3, unique=True).filter(
        lambda ws: not any(a in b for a in ws for b in ws if a != b)
    ),
    tail=st.sampled_from(["", ".", " and my bill", " hai", "\nwhat is my bill", " please help"]),
)
def test_not_stored_is_said_only_when_no_part_of_the_secret_was_stored(
    word: str, link: str, secret_words: list[str], tail: str
) -> None:
    stored, warning = answer(f"my {word}{link}{' '.join(secret_words)}{tail}")
    assert warning in NOT_STORED_ANY | MAYBE_KEPT_ANY
    if warning in NOT_STORED_ANY:
        assert not any(piece in stored for piece in secret_words)
    assert secret_words[0] not in stored
    assert MARKERS[Sensitive.PASSWORD] not in stored


any_password_word = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=10,
).filter(lambda word: any(char.isalnum() for char in word))


@settings(max_examples=500, deadline=None)
@given(
    word=st.sampled_from(PASSWORD_WORDS),
    link=st.sampled_from([": ", " is: ", "=", " : ", " - "]),
    secret=st.lists(any_password_word, min_size=1, max_size=3, unique=True),
    tail=st.sampled_from(["", ".", " and my bill", " hai", "\nwhat is my bill", "!", " कृपया"]),
)
def test_wholly_removed_means_no_word_of_the_password_is_left_in_any_script(
    word: str, link: str, secret: list[str], tail: str
) -> None:
    prefix = f"my {word}{link}"
    screened = screen(f"{prefix}{' '.join(secret)}{tail}")
    assert Sensitive.PASSWORD in screened.found
    if screened.wholly_removed:
        left = screened.without_markers.split()
        around = prefix.split() + tail.split()
        assert not [piece for piece in secret if piece in left and piece not in around]


NLU_DATA = Path(__file__).resolve().parents[2] / "nlu_data"
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))")


def nlu_examples() -> list[str]:
    """Every training example, annotations taken out: how residents really write."""
    examples = []
    for path in sorted(NLU_DATA.glob("*.yml")):
        for item in yaml.safe_load(path.read_text()).get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    examples.append(ANNOTATION.sub(r"\1", line.strip()[2:]))
    return examples


def test_no_training_example_is_taken_for_a_secret() -> None:
    # "पासवर्ड कैसे रीसेट करें": a Hindi word's vowel signs are not a password's symbols.
    examples = nlu_examples()
    assert len(examples) > 1000
    assert [text for text in examples if screen(text).found] == []
