"""Sending due reminders at the providers' rate, at most once per (bill, kind).

A worker claims a batch under a lease, then, per chunk the rate limiter allows, re-checks
that the bill is still unpaid and moves the chunk to SENDING in one transaction before
calling the provider. A row found SENDING after a crash is never sent again (it may have
arrived) and becomes UNCERTAIN; CLAIMED rows of a dead worker go back to the pool when its
lease expires. So a crash costs at most the one chunk that was in flight, never a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import BotError, DeliveryFailed, DeliveryUncertain
from bot.messages import render
from bot.model.billing import Biller
from bot.model.calendar import format_date
from bot.model.channels import WHATSAPP_WINDOW, Delivery, DeliveryKind
from bot.model.money import format_rupees
from bot.model.outages import Outage
from bot.model.outbound import Button, OutboundMessage
from bot.model.reminders import (
    QuietHours,
    Reminder,
    ReminderKind,
    ReminderRecipient,
    ReminderState,
)
from bot.model.residents import Channel, Language
from bot.ports import (
    ChannelSender,
    Clock,
    RateLimiter,
    ReminderUnitOfWork,
    ReminderUnitOfWorkFactory,
)
from bot.services.outage_notices import outage_notice


class BillerNames(Protocol):
    """The part of the BillerDirectory a dispatcher needs: names, no fetching."""

    def get(self, biller_id: str) -> Biller: ...


class ReminderEmail(Protocol):
    """Emails a reminder just delivered in the chat to the resident's confirmed address, if
    any (bot/services/email_delivery.py). Never raises."""

    async def send(
        self,
        reminder: Reminder,
        recipient: ReminderRecipient,
        biller: str,
        notice: OutboundMessage | None = None,
    ) -> bool: ...


log = logging.getLogger(__name__)

PAY_PAYLOAD = "/pay_bill"
MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(seconds=30)


@dataclass(frozen=True)
class SenderLane:
    """One provider sender (a WhatsApp number, an SMS long code, the Telegram bot) and its
    rate limit. `key` names its bucket in the shared rate limiter."""

    key: str
    sender: ChannelSender
    rate_per_s: float | None  # None: no limit (a stand-in provider, measuring the ceiling)
    burst: int = 1


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    uncertain: int = 0
    retried: int = 0
    expired: int = 0
    by_state: dict[str, int] = field(default_factory=dict)

    def add(self, state: ReminderState, n: int = 1) -> None:
        self.by_state[state.value] = self.by_state.get(state.value, 0) + n


# Where a button carries its payload by itself. WhatsApp and SMS show buttons as numbered
# options that only mean something against the options stored for the conversation, which
# the bulk dispatcher does not write: there "reply PAY" (in the text) is the one step.
BUTTON_CHANNELS = frozenset({Channel.WEBCHAT, Channel.TELEGRAM})


def reminder_message(
    reminder: Reminder, language: Language, biller_name: str, with_button: bool = True
) -> OutboundMessage:
    text = render(
        f"reminder_{reminder.kind.value}",
        language,
        biller=biller_name,
        consumer=reminder.consumer_hint,
        amount=format_rupees(reminder.amount_paise),
        due=format_date(reminder.due_on, language),
    )
    if not with_button:
        return OutboundMessage(text=text)
    button = Button(render("reminder_pay_button", language), PAY_PAYLOAD)
    return OutboundMessage(text=text, buttons=(button,))


class ReminderDispatcher:
    """Sends due reminders. Any number of these may run at once, in any processes."""

    def __init__(
        self,
        uow: ReminderUnitOfWorkFactory,
        clock: Clock,
        billers: BillerNames,
        lanes: Mapping[Channel, Sequence[SenderLane]],
        limiter: RateLimiter,
        *,
        batch_size: int = 2000,
        chunk_size: int = 200,
        lease: timedelta = timedelta(minutes=2),
        tick_s: float = 0.05,
        max_in_flight: int = 16,
        quiet: QuietHours | None = None,
        email: ReminderEmail | None = None,
    ) -> None:
        self._email = email
        self._uow = uow
        self._clock = clock
        self._billers = billers
        self._lanes = {channel: list(lanes) for channel, lanes in lanes.items() if lanes}
        self._limiter = limiter
        self._batch_size = batch_size
        self._chunk_size = chunk_size
        self._lease = lease
        self._tick_s = tick_s
        self._max_in_flight = max_in_flight
        self._quiet = quiet or QuietHours()

    def _lane(self, recipient: ReminderRecipient) -> SenderLane | None:
        lanes = self._lanes.get(recipient.channel)
        if not lanes:
            return None
        # The same resident always hears from the same sender number.
        return lanes[zlib.crc32(recipient.conversation_id.encode()) % len(lanes)]

    async def run_once(self) -> DispatchReport:
        """Claim one batch of due reminders and send it; an empty report when none is due."""
        report = DispatchReport()
        token = uuid.uuid4().hex
        now = self._clock.now()
        if self._quiet.contains(now):
            # Whatever is due (a retry, a dispatcher that was down) waits for the morning.
            return report
        async with self._uow() as tx:
            report.expired = await tx.reminders.expire_in_flight(now)
            batch = await tx.reminders.claim(now, self._batch_size, token, now + self._lease)
            await tx.commit()
        report.claimed = len(batch)
        if not batch:
            return report
        async with self._uow() as tx:
            recipients = await tx.reminders.recipients([r.resident_id for r in batch])
        by_lane: dict[str, list[tuple[Reminder, ReminderRecipient]]] = {}
        lanes: dict[str, SenderLane] = {}
        unreachable: dict[int, ReminderState] = {}
        for reminder in batch:
            recipient = recipients.get(reminder.resident_id)
            lane = None if recipient is None else self._lane(recipient)
            if recipient is None or lane is None or not recipient.enabled or recipient.opted_out:
                unreachable[reminder.reminder_id] = ReminderState.SKIPPED
                continue
            lanes[lane.key] = lane
            by_lane.setdefault(lane.key, []).append((reminder, recipient))
        if unreachable:
            async with self._uow() as tx:
                await tx.reminders.settle(unreachable, now)
                await tx.commit()
            report.skipped += len(unreachable)
            report.add(ReminderState.SKIPPED, len(unreachable))
        await self._drain(by_lane, lanes, token, report)
        return report

    async def run_until_idle(self, max_batches: int = 1_000_000) -> DispatchReport:
        """Batches until nothing is due; the totals."""
        total = DispatchReport()
        for _ in range(max_batches):
            report = await self.run_once()
            for name in ("claimed", "sent", "failed", "skipped", "uncertain", "retried", "expired"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            for state, n in report.by_state.items():
                total.by_state[state] = total.by_state.get(state, 0) + n
            if not report.claimed:
                break
        return total

    async def _drain(
        self,
        queues: dict[str, list[tuple[Reminder, ReminderRecipient]]],
        lanes: Mapping[str, SenderLane],
        token: str,
        report: DispatchReport,
    ) -> None:
        """Every `tick`, take from each lane what its bucket grants, and send that as one
        chunk (one transaction before, one after, whatever the number of lanes) while the
        next tick's tokens accrue: a few chunks are in flight at once."""
        in_flight: set[asyncio.Task[None]] = set()
        per_lane = max(1, self._chunk_size // max(len(queues), 1))
        while any(queues.values()):
            keys = [key for key, queue in queues.items() if queue]
            wanted = [min(per_lane, len(queues[key])) for key in keys]
            granted = await asyncio.gather(
                *(self._grant(lanes[key], n) for key, n in zip(keys, wanted, strict=True))
            )
            chunk: list[tuple[SenderLane, Reminder, ReminderRecipient]] = []
            for key, n in zip(keys, granted, strict=True):
                taken, queues[key] = queues[key][:n], queues[key][n:]
                chunk.extend((lanes[key], r, who) for r, who in taken)
            if chunk:
                task = asyncio.create_task(self._send_chunk(chunk, token, report))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                while len(in_flight) >= self._max_in_flight:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            if granted != wanted:  # some bucket ran dry: let it refill
                await asyncio.sleep(self._tick_s)
        if in_flight:
            await asyncio.gather(*in_flight)

    async def _grant(self, lane: SenderLane, wanted: int) -> int:
        if lane.rate_per_s is None:
            return wanted
        return await self._limiter.acquire(lane.key, wanted, lane.rate_per_s, lane.burst)

    async def _send_chunk(
        self,
        chunk: list[tuple[SenderLane, Reminder, ReminderRecipient]],
        token: str,
        report: DispatchReport,
    ) -> None:
        now = self._clock.now()
        async with self._uow() as tx:
            # Just before sending: a bill paid a moment ago is not reminded, an outage
            # called off or already begun is not announced.
            skip = await tx.reminders.paid([r for _, r, _ in chunk if r.kind.about_bill])
            notices = [r for _, r, _ in chunk if r.kind is ReminderKind.PLANNED_OUTAGE]
            outages = await tx.outages.get([(r.biller_id, r.bill_number) for r in notices])
            for notice in notices:
                outage = outages.get((notice.biller_id, notice.bill_number))
                if outage is None or not outage.ahead(now):
                    skip.add(notice.reminder_id)
            wanted = [r.reminder_id for _, r, _ in chunk if r.reminder_id not in skip]
            moving = await tx.reminders.start_sending(wanted, token, now, now + self._lease)
            if skip:
                await tx.reminders.settle(dict.fromkeys(skip, ReminderState.SKIPPED), now)
            await tx.commit()  # the at-most-once point for `moving`
        report.skipped += len(skip)
        report.add(ReminderState.SKIPPED, len(skip))
        todo = [(lane, r, who) for lane, r, who in chunk if r.reminder_id in moving]
        results = await asyncio.gather(
            *(
                self._send_one(lane, r, who, outages.get((r.biller_id, r.bill_number)))
                for lane, r, who in todo
            )
        )
        outcomes: dict[int, ReminderState] = {}
        retries: dict[int, datetime] = {}
        done = self._clock.now()
        for (_, reminder, _), outcome in zip(todo, results, strict=True):
            if outcome is None:
                retries[reminder.reminder_id] = done + RETRY_BACKOFF * 2**reminder.attempts
            else:
                outcomes[reminder.reminder_id] = outcome
        async with self._uow() as tx:
            await tx.reminders.settle(outcomes, done)
            await tx.reminders.retry(retries, done)
            await self._offer_pay(tx, todo, outcomes)
            await tx.commit()
        report.retried += len(retries)
        for state in outcomes.values():
            report.add(state)
            if state is ReminderState.SENT:
                report.sent += 1
            elif state is ReminderState.FAILED:
                report.failed += 1
            elif state is ReminderState.UNCERTAIN:
                report.uncertain += 1

    async def _offer_pay(
        self,
        tx: ReminderUnitOfWork,
        sent: list[tuple[SenderLane, Reminder, ReminderRecipient]],
        outcomes: dict[int, ReminderState],
    ) -> None:
        """On WhatsApp and SMS the reminder says "reply 1 or PAY": "1" means the Pay option
        only once it is remembered as the option last offered to that conversation."""
        by_language: dict[Language, list[str]] = {}
        for _, reminder, recipient in sent:
            numbered = recipient.channel not in BUTTON_CHANNELS and reminder.kind.about_bill
            if numbered and outcomes.get(reminder.reminder_id) is ReminderState.SENT:
                by_language.setdefault(recipient.language, []).append(recipient.conversation_id)
        for language, conversation_ids in by_language.items():
            button = Button(render("reminder_pay_button", language), PAY_PAYLOAD)
            await tx.channel_states.remember_options(conversation_ids, (button,))

    async def _send_one(
        self,
        lane: SenderLane,
        reminder: Reminder,
        recipient: ReminderRecipient,
        outage: Outage | None = None,
    ) -> ReminderState | None:
        """The final state, or None to retry later."""
        now = self._clock.now()
        try:
            biller_name = self._billers.get(reminder.biller_id).short_name
        except BotError:
            biller_name = reminder.biller_id
        in_window = recipient.last_inbound_at is not None and (
            now - recipient.last_inbound_at < WHATSAPP_WINDOW
        )
        if outage is not None:
            message = outage_notice(
                outage,
                reminder.consumer_hint,
                recipient.language,
                biller_name,
                short=recipient.channel is Channel.SMS,
            )
        else:
            message = reminder_message(
                reminder,
                recipient.language,
                biller_name,
                with_button=recipient.channel in BUTTON_CHANNELS,
            )
        delivery = Delivery(
            sequence=reminder.reminder_id,
            conversation_id=recipient.conversation_id,
            channel=recipient.channel,
            address=recipient.address,
            message=message,
            language=recipient.language,
            kind=DeliveryKind.PUSH,
            attempts=reminder.attempts,
            opted_out=recipient.opted_out,
            last_inbound_at=recipient.last_inbound_at,
            in_session_window=in_window,
        )
        try:
            await lane.sender.send(delivery)
        except DeliveryUncertain:
            return ReminderState.UNCERTAIN
        except DeliveryFailed as exc:
            if exc.permanent or reminder.attempts + 1 >= MAX_ATTEMPTS:
                return ReminderState.FAILED
            return None
        except Exception:  # a bug in a sender must not lose the whole chunk's outcomes
            log.exception("reminder %d: sender broke", reminder.reminder_id)
            return ReminderState.UNCERTAIN
        if self._email is not None and recipient.email is not None:
            # In addition to the chat, once: only after the chat send that settles this row
            # (a retried row had no SENT, so it never emailed). A failure is logged there.
            # A planned-outage notice is its own text (the chat's, in full: not the SMS cut).
            notice = (
                outage_notice(
                    outage, reminder.consumer_hint, recipient.language, biller_name, False
                )
                if outage is not None
                else None
            )
            await self._email.send(reminder, recipient, biller_name, notice)
        return ReminderState.SENT
