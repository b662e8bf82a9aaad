"""The gateway's background work for WhatsApp, SMS and Telegram: answering the inbox and
delivering the outbox.

Both loops run as asyncio tasks inside the gateway process, started and stopped by the
app's lifespan. The webhook routes only record a message and wake the inbox loop, so the
provider gets its 2xx in milliseconds. On start-up the inbox loop finds whatever was
accepted but not answered before a crash or restart, and answers it.

Order and parallelism: one conversation's messages are answered one at a time, oldest
first (one drain task per conversation, under the same per-conversation lock the web chat
uses); different conversations run in parallel, up to MAX_TURNS at once. Deliveries go the
same way: one task per conversation sends its messages in sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from app.gateway.metrics import RECONCILED, SENDS, UNCERTAIN, TurnTimer
from app.gateway.turn_locks import TurnLocks
from bot.errors import DialogueUnavailable
from bot.model.channels import Delivery, DeliveryState, InboundMessage
from bot.model.residents import Channel
from bot.ports import ChannelSender, Clock
from bot.services.delivery import DeliveryService, Reconciled
from bot.services.effects import TurnEffects
from bot.services.inbox import ChannelInboxService, Outcome
from channels.twilio_api import TwilioWebhook

log = logging.getLogger(__name__)

MAX_TURNS = 16
MAX_SENDING_CONVERSATIONS = 32
# After the dialogue engine failed a turn, that conversation waits this many poll
# intervals before trying again.
RETRY_POLLS = 5
# Deliveries whose sender died or timed out are looked for this often (a cheap query).
RECONCILE_EVERY_S = 5.0
# Side-effect records older than two days are dropped this often (bot/services/effects.py).
PRUNE_EVERY_S = 3600.0


class ChannelRuntime:
    """What the channel routes and loops share. Built by the composition root
    (app/bootstrap.py, `channel_runtime`) when the gateway starts."""

    def __init__(
        self,
        inbox: ChannelInboxService,
        delivery: DeliveryService,
        effects: TurnEffects,
        senders: Mapping[Channel, ChannelSender],
        locks: TurnLocks,
        clock: Clock,
        *,
        twilio_webhook: TwilioWebhook | None,
        telegram_secret: str,
        poll_interval_s: float,
    ) -> None:
        self.inbox = inbox
        self.delivery = delivery
        self._effects = effects
        self._housekept = {"reconcile": 0.0, "prune": 0.0}
        self.clock = clock
        # Verifies WhatsApp's and SMS's webhooks; None while both are off.
        self.twilio_webhook = twilio_webhook
        # Telegram's webhook secret; empty while Telegram is off.
        self.telegram_secret = telegram_secret
        self.channels = frozenset(senders)
        self._senders = senders
        self._locks = locks
        self._poll_s = poll_interval_s
        self._retry_delay_s = self._poll_s * RETRY_POLLS
        self._inbox_wake = asyncio.Event()
        self._delivery_wake = asyncio.Event()
        self._draining: set[tuple[Channel, str]] = set()
        self._sending: set[str] = set()
        self._turns = asyncio.Semaphore(MAX_TURNS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []

    def is_on(self, channel: Channel) -> bool:
        return channel in self.channels

    def acknowledge_tap(self, callback_query_id: str) -> None:
        """Stop a Telegram button's spinner (answerCallbackQuery), without delaying the
        webhook's answer; a failure only leaves the spinner to time out on its own."""
        sender = self._senders.get(Channel.TELEGRAM)
        answer = getattr(sender, "answer_callback", None)
        if answer is None:
            return
        task = asyncio.create_task(answer(callback_query_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def accept(self, message: InboundMessage) -> bool:
        """Record an inbound message durably and wake the inbox loop; False for a redelivery."""
        entry_id = await self.inbox.accept(message)
        if entry_id is not None:
            self._inbox_wake.set()
        return entry_id is not None

    def start(self) -> None:
        for channel in (Channel.WHATSAPP, Channel.SMS, Channel.TELEGRAM):
            if not self.is_on(channel):
                log.info("%s channel is off: its credentials are not set", channel.value)
        if not self.channels:
            return
        self._loops = [
            asyncio.create_task(self._forever(self._inbox_round, self._inbox_wake)),
            asyncio.create_task(self._forever(self._delivery_round, self._delivery_wake)),
        ]

    async def stop(self) -> None:
        tasks = [*self._loops, *self._tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops.clear()
        self._tasks.clear()

    async def idle(self, timeout_s: float = 10.0) -> None:
        """Wait until nothing is being answered or sent, retries included (tests, shutdown).

        The database is asked first and the in-memory task sets second: work moves from the
        inbox to a drain task to the outbox to a send task, and each step starts its task
        before its database row changes, so work seen in neither place is truly done."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            stored = await self.inbox.pending(1) or await self.delivery.outstanding(1)
            if not stored and not self._tasks and not self._draining and not self._sending:
                return
            self._inbox_wake.set()
            self._delivery_wake.set()
            await asyncio.sleep(0.02)
        raise TimeoutError("channel work still running")

    # --- loops ------------------------------------------------------------------------------
    async def _forever(self, round_: Callable[[], Awaitable[None]], wake: asyncio.Event) -> None:
        while True:
            wake.clear()
            try:
                await round_()
            except Exception:
                log.exception("channel loop round failed; trying again")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), self._poll_s)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _inbox_round(self) -> None:
        for entry in await self.inbox.pending(200):
            key = (entry.message.channel, entry.message.address)
            if key not in self._draining and self.is_on(key[0]):
                self._draining.add(key)
                self._spawn(self._drain(key))

    async def _drain(self, key: tuple[Channel, str]) -> None:
        """Answer one conversation's pending messages, oldest first, until none is left."""
        retry = False
        try:
            while not retry:
                # Read under the lock: another gateway process may have answered the entry
                # while this one waited for the lock (the lock is shared through Redis).
                async with self._turns, self._locks.hold(key):
                    entries = await self.inbox.pending_for(*key)
                    if not entries:
                        break
                    with TurnTimer(key[0].value):
                        processed = await self.inbox.process(entries[0])
                if processed.outcome is Outcome.RETRY:
                    retry = True
                    break
                self._delivery_wake.set()
            if retry:
                await asyncio.sleep(self._retry_delay_s)
        except DialogueUnavailable as exc:  # the turn lease (Redis) cannot be taken now
            log.warning("turn postponed for a %s conversation: %s", key[0].value, exc)
            await asyncio.sleep(self._retry_delay_s)
        except Exception:
            log.exception("answering a %s conversation failed", key[0].value)
            await asyncio.sleep(self._retry_delay_s)
        finally:
            self._draining.discard(key)
            self._inbox_wake.set()  # a message may have arrived while this one was ending

    async def _delivery_round(self) -> None:
        await self._housekeeping()
        by_conversation: dict[str, list[Delivery]] = {}
        for delivery in await self.delivery.due(500):
            by_conversation.setdefault(delivery.conversation_id, []).append(delivery)
        for conversation_id, deliveries in by_conversation.items():
            if conversation_id in self._sending or len(self._sending) >= MAX_SENDING_CONVERSATIONS:
                continue
            self._sending.add(conversation_id)
            self._spawn(self._send_all(conversation_id, deliveries))

    async def _housekeeping(self) -> None:
        """Reconcile deliveries cut off by a crash or a timeout (at start-up too: the first
        round runs at once), and now and then forget old side-effect records."""
        now = asyncio.get_running_loop().time()
        if now - self._housekept["reconcile"] >= RECONCILE_EVERY_S:
            self._housekept["reconcile"] = now
            for delivery, outcome in await self.delivery.reconcile():
                if outcome is not Reconciled.BUSY:
                    RECONCILED.labels(delivery.channel.value, outcome.value).inc()
                if outcome is Reconciled.UNCERTAIN:
                    UNCERTAIN.labels(delivery.channel.value).inc()
        if now - self._housekept["prune"] >= PRUNE_EVERY_S:
            self._housekept["prune"] = now
            await self._effects.prune()

    async def _send_all(self, conversation_id: str, deliveries: list[Delivery]) -> None:
        try:
            for delivery in deliveries:
                state = await self.delivery.deliver(delivery)
                SENDS.labels(delivery.channel.value, state.value).inc()
                if state is DeliveryState.UNCERTAIN and not self.delivery.can_ask(delivery):
                    UNCERTAIN.labels(delivery.channel.value).inc()
                if state not in (
                    DeliveryState.SENT,
                    DeliveryState.FAILED,
                    DeliveryState.SUPPRESSED,
                ):
                    # Keep the order: the rest waits for this one's retry, its other sender,
                    # or the provider's word on it.
                    break
        except Exception:
            log.exception("delivering to a conversation failed")
        finally:
            self._sending.discard(conversation_id)
            self._delivery_wake.set()
