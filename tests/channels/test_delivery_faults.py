"""Deliveries through provider faults: replies keep their order through a 429/5xx back-off,
and a delivery cut off by a crash or a lost answer is reconciled with the provider (Twilio's
message list): sent once if Twilio never got it, never twice if it did; Telegram, which
cannot tell, leaves it uncertain and counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app.bootstrap import channel_runtime
from app.gateway.delivery import ChannelRuntime
from bot.model.channels import DeliveryState
from bot.model.residents import Channel
from bot.services.delivery import LONGEST_SEND
from tests.channels.harness import Gateway, telegram_text, whatsapp_form
from tests.channels.test_faults import wait_for

BACK_OFF = timedelta(seconds=0.5)


@pytest.fixture
async def fast(gateway: Gateway) -> AsyncIterator[Gateway]:
    """Back-offs and waits for the provider in fractions of a second."""
    gateway.runtime.delivery._retry_backoff = BACK_OFF
    gateway.runtime.delivery._ask_after = timedelta(0)
    yield gateway


def bodies(gateway: Gateway) -> list[str]:
    return [m["Body"] for m in gateway.providers.twilio()]


async def states(gateway: Gateway) -> list[DeliveryState]:
    from sqlalchemy import select

    from integrations.db.tables import outbox_deliveries

    async with gateway.container.engine.connect() as connection:
        rows = await connection.execute(
            select(outbox_deliveries.c.state).order_by(outbox_deliveries.c.sequence)
        )
        return [DeliveryState(state) for (state,) in rows]


@pytest.mark.parametrize("status", [500, 429])
async def test_replies_keep_their_order_through_a_provider_back_off(
    fast: Gateway, status: int
) -> None:
    gateway = fast
    for _ in range(4):  # the sender's own three retries fail too: the delivery backs off
        gateway.providers.fail_next("twilio", status, {"code": 20500, "message": "busy"})
    texts = ["one", "two", "three"]
    for text in texts:
        await gateway.whatsapp(whatsapp_form(text))
    await wait_for(lambda: len(gateway.providers.attempts("twilio")) >= 4)
    await asyncio.sleep(1.0)  # several delivery rounds while "one" waits out its back-off
    assert bodies(gateway) == []  # nothing overtakes it
    gateway.container.clock.advance(BACK_OFF)  # type: ignore[attr-defined]
    await wait_for(lambda: len(bodies(gateway)) == 3, seconds=20)
    await gateway.settle()

    assert bodies(gateway) == [f"echo: {text}" for text in texts]
    assert len(gateway.providers.attempts("twilio")) == 3 + 4  # each sent once, after 4 refusals


async def test_a_reply_whose_answer_was_lost_is_found_at_twilio_and_not_sent_again(
    fast: Gateway,
) -> None:
    gateway = fast
    gateway.providers.hold_next_answer(None)  # Twilio takes it; the answer never comes
    await gateway.whatsapp(whatsapp_form("one"))
    await gateway.whatsapp(whatsapp_form("two"))
    await wait_for(lambda: len(bodies(gateway)) == 2, seconds=20)
    await gateway.settle()
    await asyncio.sleep(0.5)  # a second send would come now

    assert bodies(gateway) == ["echo: one", "echo: two"]  # in order, each once
    assert await states(gateway) == [DeliveryState.SENT, DeliveryState.SENT]


async def crash_while_sending(gateway: Gateway, hold_s: float | None) -> ChannelRuntime:
    """The gateway dies with a delivery in flight; a new one starts (with time gone by).

    `hold_s`: Twilio accepted the message and holds its answer that long (the crash comes
    after the request left); None: the crash comes before the request left."""
    runtime = gateway.runtime
    if hold_s is None:
        started = asyncio.Event()
        real_send = runtime.delivery._senders[Channel.WHATSAPP].send

        async def never_leaves(delivery: Any) -> None:
            started.set()
            await asyncio.Event().wait()

        runtime.delivery._senders[Channel.WHATSAPP].send = never_leaves  # type: ignore[method-assign]
        await gateway.whatsapp(whatsapp_form("one"))
        await asyncio.wait_for(started.wait(), 10)
    else:
        gateway.providers.hold_next_answer(hold_s)
        await gateway.whatsapp(whatsapp_form("one"))
        await wait_for(lambda: len(bodies(gateway)) == 1)
    await runtime.stop()  # SIGKILL, as far as the database can tell
    assert await states(gateway) == [DeliveryState.SENDING]
    if hold_s is None:
        runtime.delivery._senders[Channel.WHATSAPP].send = real_send  # type: ignore[method-assign]
    gateway.container.clock.advance(LONGEST_SEND)  # type: ignore[attr-defined]
    restarted = channel_runtime(gateway.container, runtime._locks)
    restarted.start()
    return restarted


async def test_a_delivery_a_crash_cut_off_before_it_left_is_sent_once_after_restart(
    gateway: Gateway,
) -> None:
    restarted = await crash_while_sending(gateway, hold_s=None)
    try:
        await wait_for(lambda: len(bodies(gateway)) == 1, seconds=20)
        await restarted.idle()
    finally:
        await restarted.stop()
    assert bodies(gateway) == ["echo: one"]
    assert await states(gateway) == [DeliveryState.SENT]


async def test_a_delivery_twilio_got_before_the_crash_is_not_sent_again(
    gateway: Gateway,
) -> None:
    resent = REGISTRY.get_sample_value(
        "bot_deliveries_reconciled_total", {"channel": "whatsapp", "outcome": "found"}
    )
    restarted = await crash_while_sending(gateway, hold_s=5.0)
    try:
        for _ in range(100):
            if await states(gateway) == [DeliveryState.SENT]:
                break
            await asyncio.sleep(0.1)
    finally:
        await restarted.stop()
    assert bodies(gateway) == ["echo: one"]  # once: Twilio's list had it
    assert await states(gateway) == [DeliveryState.SENT]
    found = REGISTRY.get_sample_value(
        "bot_deliveries_reconciled_total", {"channel": "whatsapp", "outcome": "found"}
    )
    assert (found or 0) - (resent or 0) == 1


async def test_a_telegram_delivery_cut_off_by_a_crash_stays_uncertain_and_is_counted(
    gateway: Gateway,
) -> None:
    before = REGISTRY.get_sample_value("bot_deliveries_uncertain_total", {"channel": "telegram"})
    runtime = gateway.runtime
    sender = runtime.delivery._senders[Channel.TELEGRAM]
    real_send, started = sender.send, asyncio.Event()

    async def cut_off(delivery: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    sender.send = cut_off  # type: ignore[method-assign]
    await gateway.telegram(telegram_text("one"))
    await asyncio.wait_for(started.wait(), 10)
    await runtime.stop()
    sender.send = real_send  # type: ignore[method-assign]
    gateway.container.clock.advance(LONGEST_SEND)  # type: ignore[attr-defined]
    restarted = channel_runtime(gateway.container, runtime._locks)
    restarted.start()
    try:
        for _ in range(100):
            if await states(gateway) == [DeliveryState.UNCERTAIN]:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
    finally:
        await restarted.stop()

    assert await states(gateway) == [DeliveryState.UNCERTAIN]
    assert gateway.providers.telegram("sendMessage") == []  # never sent twice, maybe never
    after = REGISTRY.get_sample_value("bot_deliveries_uncertain_total", {"channel": "telegram"})
    assert (after or 0) - (before or 0) == 1
