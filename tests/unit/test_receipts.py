"""Finding a past receipt, and the signed, expiring link that downloads it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import NotLinked, ReceiptNotFound
from bot.ports import SsoHolder
from bot.services.payments import PaymentService
from bot.services.receipts import ReceiptLinks
from tests.fakes import (
    JVVNL,
    PHED,
    FakeBillerDirectory,
    FakeClock,
    FakePaymentGateway,
    InMemoryDatabase,
)

pytestmark = pytest.mark.asyncio

CID = "120034567890"
K_NUMBER = "210145678912"
OTHER_K_NUMBER = "210100001111"


@pytest.fixture
def pay(payments: PaymentService, gateway: FakePaymentGateway, db: InMemoryDatabase):
    """Pay a bill through its link and the gateway's webhook; the receipt number."""

    async def pay(chat: str, biller_id: str, number: str) -> str:
        payment, _ = await payments.request_link(chat, biller_id, number)
        created = next(c for c in gateway.links if c.request.reference_id == payment.payment_id)
        event = gateway.parse_webhook(*gateway.webhook("payment_link.paid", created))
        assert event is not None
        await payments.handle_event(event)
        receipt_number = db.payments[payment.payment_id].receipt_number
        assert receipt_number is not None
        return receipt_number

    return pay


def link_parts(url: str) -> tuple[str, str, int, str]:
    """(receipt number, language, expires, signature) as the download route reads them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    receipt_number = parts.path.rsplit("/", 1)[-1].removesuffix(".pdf")
    return receipt_number, query["lang"][0], int(query["expires"][0]), query["sig"][0]


@pytest.fixture
def two_bills(billers: FakeBillerDirectory) -> None:
    billers.add_bill(PHED, CID, amount_paise=48_250)
    billers.add_bill(JVVNL, K_NUMBER, amount_paise=1_23_456)
    billers.add_bill(JVVNL, OTHER_K_NUMBER, amount_paise=7_700)


async def test_receipt_without_a_number_is_the_latest_paid_one(
    linked_chat,
    pay,
    payments: PaymentService,
    two_bills,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    await pay(chat, PHED.biller_id, CID)
    clock.advance(timedelta(hours=1))
    electricity = await pay(chat, JVVNL.biller_id, K_NUMBER)
    clock.advance(timedelta(minutes=1))
    await payments.request_link(chat, JVVNL.biller_id, OTHER_K_NUMBER)  # newer, not paid

    receipt, _ = await payments.receipt(chat)

    assert receipt.receipt_number == electricity
    assert (receipt.biller_name, receipt.consumer_number_masked, receipt.total_paise) == (
        JVVNL.name,
        "••••8912",
        1_23_456,
    )


async def test_receipt_by_number_ignores_case_and_spaces(
    linked_chat,
    pay,
    payments: PaymentService,
    two_bills,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    water = await pay(chat, PHED.biller_id, CID)
    clock.advance(timedelta(hours=1))
    await pay(chat, JVVNL.biller_id, K_NUMBER)

    receipt, _ = await payments.receipt(chat, f" {water.lower()} ")

    assert receipt.receipt_number == water
    assert receipt.total_paise == 48_250 + PHED.convenience_fee_paise


async def test_receipt_of_the_same_resident_is_found_from_another_chat(
    linked_chat,
    pay,
    payments: PaymentService,
    two_bills,
    ramesh: SsoHolder,
) -> None:
    number = await pay(await linked_chat(ramesh), PHED.biller_id, CID)

    receipt, _ = await payments.receipt(await linked_chat(ramesh), number)

    assert receipt.receipt_number == number


async def test_another_residents_receipt_number_is_not_found(
    linked_chat,
    pay,
    payments: PaymentService,
    two_bills,
    ramesh: SsoHolder,
    sunita: SsoHolder,
) -> None:
    rameshs = await pay(await linked_chat(ramesh), PHED.biller_id, CID)

    with pytest.raises(ReceiptNotFound):
        await payments.receipt(await linked_chat(sunita), rameshs)


async def test_no_receipt_before_any_payment_is_paid(
    linked_chat, payments: PaymentService, two_bills, ramesh: SsoHolder
) -> None:
    chat = await linked_chat(ramesh)
    await payments.request_link(chat, PHED.biller_id, CID)

    with pytest.raises(ReceiptNotFound):
        await payments.receipt(chat)
    with pytest.raises(ReceiptNotFound):
        await payments.receipt(chat, "RJB250115DEADBEEF")


async def test_receipts_need_a_linked_chat(open_chat, payments: PaymentService) -> None:
    with pytest.raises(NotLinked):
        await payments.receipt(await open_chat())


async def test_download_finds_a_paid_receipt_by_number_only(
    linked_chat,
    pay,
    payments: PaymentService,
    two_bills,
    ramesh: SsoHolder,
) -> None:
    number = await pay(await linked_chat(ramesh), PHED.biller_id, CID)

    assert (await payments.receipt_by_number(number)).receipt_number == number
    with pytest.raises(ReceiptNotFound):
        await payments.receipt_by_number("RJB250115DEADBEEF")


async def test_receipt_link_from_receipt_verifies_in_the_residents_language(
    linked_chat,
    pay,
    payments: PaymentService,
    two_bills,
    receipt_links: ReceiptLinks,
    sunita: SsoHolder,
) -> None:
    chat = await linked_chat(sunita)
    number = await pay(chat, PHED.biller_id, CID)

    _, url = await payments.receipt(chat)

    assert url.startswith(f"https://bills.example.in/receipts/{number}.pdf?")
    receipt_number, language, expires, signature = link_parts(url)
    assert (receipt_number, language) == (number, "hi")
    assert receipt_links.verify((receipt_number,), language, expires, signature)


def test_a_receipt_number_is_found_again_in_what_a_resident_types() -> None:
    from datetime import datetime

    from bot.model.calendar import IST
    from bot.model.payments import find_receipt_number, receipt_number_for

    number = receipt_number_for(
        "pay_0123456789abcdef0123", datetime(2026, 11, 24, 23, 50, tzinfo=IST)
    )

    assert number == "RJB261124" + "0123456789abcdef0123"[-12:].upper()
    assert find_receipt_number(f"please send receipt {number.lower()} again") == number
    assert find_receipt_number("send my last receipt") is None
