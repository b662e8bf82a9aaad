"""The check code on every receipt: only our key makes it, any change breaks it, and the
check answers "genuine" with the receipt's own facts or the same "not ours" for the rest."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.errors import ReceiptNotFound
from bot.model.keys import purpose_key
from bot.model.payments import PaymentStatus
from bot.model.receipt_checks import (
    CODE_LENGTH,
    CROCKFORD,
    check_code,
    code_matches,
    normalise_code,
)
from bot.ports import SsoHolder
from bot.services.payments import PaymentService
from bot.services.receipt_checks import ReceiptChecks
from tests.fakes import (
    JVVNL,
    FakeBillerDirectory,
    FakePaymentGateway,
    InMemoryDatabase,
    InMemoryUnitOfWorkFactory,
)
from tests.unit.conftest import PUBLIC_BASE_URL

KEY = b"unit-test-receipt-check-key-0001"
OLD_KEY = b"unit-test-receipt-check-key-0000"
K_NUMBER = "210145678912"

receipt_numbers = st.builds(
    lambda day, tail: f"RJB{day}{tail}",
    st.text("0123456789", min_size=6, max_size=6),
    st.text("0123456789ABCDEF", min_size=12, max_size=12),
)


# --- the code --------------------------------------------------------------------------------
def test_a_code_is_ten_characters_of_crockford_base32() -> None:
    code = check_code(KEY, "RJB261124A1B2C3D4E5F6")

    assert len(code) == CODE_LENGTH == 10
    assert set(code) <= set(CROCKFORD)
    assert not set(code) & set("ILOU")


@given(receipt_numbers, receipt_numbers)
def test_another_receipt_number_does_not_take_the_code(number: str, other: str) -> None:
    assume(number != other)

    assert not code_matches([KEY], other, check_code(KEY, number))


@given(receipt_numbers, st.integers(0, CODE_LENGTH - 1), st.sampled_from(CROCKFORD))
def test_any_changed_character_of_the_code_fails(number: str, at: int, char: str) -> None:
    code = check_code(KEY, number)
    assume(code[at] != char)
    changed = code[:at] + char + code[at + 1 :]

    assert code_matches([KEY], number, code)
    assert not code_matches([KEY], number, changed)


@given(receipt_numbers, st.binary(min_size=16, max_size=64))
def test_a_code_made_with_another_key_fails(number: str, other_key: bytes) -> None:
    assume(other_key != KEY)

    assert not code_matches([KEY], number, check_code(other_key, number))


@given(receipt_numbers, st.text(max_size=14))
def test_garbage_never_matches_and_never_raises(number: str, typed: str) -> None:
    assume(normalise_code(typed) != check_code(KEY, number))

    assert not code_matches([KEY], number, typed)


@given(receipt_numbers)
def test_a_code_copied_by_hand_still_matches(number: str) -> None:
    code = check_code(KEY, number)
    typed = f" {code[:5].lower()}-{code[5:]} ".replace("0", "O").replace("1", "l")

    assert code_matches([KEY], number.lower(), typed)


def test_codes_printed_before_a_key_rotation_still_match() -> None:
    number = "RJB261124A1B2C3D4E5F6"

    assert code_matches([KEY, OLD_KEY], number, check_code(OLD_KEY, number))
    assert not code_matches([KEY], number, check_code(OLD_KEY, number))


@pytest.mark.parametrize("typed", ["", "ABCDE", "ABCDE-FGHJK-M", "ABCDEFGHJU", "ABCDEFGHJ।"])
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    assert normalise_code(typed) is None


def test_purpose_keys_differ_by_purpose_and_secret() -> None:
    secret = b"s" * 32
    keys = {
        purpose_key(secret, "receipt-check"),
        purpose_key(secret, "bill-copy-links"),
        purpose_key(b"t" * 32, "receipt-check"),
    }
    assert len(keys) == 3 and all(len(k) == 32 for k in keys)


# --- the check -------------------------------------------------------------------------------
@pytest.fixture
def checks(uow: InMemoryUnitOfWorkFactory, billers: FakeBillerDirectory) -> ReceiptChecks:
    return ReceiptChecks(uow, billers, PUBLIC_BASE_URL, [KEY, OLD_KEY])


@pytest.fixture
async def paid_receipt(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    db: InMemoryDatabase,
    billers: FakeBillerDirectory,
    ramesh: SsoHolder,
) -> str:
    billers.add_bill(JVVNL, K_NUMBER, amount_paise=1_23_456)
    chat = await linked_chat(ramesh)
    payment, _ = await payments.request_link(chat, JVVNL.biller_id, K_NUMBER)
    created = next(c for c in gateway.links if c.request.reference_id == payment.payment_id)
    event = gateway.parse_webhook(*gateway.webhook("payment_link.paid", created))
    assert event is not None
    await payments.handle_event(event)
    number = db.payments[payment.payment_id].receipt_number
    assert number is not None
    return number


@pytest.mark.asyncio
async def test_the_right_code_shows_the_receipts_own_facts(
    checks: ReceiptChecks, paid_receipt: str
) -> None:
    code = checks.check_for(paid_receipt).code

    receipt = await checks.verify(paid_receipt, code)

    assert receipt is not None
    assert receipt.receipt_number == paid_receipt
    assert (receipt.biller_name, receipt.consumer_number_masked) == (JVVNL.name, "••••8912")
    assert receipt.total_paise == 1_23_456 + JVVNL.convenience_fee_paise


@pytest.mark.asyncio
async def test_a_wrong_code_and_an_unknown_number_get_the_same_none(
    checks: ReceiptChecks, paid_receipt: str, uow: InMemoryUnitOfWorkFactory
) -> None:
    unknown = "RJB010101ABCDEF012345"
    wrong = "0" * CODE_LENGTH

    opened = uow.opened
    assert await checks.verify(paid_receipt, wrong) is None
    assert uow.opened == opened  # a wrong code never reaches the database
    assert await checks.verify(unknown, checks.check_for(unknown).code) is None
    assert await checks.verify(unknown) is None


@pytest.mark.asyncio
async def test_the_receipt_number_alone_finds_the_receipt_we_issued(
    checks: ReceiptChecks, paid_receipt: str
) -> None:
    # CONTRACTS.md: GET /verify/<receipt number> is genuine for a receipt we issued.
    receipt = await checks.verify(paid_receipt.lower())
    assert receipt is not None and receipt.receipt_number == paid_receipt


@pytest.mark.asyncio
async def test_an_unpaid_payment_is_never_genuine(
    checks: ReceiptChecks, paid_receipt: str, db: InMemoryDatabase
) -> None:
    payment = next(p for p in db.payments.values() if p.receipt_number == paid_receipt)
    payment.status = PaymentStatus.FAILED

    assert await checks.verify(paid_receipt, checks.check_for(paid_receipt).code) is None


@pytest.mark.asyncio
async def test_the_printable_receipt_carries_its_check(
    checks: ReceiptChecks, paid_receipt: str
) -> None:
    receipt = await checks.printable(paid_receipt.lower())

    assert receipt.check is not None
    assert receipt.check.page_url == f"{PUBLIC_BASE_URL}/verify/{paid_receipt}"
    assert receipt.check.url == f"{receipt.check.page_url}?code={receipt.check.code}"
    assert receipt.check.display_code == f"{receipt.check.code[:5]}-{receipt.check.code[5:]}"
    assert await checks.verify(paid_receipt, receipt.check.display_code) is not None


@pytest.mark.asyncio
async def test_no_printable_receipt_for_a_number_we_never_issued(checks: ReceiptChecks) -> None:
    with pytest.raises(ReceiptNotFound):
        await checks.printable("RJB010101ABCDEF012345")


def test_checks_refuse_to_run_without_a_key(
    uow: InMemoryUnitOfWorkFactory, billers: FakeBillerDirectory
) -> None:
    with pytest.raises(ValueError):
        ReceiptChecks(uow, billers, PUBLIC_BASE_URL, [])
    with pytest.raises(ValueError):
        ReceiptChecks(uow, billers, PUBLIC_BASE_URL, [b""])


def test_alphabet_is_what_the_docstring_says() -> None:
    assert (
        "".join(c for c in string.digits + string.ascii_uppercase if c not in "ILOU") == CROCKFORD
    )
