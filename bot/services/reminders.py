"""Bill reminders: consent, the residents' reminder settings, scheduling and bill discovery.
Sending them is `bot.services.reminder_dispatch`."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import BillerUnavailable, BotError
from bot.model.billing import Bill, SavedAccount
from bot.model.identifiers import mask
from bot.model.reminders import (
    ALL_KINDS,
    AccountPolicy,
    NewReminder,
    PlannedReminder,
    ReminderConsent,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    plan_reminders,
    replan,
)
from bot.model.residents import Language
from bot.ports import (
    BillerDirectory,
    Clock,
    RateLimiter,
    ReminderUnitOfWork,
    ReminderUnitOfWorkFactory,
)

log = logging.getLogger(__name__)


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
