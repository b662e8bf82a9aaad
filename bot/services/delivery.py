"""Sending queued outbox messages to WhatsApp, SMS and Telegram, each at most once.

The trade-off, chosen on purpose: a delivery is *claimed* (committed as SENDING) before
the provider is called and settled after. A crash or a timeout between the two leaves the
row SENDING or UNCERTAIN, and such rows are never sent again: a provider that timed out
may well have delivered, and a resident paying bills must not get a receipt twice or be
asked to pay twice. The price is that a message lost in exactly that gap stays lost
(the resident can still ask for the receipt again). Failures that surely sent nothing
(a 429 or 5xx that outlived the sender's own retries, a network error before the
request left) go back to PENDING and are retried later with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.errors import DeliveryFailed, DeliveryUncertain
from bot.model.channels import ChannelState, Delivery, DeliveryKind, DeliveryState
from bot.model.residents import Channel
from bot.ports import ChannelSender, ChannelUnitOfWorkFactory, Clock

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(seconds=30)


class DeliveryService:
    def __init__(
        self,
        uow: ChannelUnitOfWorkFactory,
        clock: Clock,
        senders: Mapping[Channel, ChannelSender],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._senders = dict(senders)

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels that can send (have credentials)."""
        return frozenset(self._senders)

    async def due(self, limit: int = 100) -> list[Delivery]:
        """Messages waiting for a channel that is on, oldest first."""
        async with self._uow() as tx:
            found = await tx.deliveries.due(self._clock.now(), limit)
        return [d for d in found if d.channel in self._senders]

    async def outstanding(self, limit: int = 100) -> list[Delivery]:
        """Messages not yet sent or given up on, including those waiting out a retry back-off."""
        now = self._clock.now()
        async with self._uow() as tx:
            found = await tx.deliveries.due(now, limit, retries_by=now + timedelta(days=365))
        return [d for d in found if d.channel in self._senders]

    async def deliver(self, delivery: Delivery) -> DeliveryState:
        """Send one message unless someone else claimed it. Callers keep one conversation's
        deliveries in order (one at a time, oldest first)."""
        sender = self._senders[delivery.channel]
        now = self._clock.now()
        window = delivery.kind is DeliveryKind.REPLY or (
            delivery.last_inbound_at is not None
            and ChannelState(
                delivery.conversation_id, last_inbound_at=delivery.last_inbound_at
            ).in_session_window(now)
        )
        delivery = replace(delivery, in_session_window=window)
        async with self._uow() as tx:
            if not await tx.deliveries.claim(delivery, now):
                return DeliveryState.SENDING  # another worker has it
            if delivery.kind is DeliveryKind.PUSH and delivery.opted_out:
                await tx.deliveries.settle(delivery.sequence, DeliveryState.SUPPRESSED, now)
                await tx.commit()
                return DeliveryState.SUPPRESSED
            await tx.commit()  # the at-most-once point: from here on it is never resent
        try:
            await sender.send(delivery)
        except DeliveryUncertain as exc:
            log.warning(
                "delivery %d uncertain on %s: %s", delivery.sequence, delivery.channel.value, exc
            )
            return await self._settle(delivery, DeliveryState.UNCERTAIN)
        except DeliveryFailed as exc:
            attempts = delivery.attempts + 1
            if exc.permanent or attempts >= MAX_ATTEMPTS:
                log.warning(
                    "delivery %d failed on %s after %d attempts: %s",
                    delivery.sequence,
                    delivery.channel.value,
                    attempts,
                    exc,
                )
                return await self._settle(delivery, DeliveryState.FAILED)
            retry_at = self._clock.now() + RETRY_BACKOFF * 2 ** (attempts - 1)
            return await self._settle(delivery, DeliveryState.PENDING, retry_at)
        await self._settle(delivery, DeliveryState.SENT)
        return DeliveryState.SENT

    async def _settle(
        self, delivery: Delivery, state: DeliveryState, retry_at: datetime | None = None
    ) -> DeliveryState:
        now = self._clock.now()
        async with self._uow() as tx:
            await tx.deliveries.settle(delivery.sequence, state, now, next_attempt_at=retry_at)
            if state is DeliveryState.SENT:
                # The options a numbered reply ("1", "2") refers to are those last sent.
                current = await tx.channel_states.get(delivery.conversation_id) or ChannelState(
                    delivery.conversation_id
                )
                current.options = delivery.message.buttons
                await tx.channel_states.save(current)
                # Replies go out in order: once the notice turn's last one is sent, so is it.
                await tx.privacy.notice_delivered(
                    delivery.conversation_id, now, sent_sequence=delivery.sequence
                )
            await tx.commit()
        return state
