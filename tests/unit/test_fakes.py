"""The fakes keep the promises of the ports they stand in for; otherwise every test that
leans on them could pass against code that would fail on the real adapters."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.errors import SignatureInvalid
from bot.model.channels import ChannelState
from bot.model.outbound import Button, OutboundMessage
from bot.model.payments import Payment, PaymentStatus
from bot.model.residents import Channel, Conversation, Language, Resident
from bot.ports import PaymentLinkRequest
from tests.fakes import FakeClock, FakePaymentGateway, InMemoryUnitOfWorkFactory, IntegrityError

pytestmark = pytest.mark.asyncio

NOW = datetime(2025, 1, 15, 4, 30, tzinfo=timezone.utc)


def resident(language: Language = Language.EN) -> Resident:
    return Resident("r1", "ramesh.kumar", "Ramesh Kumar", "+919812345678", language, NOW)


def payment(status: PaymentStatus = PaymentStatus.CREATED) -> Payment:
    return Payment(
        payment_id="pay_1",
        resident_id="r1",
        conversation_id="c1",
        biller_id="PHED00000RAJ01",
        consumer_number="120034567890",
        bill_number="B1",
        amount_paise=100,
        fee_paise=5,
        status=status,
        created_at=NOW,
    )


async def test_uncommitted_work_is_discarded(uow: InMemoryUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.residents.add(resident())

    async with uow() as tx:
        assert await tx.residents.get("r1") is None


async def test_work_after_commit_without_a_second_commit_is_discarded(
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    async with uow() as tx:
        await tx.residents.add(resident())
        await tx.commit()
        await tx.residents.update(resident(Language.HI))

    assert uow.db.residents["r1"].language is Language.EN


async def test_returned_rows_are_copies(uow: InMemoryUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.residents.add(resident())
        await tx.commit()
    async with uow() as tx:
        loaded = await tx.residents.get("r1")
        assert loaded is not None
        loaded.language = Language.HI  # forgot to save
        await tx.commit()

    assert uow.db.residents["r1"].language is Language.EN


async def test_unique_channel_address_is_enforced(uow: InMemoryUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.conversations.add(Conversation("c1", Channel.SMS, "+91981", None, None, NOW))
        with pytest.raises(IntegrityError):
            await tx.conversations.add(Conversation("c2", Channel.SMS, "+91981", None, None, NOW))


async def test_payment_update_is_compare_and_set(uow: InMemoryUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.payments.add(payment())
        await tx.commit()

    async with uow() as tx:
        assert await tx.payments.update(payment(PaymentStatus.PAID), PaymentStatus.CREATED)
        assert not await tx.payments.update(payment(PaymentStatus.FAILED), PaymentStatus.CREATED)
        await tx.commit()

    assert uow.db.payments["pay_1"].status is PaymentStatus.PAID


async def test_compare_and_set_sees_a_commit_made_after_this_unit_of_work_began(
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    async with uow() as setup:
        await setup.payments.add(payment())
        await setup.commit()

    async with uow() as slow:
        await slow.payments.get("pay_1")
        async with uow() as fast:
            assert await fast.payments.update(payment(PaymentStatus.PAID), PaymentStatus.CREATED)
            await fast.commit()
        assert not await slow.payments.update(payment(PaymentStatus.FAILED), PaymentStatus.CREATED)


async def test_webhook_event_is_recorded_once(uow: InMemoryUnitOfWorkFactory) -> None:
    async with uow() as tx:
        assert await tx.webhook_events.record("payments", "evt_1", NOW)
        await tx.commit()
    async with uow() as tx:
        assert not await tx.webhook_events.record("payments", "evt_1", NOW)
        assert await tx.webhook_events.record("payments", "evt_2", NOW)


async def test_outbox_sequences_increase_and_only_committed_pushes_are_kept(
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    async with uow() as tx:
        first = await tx.outbox.push("c1", OutboundMessage("one"), NOW)
        await tx.commit()
    async with uow() as tx:
        await tx.outbox.push("c1", OutboundMessage("rolled back"), NOW)
    async with uow() as tx:
        second = await tx.outbox.push("c1", OutboundMessage("two"), NOW)
        await tx.commit()

    assert first < second
    async with uow() as tx:
        assert [p.message.text for p in await tx.outbox.after("c1", 0)] == ["one", "two"]
        assert [p.message.text for p in await tx.outbox.after("c1", first)] == ["two"]


async def test_remembered_options_keep_the_rest_of_a_channel_state(
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    options = (Button("Pay", "/pay_bill"),)
    async with uow() as tx:
        await tx.channel_states.save(ChannelState("c1", opted_out=True))
        await tx.channel_states.remember_options(["c1", "c2"], options)
        await tx.commit()

    async with uow() as tx:
        first, second = await tx.channel_states.get("c1"), await tx.channel_states.get("c2")
    assert first is not None and first.opted_out and first.options == options
    assert second is not None and not second.opted_out and second.options == options


async def test_gateway_refuses_a_forged_or_unsigned_webhook() -> None:
    gateway = FakePaymentGateway()
    request = PaymentLinkRequest("pay_1", 105, "PHED bill", "Ramesh", "+91981", NOW, "https://x")
    await gateway.create_link(request)
    body, headers = gateway.webhook("payment_link.paid", gateway.links[0])

    with pytest.raises(SignatureInvalid):
        gateway.parse_webhook(body.replace(b"105", b"999"), headers)
    with pytest.raises(SignatureInvalid):
        gateway.parse_webhook(body, {})
    assert gateway.parse_webhook(body, {"x-fake-signature": headers["X-Fake-Signature"]})


async def test_clock_is_utc_and_moves_only_when_told() -> None:
    clock = FakeClock()
    start = clock.now()

    clock.advance(timedelta(minutes=5))

    assert clock.now() - start == timedelta(minutes=5)
    assert clock.now().utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        clock.set(datetime(2025, 1, 1))
