"""The SQL repositories and unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.exc import StatementError

from bot.model.billing import SavedAccount, Utility
from bot.model.outbound import Attachment, Button, OutboundMessage
from bot.model.payments import Payment, PaymentStatus
from bot.model.residents import Channel, Conversation, Language, LinkChallenge, Resident
from integrations.db.unit_of_work import SqlUnitOfWorkFactory

pytestmark = pytest.mark.asyncio

IST = timezone(timedelta(hours=5, minutes=30))
NOW = datetime(2025, 3, 14, 18, 45, 12, 345678, tzinfo=IST)
# Long enough for the loser of a race to be visibly stuck behind the winner's lock.
LOCK_WAIT = 0.3


def resident(**changes: Any) -> Resident:
    base = Resident("res-1", "ramesh.kumar", "Ramesh Kumar", "+919812345678", Language.HI, NOW)
    return replace(base, **changes)


def conversation(**changes: Any) -> Conversation:
    base = Conversation("conv-1", Channel.WHATSAPP, "+919812345678", None, None, NOW)
    return replace(base, **changes)


def challenge(**changes: Any) -> LinkChallenge:
    base = LinkChallenge("conv-1", "ramesh.kumar", "ab" * 32, NOW, NOW + timedelta(minutes=5), 3)
    return replace(base, **changes)


def payment(**changes: Any) -> Payment:
    base = Payment(
        payment_id="pay_1",
        resident_id="res-1",
        conversation_id="conv-1",
        biller_id="JVVNL00000RAJ01",
        consumer_number="210145678912",
        bill_number="B-2025-03",
        amount_paise=123_456_789_012,  # beyond 32 bits: money is BIGINT
        fee_paise=1_000,
        status=PaymentStatus.CREATED,
        created_at=NOW,
    )
    return replace(base, **changes)


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.utcoffset() == timedelta(0)


# --- round trips ---------------------------------------------------------------------------
async def test_resident_round_trip_keeps_instant_zone_and_enum(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.residents.add(resident())
        await tx.commit()
    async with uow() as tx:
        stored = await tx.residents.get("res-1")
        by_sso = await tx.residents.by_sso_id("ramesh.kumar")
    assert stored == resident() == by_sso
    assert stored is not None
    assert stored.language is Language.HI
    assert_utc(stored.linked_at)

    async with uow() as tx:
        await tx.residents.update(resident(language=Language.EN, name="R. Kumar"))
        await tx.commit()
    async with uow() as tx:
        assert await tx.residents.get("res-1") == resident(language=Language.EN, name="R. Kumar")
        assert await tx.residents.get("nobody") is None


async def test_naive_datetimes_are_refused(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        with pytest.raises(StatementError, match="naive datetime"):
            await tx.residents.add(resident(linked_at=datetime(2025, 3, 14, 12, 0)))


async def test_conversation_found_by_channel_and_address(uow: SqlUnitOfWorkFactory) -> None:
    sms = conversation(conversation_id="conv-2", channel=Channel.SMS)
    async with uow() as tx:
        await tx.conversations.add(conversation())
        await tx.conversations.add(sms)
        await tx.commit()
    async with uow() as tx:
        assert await tx.conversations.find(Channel.WHATSAPP, "+919812345678") == conversation()
        assert await tx.conversations.find(Channel.SMS, "+919812345678") == sms
        assert await tx.conversations.find(Channel.TELEGRAM, "+919812345678") is None
        linked = conversation(resident_id="res-1", language=Language.HI)
        await tx.conversations.update(linked)
        await tx.commit()
    async with uow() as tx:
        stored = await tx.conversations.get("conv-1")
    assert stored == linked
    assert stored is not None
    assert stored.channel is Channel.WHATSAPP
    assert_utc(stored.created_at)


async def test_saved_accounts_listed_per_resident_and_utility(uow: SqlUnitOfWorkFactory) -> None:
    power = SavedAccount("acc-1", "res-1", Utility.ELECTRICITY, "JVVNL00000RAJ01", "210145678912")
    water = SavedAccount("acc-2", "res-1", Utility.WATER, "PHED00000RAJ01", "W123456")
    other = SavedAccount("acc-3", "res-2", Utility.WATER, "PHED00000RAJ01", "W999999")
    async with uow() as tx:
        for account in (water, power, other):
            await tx.accounts.add(account)
        await tx.commit()
    async with uow() as tx:
        assert await tx.accounts.list_for("res-1") == [power, water]
        assert await tx.accounts.list_for("res-1", Utility.WATER) == [water]
        assert await tx.accounts.list_for("res-1", Utility.GAS) == []
        assert await tx.accounts.find("res-1", "PHED00000RAJ01", "W123456") == water
        assert await tx.accounts.find("res-2", "PHED00000RAJ01", "W123456") is None


async def test_payment_round_trip_and_lookups(uow: SqlUnitOfWorkFactory) -> None:
    paid = payment(
        payment_id="pay_2",
        status=PaymentStatus.PAID,
        created_at=NOW + timedelta(minutes=1),
        link_id="plink_2",
        link_url="http://127.0.0.1:8000/sandbox/pay/plink_2",
        gateway_payment_id="pay_gw_2",
        paid_at=NOW + timedelta(minutes=3),
        receipt_number="RJB250314ABCD1234",
        biller_confirmed=True,
    )
    async with uow() as tx:
        await tx.payments.add(payment())
        await tx.payments.add(paid)
        await tx.commit()
    async with uow() as tx:
        stored = await tx.payments.get("pay_2")
        assert stored == paid
        assert stored is not None
        assert stored.status is PaymentStatus.PAID
        assert_utc(stored.paid_at)
        assert await tx.payments.by_link_id("plink_2") == paid
        assert await tx.payments.by_receipt_number("RJB250314ABCD1234") == paid
        assert await tx.payments.get("pay_1") == payment()
        assert await tx.payments.by_link_id("missing") is None


async def test_recent_payments_newest_first_and_open_for_bill(uow: SqlUnitOfWorkFactory) -> None:
    history = [
        payment(payment_id=f"pay_{i}", created_at=NOW + timedelta(hours=i), link_id=f"plink_{i}")
        for i in range(4)
    ]
    history[2] = replace(history[2], status=PaymentStatus.FAILED)
    history[3] = replace(history[3], status=PaymentStatus.PAID)
    async with uow() as tx:
        for item in [*history, payment(payment_id="pay_x", resident_id="res-2")]:
            await tx.payments.add(item)
        await tx.commit()
    async with uow() as tx:
        recent = await tx.payments.recent_for("res-1", 3)
        assert [p.payment_id for p in recent] == ["pay_3", "pay_2", "pay_1"]
        # The newest one whose link can still be paid: pay_3 is paid; pay_2 failed, but a
        # failed attempt leaves its link payable.
        open_for = tx.payments.open_for_bill
        assert await open_for("res-1", "JVVNL00000RAJ01", "B-2025-03") == history[2]
        assert await open_for("res-1", "JVVNL00000RAJ01", "other") is None


# --- link challenges -----------------------------------------------------------------------
async def test_challenge_save_replaces_the_conversations_challenge(
    uow: SqlUnitOfWorkFactory,
) -> None:
    async with uow() as tx:
        await tx.challenges.save(challenge())
        await tx.commit()
    resent = challenge(otp_hash="cd" * 32, attempts_left=3, sent_at=NOW + timedelta(minutes=1))
    async with uow() as tx:
        await tx.challenges.save(replace(challenge(), attempts_left=1))
        await tx.challenges.save(resent)
        await tx.commit()
    async with uow() as tx:
        stored = await tx.challenges.get("conv-1")
        assert stored == resent
        assert stored is not None
        assert_utc(stored.expires_at)
        await tx.challenges.delete("conv-1")
        await tx.commit()
    async with uow() as tx:
        assert await tx.challenges.get("conv-1") is None


async def test_sends_since_counts_one_sso_id_across_conversations(
    uow: SqlUnitOfWorkFactory,
) -> None:
    window_start = NOW - timedelta(minutes=30)
    async with uow() as tx:
        await tx.challenges.record_send("ramesh.kumar", NOW, "conv-1")
        await tx.challenges.record_send("ramesh.kumar", NOW, "conv-2")
        await tx.challenges.record_send("ramesh.kumar", window_start, "conv-2")
        await tx.challenges.record_send(
            "ramesh.kumar", window_start - timedelta(microseconds=1), "conv-1"
        )
        await tx.challenges.record_send("someone.else", NOW, "conv-1")
        await tx.challenges.record_send("third.one", window_start - timedelta(seconds=1), "conv-1")
        await tx.commit()
    async with uow() as tx:
        # Deleting challenges never forgets sends: the limit must survive voided codes.
        await tx.challenges.delete("conv-1")
        assert await tx.challenges.sends_since("ramesh.kumar", window_start) == 3
        assert await tx.challenges.sends_since("nobody.here", window_start) == 0
        # ...and per chat, for the limits that are a chat's own (bot/services/link_limits.py)
        assert await tx.challenges.sends_since("ramesh.kumar", window_start, "conv-2") == 2
        assert await tx.challenges.sends_since("ramesh.kumar", window_start, "conv-1") == 1
        assert await tx.challenges.other_sso_ids_since("conv-1", "ramesh.kumar", window_start) == 1
        assert await tx.challenges.other_sso_ids_since("conv-2", "ramesh.kumar", window_start) == 0


# --- webhook events ------------------------------------------------------------------------
async def test_webhook_event_recorded_once(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        assert await tx.webhook_events.record("payments", "evt_1", NOW) is True
        assert await tx.webhook_events.record("payments", "evt_1", NOW) is False
        assert await tx.webhook_events.record("telegram", "evt_1", NOW) is True
        await tx.commit()
    async with uow() as tx:
        assert await tx.webhook_events.record("payments", "evt_1", NOW) is False


async def test_concurrent_replays_of_a_webhook_have_one_winner(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as first, uow() as second:
        assert await first.webhook_events.record("payments", "evt_1", NOW) is True
        replay = asyncio.create_task(second.webhook_events.record("payments", "evt_1", NOW))
        await asyncio.sleep(LOCK_WAIT)
        assert not replay.done(), "the replay must wait for the first delivery's transaction"
        await first.commit()
        assert await replay is False

    async def deliver() -> bool:
        async with uow() as tx:
            recorded = await tx.webhook_events.record("payments", "evt_2", NOW)
            await tx.commit()
            return recorded

    assert sorted(await asyncio.gather(*(deliver() for _ in range(5)))) == [False] * 4 + [True]


# --- payments compare-and-set --------------------------------------------------------------
async def test_payment_update_is_compare_and_set(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.payments.add(payment())
        await tx.commit()
    async with uow() as tx:
        paid = payment(status=PaymentStatus.PAID)
        assert await tx.payments.update(paid, expected_status=PaymentStatus.FAILED) is False
        assert await tx.payments.update(paid, expected_status=PaymentStatus.CREATED) is True
        await tx.commit()
    async with uow() as tx:
        stored = await tx.payments.get("pay_1")
    assert stored is not None
    assert stored.status is PaymentStatus.PAID


async def test_concurrent_payment_updates_have_one_winner(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.payments.add(payment())
        await tx.commit()
    async with uow() as paid_webhook, uow() as failed_webhook:
        # Both read the payment as CREATED before either writes.
        seen_by_paid = await paid_webhook.payments.get("pay_1")
        seen_by_failed = await failed_webhook.payments.get("pay_1")
        assert seen_by_paid is not None
        assert seen_by_failed is not None
        paid = replace(seen_by_paid, status=PaymentStatus.PAID, receipt_number="RJB1")
        failed = replace(seen_by_failed, status=PaymentStatus.FAILED)

        assert await paid_webhook.payments.update(paid, PaymentStatus.CREATED) is True
        loser = asyncio.create_task(failed_webhook.payments.update(failed, PaymentStatus.CREATED))
        await asyncio.sleep(LOCK_WAIT)
        assert not loser.done(), "the second update must wait for the first transaction"
        await paid_webhook.commit()
        assert await loser is False
        await failed_webhook.commit()
    async with uow() as tx:
        stored = await tx.payments.get("pay_1")
    assert stored is not None
    assert stored.status is PaymentStatus.PAID


# --- unit of work --------------------------------------------------------------------------
async def test_leaving_without_commit_persists_nothing(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.residents.add(resident())
        await tx.webhook_events.record("payments", "evt_1", NOW)
        await tx.outbox.push("conv-1", OutboundMessage("hello"), NOW)

    async def failing_use_case() -> None:
        async with uow() as tx:
            await tx.payments.add(payment())
            raise RuntimeError("use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    async with uow() as tx:
        assert await tx.residents.get("res-1") is None
        assert await tx.payments.get("pay_1") is None
        assert await tx.outbox.after("conv-1", 0) == []
        # The event was not recorded, so a redelivery is processed.
        assert await tx.webhook_events.record("payments", "evt_1", NOW) is True


# --- outbox --------------------------------------------------------------------------------
async def test_outbox_returns_messages_after_the_cursor_oldest_first(
    uow: SqlUnitOfWorkFactory,
) -> None:
    receipt = OutboundMessage(
        text="₹1,234.56 का भुगतान हो गया",
        buttons=(Button("Payment history", "/payment_history"), Button("Menu", "/help")),
        attachment=Attachment(
            "http://127.0.0.1:8000/receipts/R1.pdf", "receipt-R1.pdf", "application/pdf"
        ),
    )
    async with uow() as tx:
        first = await tx.outbox.push("conv-1", OutboundMessage("one"), NOW)
        await tx.outbox.push("conv-2", OutboundMessage("elsewhere"), NOW)
        second = await tx.outbox.push("conv-1", receipt, NOW + timedelta(seconds=1))
        third = await tx.outbox.push("conv-1", OutboundMessage("three"), NOW + timedelta(seconds=2))
        await tx.commit()
    assert first < second < third
    async with uow() as tx:
        everything = await tx.outbox.after("conv-1", 0)
        assert [m.sequence for m in everything] == [first, second, third]
        assert [m.conversation_id for m in everything] == ["conv-1"] * 3
        assert everything[1].message == receipt
        assert everything[1].created_at == NOW + timedelta(seconds=1)
        assert_utc(everything[1].created_at)
        after_first = await tx.outbox.after("conv-1", first)
        assert [m.message for m in after_first] == [receipt, OutboundMessage("three")]
        assert [m.sequence for m in await tx.outbox.after("conv-1", 0, limit=2)] == [first, second]
        assert await tx.outbox.after("conv-1", third) == []


async def test_outbox_pushes_commit_in_sequence_order(uow: SqlUnitOfWorkFactory) -> None:
    """A reader holding cursor N must never later find a message numbered below N."""
    async with uow() as early, uow() as late:
        early_sequence = await early.outbox.push("conv-1", OutboundMessage("receipt"), NOW)
        reminder = OutboundMessage("reminder")
        late_push = asyncio.create_task(late.outbox.push("conv-1", reminder, NOW))
        await asyncio.sleep(LOCK_WAIT)
        assert not late_push.done(), "a second push must wait until the first commits"
        await early.commit()
        late_sequence = await late_push
        await late.commit()
    assert late_sequence > early_sequence
