"""Paying a bill through a hosted link, and the gateway's webhooks that mark it paid."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot import messages
from bot.errors import NothingDue, NotLinked, PaymentGatewayUnavailable
from bot.model.payments import (
    Payment,
    PaymentEvent,
    PaymentEventKind,
    PaymentLink,
    PaymentStatus,
)
from bot.model.residents import Language
from bot.ports import SsoHolder
from bot.services.payments import EventOutcome, PaymentService
from tests.fakes import (
    JVVNL,
    PHED,
    CreatedLink,
    FakeBillerDirectory,
    FakeClock,
    FakePaymentGateway,
    InMemoryDatabase,
    InMemoryUnitOfWorkFactory,
)

pytestmark = pytest.mark.asyncio

CID = "120034567890"  # a PHED water connection; PHED adds a ₹5 convenience fee
BILL_PAISE = 48_250
TOTAL_PAISE = BILL_PAISE + PHED.convenience_fee_paise


@pytest.fixture
def water_bill(billers: FakeBillerDirectory):
    return billers.add_bill(PHED, CID, amount_paise=BILL_PAISE)


async def pay_link(payments: PaymentService, gateway: FakePaymentGateway, chat: str) -> CreatedLink:
    """Ask for a link to the water bill; the link as the gateway created it."""
    payment, _ = await payments.request_link(chat, PHED.biller_id, CID)
    return next(c for c in gateway.links if c.request.reference_id == payment.payment_id)


async def deliver(
    payments: PaymentService, gateway: FakePaymentGateway, delivery: tuple[bytes, dict[str, str]]
) -> EventOutcome:
    """What the webhook route does: verify and parse the raw delivery, then apply it."""
    event = gateway.parse_webhook(*delivery)
    assert event is not None
    return await payments.handle_event(event)


def stored(db: InMemoryDatabase, created: CreatedLink) -> Payment:
    return db.payments[created.request.reference_id]


# --- quote and link ----------------------------------------------------------------------------
async def test_quote_includes_the_convenience_fee(
    linked_chat, payments: PaymentService, water_bill, ramesh: SsoHolder
) -> None:
    quote = await payments.quote(await linked_chat(ramesh), PHED.biller_id, "1200 3456 7890")

    assert quote.bill == water_bill
    assert (quote.fee_paise, quote.total_paise) == (500, TOTAL_PAISE)


async def test_nothing_due_creates_no_link(
    linked_chat,
    payments: PaymentService,
    billers: FakeBillerDirectory,
    gateway: FakePaymentGateway,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    billers.add_bill(PHED, CID, amount_paise=BILL_PAISE, outstanding_paise=0)
    chat = await linked_chat(ramesh)

    with pytest.raises(NothingDue):
        await payments.quote(chat, PHED.biller_id, CID)
    with pytest.raises(NothingDue):
        await payments.request_link(chat, PHED.biller_id, CID)

    assert gateway.links == []
    assert db.payments == {}


async def test_paying_before_linking_raises_not_linked(
    open_chat, payments: PaymentService, water_bill, gateway: FakePaymentGateway
) -> None:
    with pytest.raises(NotLinked):
        await payments.request_link(await open_chat(), PHED.biller_id, CID)

    assert gateway.links == []


async def test_link_charges_bill_plus_fee_to_the_holders_mobile(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)

    payment, quote = await payments.request_link(chat, PHED.biller_id, CID)

    (created,) = gateway.links
    assert created.request.amount_paise == TOTAL_PAISE == quote.total_paise
    assert created.request.reference_id == payment.payment_id
    assert created.request.customer_mobile == ramesh.mobile
    assert created.request.expire_by == clock.now() + timedelta(minutes=30)
    saved = db.payments[payment.payment_id]
    assert (saved.status, saved.link_url, saved.total_paise) == (
        PaymentStatus.CREATED,
        created.link.short_url,
        TOTAL_PAISE,
    )


async def test_asking_twice_for_the_same_bill_reuses_the_open_link(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    first, _ = await payments.request_link(chat, PHED.biller_id, CID)
    clock.advance(timedelta(minutes=10))

    again, _ = await payments.request_link(chat, PHED.biller_id, CID)

    assert again.link_url == first.link_url
    assert len(gateway.links) == 1
    assert len(db.payments) == 1


async def test_a_link_about_to_expire_is_replaced_by_a_fresh_one(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    first, _ = await payments.request_link(chat, PHED.biller_id, CID)
    clock.advance(timedelta(minutes=26))

    again, _ = await payments.request_link(chat, PHED.biller_id, CID)

    assert again.link_url != first.link_url
    assert gateway.links[-1].request.expire_by == clock.now() + timedelta(minutes=30)


async def test_gateway_failure_marks_the_payment_failed_and_raises(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    gateway.unavailable = True

    with pytest.raises(PaymentGatewayUnavailable):
        await payments.request_link(chat, PHED.biller_id, CID)

    (payment,) = db.payments.values()
    assert (payment.status, payment.link_url) == (PaymentStatus.FAILED, None)

    gateway.unavailable = False
    retried, _ = await payments.request_link(chat, PHED.biller_id, CID)
    assert retried.link_url == gateway.links[0].link.short_url


# --- webhooks ----------------------------------------------------------------------------------
async def test_paid_event_marks_paid_pushes_one_receipt_and_confirms_with_the_biller(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    billers: FakeBillerDirectory,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    clock.advance(timedelta(minutes=3))

    outcome = await deliver(
        payments,
        gateway,
        gateway.webhook("payment_link.paid", created, gateway_payment_id="pay_Gw12345"),
    )

    assert outcome is EventOutcome.PROCESSED
    payment = stored(db, created)
    assert (payment.status, payment.paid_at, payment.gateway_payment_id) == (
        PaymentStatus.PAID,
        clock.now(),
        "pay_Gw12345",
    )
    assert payment.receipt_number and payment.biller_confirmed
    (receipt,) = db.pushed(chat)
    assert receipt.text == messages.render(
        "payment_received",
        Language.EN,
        amount="₹487.50",
        biller="PHED",
        consumer="••••7890",
        receipt_number=payment.receipt_number,
        transaction="pay_Gw12345",
    )
    assert receipt.attachment is not None
    assert receipt.attachment.mime == "application/pdf"
    assert payment.receipt_number in receipt.attachment.url
    (posted,) = billers.posted.values()
    assert (posted.reference_id, posted.amount_paise, posted.bill_number) == (
        payment.payment_id,
        BILL_PAISE,
        water_bill.bill_number,
    )


async def test_after_paying_the_bill_shows_nothing_due(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))

    with pytest.raises(NothingDue):
        await payments.quote(chat, PHED.biller_id, CID)


async def test_receipt_is_pushed_in_the_residents_language(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    billers,
    db,
    sunita: SsoHolder,
) -> None:
    billers.add_bill(PHED, CID, amount_paise=BILL_PAISE)
    chat = await linked_chat(sunita)
    created = await pay_link(payments, gateway, chat)

    await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))

    (receipt,) = db.pushed(chat)
    payment = stored(db, created)
    assert receipt.text == messages.render(
        "payment_received",
        Language.HI,
        amount="₹487.50",
        biller="PHED",
        consumer="••••7890",
        receipt_number=payment.receipt_number,
        transaction="pay_GwFake0001",
    )
    assert receipt.attachment is not None and "lang=hi" in receipt.attachment.url
    assert [b.title for b in receipt.buttons] == ["भुगतान इतिहास"]


async def test_replayed_event_is_a_duplicate_and_pushes_no_second_receipt(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    billers: FakeBillerDirectory,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    delivery = gateway.webhook("payment_link.paid", await pay_link(payments, gateway, chat))
    await deliver(payments, gateway, delivery)

    assert await deliver(payments, gateway, delivery) is EventOutcome.DUPLICATE
    assert len(db.pushed(chat)) == 1
    assert billers.post_attempts == 1


async def test_another_paid_event_for_a_paid_payment_is_already_applied(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))
    first = stored(db, created)
    clock.advance(timedelta(minutes=1))

    outcome = await deliver(
        payments,
        gateway,
        gateway.webhook("payment_link.paid", created, gateway_payment_id="pay_GwOther"),
    )

    assert outcome is EventOutcome.ALREADY_APPLIED
    assert stored(db, created) == first
    assert len(db.pushed(chat)) == 1


async def test_paid_amount_that_differs_from_bill_plus_fee_is_a_mismatch_and_changes_nothing(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    billers: FakeBillerDirectory,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    before = stored(db, created)

    outcome = await deliver(
        payments, gateway, gateway.webhook("payment_link.paid", created, amount_paise=BILL_PAISE)
    )

    assert outcome is EventOutcome.MISMATCH
    assert stored(db, created) == before
    assert db.pushed(chat) == []
    assert billers.posted == {}


async def test_event_whose_reference_is_another_payment_is_a_mismatch(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)

    outcome = await deliver(
        payments,
        gateway,
        gateway.webhook("payment_link.paid", created, reference_id="pay_someoneelse0000"),
    )

    assert outcome is EventOutcome.MISMATCH
    assert stored(db, created).status is PaymentStatus.CREATED


async def test_event_for_a_link_we_never_created_is_reported_as_unknown(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    stranger = CreatedLink(created.request, PaymentLink("plink_Stranger", "https://rzp.io/i/x"))

    outcome = await deliver(payments, gateway, gateway.webhook("payment_link.paid", stranger))

    assert outcome is EventOutcome.UNKNOWN_LINK
    assert stored(db, created).status is PaymentStatus.CREATED
    assert db.pushed(chat) == []


async def test_failed_attempt_then_paid_marks_the_bill_paid(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)

    failed = await deliver(payments, gateway, gateway.webhook("payment.failed", created))
    assert failed is EventOutcome.PROCESSED
    assert stored(db, created).status is PaymentStatus.FAILED
    (notice,) = db.pushed(chat)
    assert created.link.short_url in notice.text

    paid = await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))
    assert paid is EventOutcome.PROCESSED
    assert stored(db, created).status is PaymentStatus.PAID
    assert [m.attachment is not None for m in db.pushed(chat)] == [False, True]


async def test_failed_event_without_a_reference_id_is_applied(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    # Razorpay's payment.failed names the link but carries no reference id.
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)

    outcome = await deliver(
        payments, gateway, gateway.webhook("payment.failed", created, reference_id="")
    )

    assert outcome is EventOutcome.PROCESSED
    assert stored(db, created).status is PaymentStatus.FAILED


async def test_a_second_failed_attempt_sends_no_second_notice(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    await deliver(payments, gateway, gateway.webhook("payment.failed", created))

    again = await deliver(payments, gateway, gateway.webhook("payment.failed", created))

    assert again is EventOutcome.ALREADY_APPLIED
    assert len(db.pushed(chat)) == 1


async def test_after_a_failed_attempt_asking_again_reuses_the_still_usable_link(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    await deliver(payments, gateway, gateway.webhook("payment.failed", created))

    again, _ = await payments.request_link(chat, PHED.biller_id, CID)

    assert again.link_url == created.link.short_url
    assert len(gateway.links) == 1


async def test_expired_link_tells_the_resident_and_a_new_request_makes_a_new_link(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    clock.advance(timedelta(minutes=31))

    outcome = await deliver(payments, gateway, gateway.webhook("payment_link.expired", created))

    assert outcome is EventOutcome.PROCESSED
    assert stored(db, created).status is PaymentStatus.EXPIRED
    (notice,) = db.pushed(chat)
    assert notice.text == messages.render(
        "payment_expired", Language.EN, amount="₹487.50", biller="PHED"
    )
    again, _ = await payments.request_link(chat, PHED.biller_id, CID)
    assert again.link_url != created.link.short_url


async def test_paid_event_arriving_after_the_expiry_event_still_marks_paid(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    await deliver(payments, gateway, gateway.webhook("payment_link.expired", created))

    outcome = await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))

    assert outcome is EventOutcome.PROCESSED
    assert stored(db, created).status is PaymentStatus.PAID


@pytest.mark.parametrize("late", ["payment.failed", "payment_link.expired"])
async def test_failed_or_expired_news_after_payment_changes_nothing(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
    late: str,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))

    outcome = await deliver(payments, gateway, gateway.webhook(late, created))

    assert outcome is EventOutcome.ALREADY_APPLIED
    assert stored(db, created).status is PaymentStatus.PAID
    assert len(db.pushed(chat)) == 1


async def test_biller_down_at_confirmation_leaves_the_payment_paid_and_unconfirmed(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    billers: FakeBillerDirectory,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    billers.unavailable = True

    outcome = await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))

    assert outcome is EventOutcome.PROCESSED
    payment = stored(db, created)
    assert (payment.status, payment.biller_confirmed) == (PaymentStatus.PAID, False)
    assert len(db.pushed(chat)) == 1
    assert billers.posted == {}


async def test_confirmation_retried_once_the_biller_is_back_posts_exactly_once(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    billers: FakeBillerDirectory,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)
    billers.unavailable = True
    await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))
    billers.unavailable = False

    assert await payments.confirm_with_biller(created.request.reference_id) is True
    assert await payments.confirm_with_biller(created.request.reference_id) is True

    assert stored(db, created).biller_confirmed is True
    assert list(billers.posted) == [created.request.reference_id]


async def test_an_unpaid_payment_is_never_confirmed_with_the_biller(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    billers: FakeBillerDirectory,
    ramesh: SsoHolder,
) -> None:
    created = await pay_link(payments, gateway, await linked_chat(ramesh))

    assert await payments.confirm_with_biller(created.request.reference_id) is False
    assert billers.post_attempts == 0


async def test_payments_whose_ids_end_alike_get_distinct_receipt_numbers(
    linked_chat,
    payments: PaymentService,
    uow: InMemoryUnitOfWorkFactory,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    (resident_id,) = db.residents
    async with uow() as tx:
        for number, payment_id in enumerate(
            ["pay_0123456789abcdef0123", "pay_fedcba9876abcdef0123"]
        ):
            await tx.payments.add(
                Payment(
                    payment_id=payment_id,
                    resident_id=resident_id,
                    conversation_id=chat,
                    biller_id=PHED.biller_id,
                    consumer_number=CID,
                    bill_number=f"B{number}",
                    amount_paise=BILL_PAISE,
                    fee_paise=500,
                    status=PaymentStatus.CREATED,
                    created_at=clock.now(),
                    link_id=f"plink_{number}",
                    link_url=f"https://x/{number}",
                )
            )
        await tx.commit()

    for number, payment_id in enumerate(["pay_0123456789abcdef0123", "pay_fedcba9876abcdef0123"]):
        event = PaymentEvent(
            event_id=f"evt_{number}",
            kind=PaymentEventKind.PAID,
            link_id=f"plink_{number}",
            reference_id=payment_id,
            gateway_payment_id=f"pay_Gw{number}",
            amount_paise=TOTAL_PAISE,
        )
        assert await payments.handle_event(event) is EventOutcome.PROCESSED

    assert len({p.receipt_number for p in db.payments.values()}) == 2


async def test_receipt_number_carries_the_indian_date_of_payment(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    clock.set(datetime(2025, 1, 15, 20, 0, tzinfo=timezone.utc))  # 16 January, 01:30 IST
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)

    await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))

    assert stored(db, created).receipt_number.startswith("RJB250116")  # type: ignore[union-attr]


async def test_history_lists_the_residents_payments_newest_first(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    billers,
    water_bill,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    billers.add_bill(JVVNL, "210145678912", amount_paise=99_900)
    chat = await linked_chat(ramesh)
    await payments.request_link(chat, PHED.biller_id, CID)
    clock.advance(timedelta(minutes=1))
    await payments.request_link(chat, JVVNL.biller_id, "210145678912")

    history = await payments.history(chat)

    assert [(p.biller_id, b) for p, b in history] == [
        (JVVNL.biller_id, JVVNL),
        (PHED.biller_id, PHED),
    ]


async def test_pending_news_then_the_outcome(
    linked_chat,
    payments: PaymentService,
    gateway: FakePaymentGateway,
    water_bill,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    created = await pay_link(payments, gateway, chat)

    pending = await deliver(payments, gateway, gateway.webhook("payment.authorized", created))
    assert pending is EventOutcome.PROCESSED
    assert stored(db, created).status is PaymentStatus.CREATED, "news only, no money moved"
    (notice,) = db.pushed(chat)
    assert "being processed" in notice.text and notice.attachment is None

    paid = await deliver(payments, gateway, gateway.webhook("payment_link.paid", created))
    assert paid is EventOutcome.PROCESSED
    assert [m.attachment is not None for m in db.pushed(chat)] == [False, True]

    late = await deliver(payments, gateway, gateway.webhook("payment.authorized", created))
    assert late is EventOutcome.ALREADY_APPLIED, "no 'pending' after the receipt"
    assert len(db.pushed(chat)) == 2
