"""Bill reminders: consent, scheduling, bill discovery, and dispatch at the providers' rate.

Dispatch is at most once per (bill, kind): a worker claims a batch under a lease, then, per
chunk the rate limiter allows, re-checks that the bill is still unpaid and moves the chunk to
SENDING in one transaction before calling the provider. A row found SENDING after a crash is
never sent again (it may have arrived) and becomes UNCERTAIN; CLAIMED rows of a dead worker
go back to the pool when its lease expires. So a crash costs at most the one chunk that was
in flight, never a duplicate.
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

from bot.errors import BillerUnavailable, BotError, DeliveryFailed, DeliveryUncertain
from bot.messages import render
from bot.model.billing import Bill, Biller, SavedAccount
from bot.model.calendar import format_date
from bot.model.channels import WHATSAPP_WINDOW, Delivery, DeliveryKind
from bot.model.identifiers import mask
from bot.model.money import format_rupees
from bot.model.outbound import Button, OutboundMessage
from bot.model.reminders import (
    ALL_KINDS,
    AccountPolicy,
    NewReminder,
    PlannedReminder,
    QuietHours,
    Reminder,
    ReminderConsent,
    ReminderKind,
    ReminderPolicy,
    ReminderRecipient,
    ReminderState,
    plan_reminders,
    replan,
)
from bot.model.residents import Channel, Language
from bot.ports import (
    BillerDirectory,
    ChannelSender,
    Clock,
    RateLimiter,
    ReminderUnitOfWork,
    ReminderUnitOfWorkFactory,
)

log = logging.getLogger(__name__)


class BillerNames(Protocol):
    """The part of the BillerDirectory a dispatcher needs: names, no fetching."""

    def get(self, biller_id: str) -> Biller: ...


PAY_PAYLOAD = "/pay_bill"
MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(seconds=30)


# --- consent ---------------------------------------------------------------------------------
class ReminderConsents:
    """A resident's yes/no to reminders, and where they go."""

    def __init__(self, uow: ReminderUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record_at_linking(
        self, resident_id: str, conversation_id: str, language: Language
    ) -> ReminderConsent:
        """Consent given when linking (the linking message says so): recorded with its time.
        A resident who had said "stop reminders" before stays opted out."""
        now = self._clock.now()
        async with self._uow() as tx:
            consent = await tx.consents.get(resident_id)
            if consent is None:
                consent = ReminderConsent(resident_id, conversation_id, language, True, now, now)
                await tx.consents.save(consent)
                await tx.commit()
            return consent

    async def set_enabled(
        self, resident_id: str, conversation_id: str, language: Language, enabled: bool
    ) -> ReminderConsent:
        """ "stop reminders" (False) or "remind me" (True), from this conversation, which
        then becomes where reminders go, in this language."""
        now = self._clock.now()
        async with self._uow() as tx:
            consent = await tx.consents.get(resident_id)
            if consent is None:
                consent = ReminderConsent(resident_id, conversation_id, language, enabled, now, now)
            else:
                consent.conversation_id = conversation_id
                consent.language = language
                consent.enabled = enabled
                consent.changed_at = now
                if enabled:
                    consent.consented_at = now
            await tx.consents.save(consent)
            await tx.commit()
        return consent


# --- policy ------------------------------------------------------------------------------------
async def effective_policies(
    tx: ReminderUnitOfWork, resident_id: str, accounts: Sequence[SavedAccount]
) -> dict[str, ReminderPolicy]:
    """Each account's policy: its own when it has one, else the resident's (else defaults)."""
    consent = await tx.consents.get(resident_id)
    default = consent.policy if consent is not None else ReminderPolicy()
    own = await tx.consents.account_policies([a.account_id for a in accounts])
    return {
        a.account_id: own[a.account_id].policy if a.account_id in own else default for a in accounts
    }


@dataclass(frozen=True)
class PolicyChange:
    """One change from the settings buttons: a number of days before the due date (which
    also turns the "before due" reminder on), or one kind flipped on/off."""

    days_before: int | None = None
    toggle: ReminderKind | None = None
    on: bool | None = None  # with `toggle`: set it on/off rather than flip it

    def apply(self, policy: ReminderPolicy) -> ReminderPolicy:
        if self.days_before is not None:
            kinds = policy.kinds | {ReminderKind.BEFORE_DUE}
            return ReminderPolicy(self.days_before, kinds, policy.send_time, policy.quiet)
        if self.toggle is not None:
            on = self.toggle not in policy.kinds if self.on is None else self.on
            kinds = policy.kinds | {self.toggle} if on else policy.kinds - {self.toggle}
            return ReminderPolicy(policy.days_before, kinds, policy.send_time, policy.quiet)
        return policy


@dataclass(frozen=True)
class ReminderSettingsView:
    """What the settings screen shows: the resident's policy, the saved accounts (in the
    order their buttons are numbered) and each account's effective policy."""

    consent: ReminderConsent
    accounts: tuple[SavedAccount, ...]
    policies: Mapping[str, ReminderPolicy]
    overridden: frozenset[str]
    rescheduled: int = 0

    def policy_for(self, account_id: str | None) -> ReminderPolicy:
        return self.consent.policy if account_id is None else self.policies[account_id]


class ReminderSettings:
    """Shows and changes a resident's reminder policy, for all accounts or one, and
    reschedules the pending reminders at once (in the same transaction)."""

    def __init__(self, uow: ReminderUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def view(
        self, resident_id: str, conversation_id: str, language: Language
    ) -> ReminderSettingsView:
        async with self._uow() as tx:
            consent = await tx.consents.get(resident_id)
            if consent is None:
                now = self._clock.now()
                consent = ReminderConsent(resident_id, conversation_id, language, True, now, now)
            return await self._view(tx, consent)

    async def _view(
        self, tx: ReminderUnitOfWork, consent: ReminderConsent, rescheduled: int = 0
    ) -> ReminderSettingsView:
        accounts = tuple(await tx.accounts.list_for(consent.resident_id))
        own = await tx.consents.account_policies([a.account_id for a in accounts])
        policies = {
            a.account_id: own[a.account_id].policy if a.account_id in own else consent.policy
            for a in accounts
        }
        return ReminderSettingsView(consent, accounts, policies, frozenset(own), rescheduled)

    async def change(
        self,
        resident_id: str,
        conversation_id: str,
        language: Language,
        account_id: str | None,
        change: PolicyChange,
    ) -> ReminderSettingsView:
        """Apply `change` to one saved account (`account_id`, which gets its own policy) or
        to all (None: the resident's policy and every account's own)."""
        now = self._clock.now()
        async with self._uow() as tx:
            accounts = await tx.accounts.list_for(resident_id)
            ids = [a.account_id for a in accounts]
            if account_id is not None and account_id not in ids:
                raise LookupError("not one of the resident's saved accounts")
            consent = await tx.consents.get(resident_id)
            if consent is None:
                consent = ReminderConsent(resident_id, conversation_id, language, True, now, now)
            own = await tx.consents.account_policies(ids)
            if account_id is None:
                new = change.apply(consent.policy)
                consent.days_before, consent.kinds = new.days_before, new.kinds
                if change.toggle is not None:  # every account ends up the same way round
                    change = PolicyChange(toggle=change.toggle, on=change.toggle in new.kinds)
                for policy in own.values():
                    updated = change.apply(policy.policy)
                    await tx.consents.save_account_policy(
                        AccountPolicy(policy.account_id, updated.days_before, updated.kinds), now
                    )
            else:
                base = own[account_id].policy if account_id in own else consent.policy
                updated = change.apply(base)
                await tx.consents.save_account_policy(
                    AccountPolicy(account_id, updated.days_before, updated.kinds), now
                )
            consent.changed_at = now
            await tx.consents.save(consent)
            policies = await effective_policies(tx, resident_id, accounts)
            changes = {}
            for reminder in await tx.reminders.pending(ids):
                target = replan(reminder, policies[reminder.account_id], now)
                if target is not None:
                    changes[reminder.reminder_id] = target
            moved = await tx.reminders.reschedule(changes, now)
            view = await self._view(tx, consent, moved)
            await tx.commit()
        return view


# --- scheduling and discovery ----------------------------------------------------------------
@dataclass
class DiscoveryReport:
    checked: int = 0
    new_bills: int = 0
    scheduled: int = 0
    paid_elsewhere: int = 0
    unavailable: int = 0


class ReminderScheduler:
    """Puts bills into the schedule and finds new ones by re-fetching saved accounts."""

    def __init__(
        self,
        uow: ReminderUnitOfWorkFactory,
        clock: Clock,
        billers: BillerDirectory,
        limiter: RateLimiter,
        *,
        check_every: timedelta = timedelta(days=1),
        biller_rate_per_s: float = 5.0,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._billers = billers
        self._limiter = limiter
        self._check_every = check_every
        self._biller_rate = biller_rate_per_s

    async def schedule_bill(
        self, account: SavedAccount, bill: Bill, policy: ReminderPolicy | None = None
    ) -> int:
        """Plan the reminders of an unpaid bill under `policy` (default: the account's
        effective policy); returns how many were new (0 when the bill was scheduled before:
        scheduling is idempotent). Kinds the policy has off are stored TURNED_OFF, so that
        turning them on later schedules them (each (bill, kind) still exists once)."""
        if not bill.is_due:
            return 0
        now = self._clock.now()
        if policy is None:
            async with self._uow() as tx:
                policy = (await effective_policies(tx, account.resident_id, [account]))[
                    account.account_id
                ]
        wanted = plan_reminders(bill.due_on, now, policy)
        every = ReminderPolicy(policy.days_before, ALL_KINDS, policy.send_time, policy.quiet)
        on = {p.kind for p in wanted}
        off = [p for p in plan_reminders(bill.due_on, now, every) if p.kind not in on]

        def rows(plans: list[PlannedReminder], state: ReminderState) -> list[NewReminder]:
            return [
                NewReminder(
                    resident_id=account.resident_id,
                    account_id=account.account_id,
                    biller_id=account.biller_id,
                    bill_number=bill.bill_number,
                    kind=p.kind,
                    amount_paise=bill.outstanding_paise,
                    consumer_hint=mask(account.consumer_number),
                    due_on=bill.due_on,
                    send_at=p.send_at,
                    state=state,
                )
                for p in plans
            ]

        async with self._uow() as tx:
            added = await tx.reminders.schedule(rows(wanted, ReminderState.SCHEDULED), now)
            await tx.reminders.schedule(rows(off, ReminderState.TURNED_OFF), now)
            await tx.commit()
        return added

    def _next_check(self, account_id: str, now: datetime) -> datetime:
        # Spread accounts over the interval by a stable hash, so a million accounts are not
        # all due in the same minute after the first run.
        spread = zlib.crc32(account_id.encode()) % max(int(self._check_every.total_seconds()), 1)
        return now + self._check_every / 2 + timedelta(seconds=spread // 2)

    async def discover(self, limit: int = 200) -> DiscoveryReport:
        """Re-fetch the bills of saved accounts due a check (residents who consented), at
        most `biller_rate_per_s` fetches per second per biller: schedule new bills, cancel
        the reminders of bills paid elsewhere (e-Mitra, biller office)."""
        report = DiscoveryReport()
        now = self._clock.now()
        async with self._uow() as tx:
            due = await tx.bill_checks.due(now, limit)
            mobiles = {}
            for account, _ in due:
                resident = await tx.residents.get(account.resident_id)
                if resident is not None:
                    mobiles[account.resident_id] = resident.mobile
        for account, last_bill in due:
            if account.resident_id not in mobiles:
                continue
            report.checked += 1
            while not await self._limiter.acquire(
                f"biller:{account.biller_id}", 1, self._biller_rate, 1
            ):
                await asyncio.sleep(1 / self._biller_rate)
            try:
                biller = self._billers.get(account.biller_id)
                bill: Bill | None = await self._billers.fetch_bill(
                    biller, account.consumer_number, mobiles[account.resident_id]
                )
            except BillerUnavailable:
                report.unavailable += 1
                async with self._uow() as tx:
                    retry_at = self._clock.now() + timedelta(hours=1)
                    await tx.bill_checks.record(account.account_id, last_bill, now, retry_at)
                    await tx.commit()
                continue
            except BotError:  # the account no longer exists at the biller
                bill = None
            seen = bill.bill_number if bill is not None else last_bill
            async with self._uow() as tx:
                if bill is not None and not bill.is_due:
                    cancelled = await tx.reminders.cancel_bill(
                        account.account_id, bill.bill_number, now
                    )
                    report.paid_elsewhere += 1 if cancelled else 0
                if last_bill is not None and bill is not None and bill.bill_number != last_bill:
                    # A new bill replaces the old one: its pending reminders are stale.
                    await tx.reminders.cancel_bill(account.account_id, last_bill, now)
                await tx.bill_checks.record(
                    account.account_id, seen, now, self._next_check(account.account_id, now)
                )
                await tx.commit()
            if bill is not None and bill.is_due and bill.bill_number != last_bill:
                added = await self.schedule_bill(account, bill)
                report.new_bills += 1 if added else 0
                report.scheduled += added
        return report


# --- dispatch --------------------------------------------------------------------------------
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
    ) -> None:
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
            # Just before sending: a bill paid a moment ago is not reminded.
            paid = await tx.reminders.paid([r for _, r, _ in chunk])
            wanted = [r.reminder_id for _, r, _ in chunk if r.reminder_id not in paid]
            moving = await tx.reminders.start_sending(wanted, token, now, now + self._lease)
            if paid:
                await tx.reminders.settle(dict.fromkeys(paid, ReminderState.SKIPPED), now)
            await tx.commit()  # the at-most-once point for `moving`
        report.skipped += len(paid)
        report.add(ReminderState.SKIPPED, len(paid))
        todo = [(lane, r, who) for lane, r, who in chunk if r.reminder_id in moving]
        results = await asyncio.gather(*(self._send_one(*item) for item in todo))
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

    async def _send_one(
        self, lane: SenderLane, reminder: Reminder, recipient: ReminderRecipient
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
        delivery = Delivery(
            sequence=reminder.reminder_id,
            conversation_id=recipient.conversation_id,
            channel=recipient.channel,
            address=recipient.address,
            message=reminder_message(
                reminder,
                recipient.language,
                biller_name,
                with_button=recipient.channel in BUTTON_CHANNELS,
            ),
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
        return ReminderState.SENT
