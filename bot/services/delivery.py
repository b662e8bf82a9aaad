"""Sending queued outbox messages to WhatsApp, SMS and Telegram, each at most once.

A delivery is *claimed* (committed as SENDING) before the provider is called and settled
after. A crash or a timeout between the two leaves the row SENDING or UNCERTAIN: the
provider may well have the message, and a resident paying bills must not get a receipt
twice or be asked to pay twice. Such rows are *reconciled* instead of sent again: once the
sender has surely stopped (SENDING for longer than its longest send, e.g. after a crash) or
a little after a timeout, the provider is asked. Twilio lists the messages sent to a number:
one it has is marked SENT, one it has not is sent (it never got it). Telegram cannot tell:
those stay UNCERTAIN for good, are counted (`bot_deliveries_uncertain_total`) and logged.
Failures that surely sent nothing (a 429 or 5xx that outlived the sender's own retries, a
network error before the request left) go back to PENDING and are retried with back-off.

Order: callers send one conversation's messages one at a time, oldest first, and a message
waits while an earlier one of its conversation waits out a back-off, is being sent or is
being reconciled (`due(in_order=True)`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum

from bot.errors import DeliveryFailed, DeliveryUncertain
from bot.model.channels import ChannelState, Delivery, DeliveryKind, DeliveryState
from bot.model.residents import Channel
from bot.ports import ChannelSender, ChannelUnitOfWorkFactory, Clock, SentMessageLookup

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(seconds=30)
# A sender that cannot tell how long it takes: a claim older than this lost its sender.
LONGEST_SEND = timedelta(minutes=2)
# After a timeout, the provider is asked this long after (it may still be creating it).
ASK_AFTER = timedelta(seconds=20)
# A provider that cannot be asked is tried again this often, until this late.
ASK_AGAIN = timedelta(minutes=1)
ASK_UNTIL = timedelta(hours=6)
# The provider's clock and ours may differ a little.
CLOCK_SKEW = timedelta(seconds=30)


class Reconciled(str, Enum):
    """What reconciling a delivery came to."""

    FOUND = "found"  # the provider has it: SENT, not sent again
    RESENT = "resent"  # the provider never got it: PENDING, sent again at once
    ASK_AGAIN = "ask_again"  # the provider could not be asked this time
    UNCERTAIN = "uncertain"  # nobody can tell: never sent again, counted and logged
    BUSY = "busy"  # another worker is reconciling it


class DeliveryService:
    def __init__(
        self,
        uow: ChannelUnitOfWorkFactory,
        clock: Clock,
        senders: Mapping[Channel, ChannelSender],
        retry_backoff: timedelta = RETRY_BACKOFF,
        ask_after: timedelta = ASK_AFTER,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._senders = dict(senders)
        self._retry_backoff = retry_backoff
        self._ask_after = ask_after

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels that can send (have credentials)."""
        return frozenset(self._senders)

    def can_ask(self, delivery: Delivery) -> bool:
        """Whether the provider of `delivery`'s channel can tell if it has a message."""
        return isinstance(self._senders.get(delivery.channel), SentMessageLookup)

    async def due(self, limit: int = 100) -> list[Delivery]:
        """Messages that may go now to a channel that is on, oldest first; none that must
        wait for an earlier message of its conversation."""
        async with self._uow() as tx:
            found = await tx.deliveries.due(self._clock.now(), limit, in_order=True)
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
        delivery = _windowed(delivery, now)
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
            if isinstance(sender, SentMessageLookup):  # the provider will be asked
                ask_at = self._clock.now() + self._ask_after
                return await self._settle(delivery, DeliveryState.UNCERTAIN, ask_at)
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
            retry_at = self._clock.now() + self._retry_backoff * 2 ** (attempts - 1)
            return await self._settle(delivery, DeliveryState.PENDING, retry_at)
        await self._settle(delivery, DeliveryState.SENT)
        return DeliveryState.SENT

    async def reconcile(self, limit: int = 100) -> list[tuple[Delivery, Reconciled]]:
        """Settle deliveries whose sender died mid-send or timed out, by asking the provider
        (module docstring); what each came to."""
        now = self._clock.now()
        async with self._uow() as tx:
            found = await tx.deliveries.to_reconcile(now, now - self._shortest_claim(), limit)
        outcomes = []
        for delivery in found:
            sender = self._senders.get(delivery.channel)
            if sender is None or delivery.updated_at is None:
                continue
            if delivery.state is DeliveryState.SENDING and (
                now - delivery.updated_at < _longest_send(sender)
            ):
                continue  # this channel's sends take longer: it may still be under way
            outcomes.append((delivery, await self._reconcile(delivery, sender)))
        return outcomes

    def _shortest_claim(self) -> timedelta:
        return min((_longest_send(s) for s in self._senders.values()), default=LONGEST_SEND)

    async def _reconcile(self, delivery: Delivery, sender: ChannelSender) -> Reconciled:
        assert delivery.updated_at is not None
        now = self._clock.now()
        async with self._uow() as tx:
            if not await tx.deliveries.reclaim(delivery, now):
                return Reconciled.BUSY
            await tx.commit()
        what = f"delivery {delivery.sequence} on {delivery.channel.value}"
        found = None
        if isinstance(sender, SentMessageLookup):
            # SENDING rows were claimed at `updated_at`; UNCERTAIN ones timed out then, so
            # their request left up to one send earlier.
            since = delivery.updated_at - CLOCK_SKEW
            if delivery.state is DeliveryState.UNCERTAIN:
                since -= _longest_send(sender)
            found = await sender.find_sent(_windowed(delivery, delivery.updated_at), since)
        if found is True:
            log.info("%s reconciled: the provider has it", what)
            await self._settle(delivery, DeliveryState.SENT)
            return Reconciled.FOUND
        if found is False:
            log.info("%s reconciled: the provider never got it; sending it", what)
            await self._settle(delivery, DeliveryState.PENDING, now)
            return Reconciled.RESENT
        queued_at = delivery.queued_at or delivery.updated_at
        if isinstance(sender, SentMessageLookup) and now - queued_at < ASK_UNTIL:
            log.warning("%s: the provider could not be asked; asking again later", what)
            await self._settle(delivery, DeliveryState.UNCERTAIN, now + ASK_AGAIN)
            return Reconciled.ASK_AGAIN
        log.error("%s uncertain: it may or may not have reached the resident", what)
        await self._settle(delivery, DeliveryState.UNCERTAIN)
        return Reconciled.UNCERTAIN

    async def _settle(
        self, delivery: Delivery, state: DeliveryState, retry_at: datetime | None = None
    ) -> DeliveryState:
        """Record the outcome; `retry_at` is when to try again (PENDING) or to ask the
        provider (UNCERTAIN)."""
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


def _windowed(delivery: Delivery, at: datetime) -> Delivery:
    """`delivery` with whether WhatsApp's 24-hour window was open at `at` (replies: always)."""
    window = delivery.kind is DeliveryKind.REPLY or (
        delivery.last_inbound_at is not None
        and ChannelState(
            delivery.conversation_id, last_inbound_at=delivery.last_inbound_at
        ).in_session_window(at)
    )
    return replace(delivery, in_session_window=window)


def _longest_send(sender: ChannelSender) -> timedelta:
    if isinstance(sender, SentMessageLookup):
        return timedelta(seconds=sender.longest_send_s)
    return LONGEST_SEND
