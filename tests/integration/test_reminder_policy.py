"""Reminder policy per resident and per saved account, against the real databases: scheduling
follows the effective policy (the account's own, else the resident's), and a change
reschedules at once: kinds turned off are never sent, kinds turned back on are sent, each
(bill, kind) still at most once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.model.billing import SavedAccount, Utility
from bot.model.reminders import ALL_KINDS, ReminderKind, ReminderPolicy, ReminderState
from bot.model.residents import Channel, Language
from bot.services.reminder_dispatch import ReminderDispatcher, SenderLane
from bot.services.reminders import PolicyChange, ReminderScheduler, ReminderSettings
from integrations.cache.rate_limit import InProcessRateLimiter
from integrations.db.privacy_repositories import SqlPrivacyRepository
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import JVVNL, FakeBillerDirectory, FakeClock
from tests.integration.test_reminders import NOTICED, RecordingSender, _bill, _resident

UTC = timezone.utc
K = ReminderKind


@pytest.fixture
def ruow(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


async def _second_account(ruow: SqlUnitOfWorkFactory, first: SavedAccount) -> SavedAccount:
    second = SavedAccount(
        first.account_id + "-b",
        first.resident_id,
        Utility.ELECTRICITY,
        JVVNL.biller_id,
        "219900001234",
    )
    async with ruow() as tx:
        await tx.accounts.add(second)
        await tx.commit()
    return second


async def _by_kind(
    ruow: SqlUnitOfWorkFactory, account: SavedAccount
) -> dict[ReminderKind, tuple[ReminderState, datetime]]:
    async with ruow() as tx:
        rows = await tx.reminders.pending([account.account_id])
    return {r.kind: (r.state, r.send_at) for r in rows}


async def test_scheduling_follows_the_accounts_own_policy_else_the_residents(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    first = await _resident(ruow, 1)
    second = await _second_account(ruow, first)
    clock = FakeClock(NOTICED)
    settings = ReminderSettings(ruow, clock)
    # The resident: 7 days before; the second account: due day off on top of that.
    await settings.change(
        first.resident_id, "c000001", Language.EN, None, PolicyChange(days_before=7)
    )
    view = await settings.change(
        first.resident_id, "c000001", Language.EN, second.account_id, PolicyChange(toggle=K.DUE_DAY)
    )
    assert view.policy_for(None) == ReminderPolicy(7)
    assert view.policies[second.account_id].kinds == {K.NEW_BILL, K.BEFORE_DUE, K.OVERDUE}
    assert view.overridden == {second.account_id}
    scheduler = ReminderScheduler(ruow, clock, FakeBillerDirectory(), InProcessRateLimiter())

    assert await scheduler.schedule_bill(first, _bill(first)) == 4
    assert await scheduler.schedule_bill(second, _bill(second)) == 3

    one, two = await _by_kind(ruow, first), await _by_kind(ruow, second)
    before = datetime(2025, 1, 18, 4, 30, tzinfo=UTC)  # 25 Jan - 7 days, 10:00 IST
    assert one[K.BEFORE_DUE] == (ReminderState.SCHEDULED, before)
    assert {k: s for k, (s, _) in one.items()} == dict.fromkeys(ALL_KINDS, ReminderState.SCHEDULED)
    assert two[K.DUE_DAY][0] is ReminderState.TURNED_OFF
    assert two[K.BEFORE_DUE] == (ReminderState.SCHEDULED, before)
    async with ruow() as tx:  # the policy is stored: a new service sees it
        stored = await tx.consents.get(first.resident_id)
    assert stored is not None and stored.days_before == 7 and stored.kinds == ALL_KINDS


async def test_a_policy_change_reschedules_and_what_is_off_is_never_sent(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    first = await _resident(ruow, 1)
    second = await _second_account(ruow, first)
    clock = FakeClock(NOTICED + timedelta(hours=1))
    scheduler = ReminderScheduler(
        ruow, FakeClock(NOTICED), FakeBillerDirectory(), InProcessRateLimiter()
    )
    for account in (first, second):
        await scheduler.schedule_bill(account, _bill(account))
    settings = ReminderSettings(ruow, clock)
    rid, cid = first.resident_id, "c000001"

    # All accounts: overdue off. One account: 1 day before.
    view = await settings.change(rid, cid, Language.EN, None, PolicyChange(toggle=K.OVERDUE))
    assert view.rescheduled == 2
    await settings.change(rid, cid, Language.EN, first.account_id, PolicyChange(days_before=1))
    one, two = await _by_kind(ruow, first), await _by_kind(ruow, second)
    assert one[K.OVERDUE][0] is two[K.OVERDUE][0] is ReminderState.TURNED_OFF
    assert one[K.BEFORE_DUE] == (ReminderState.SCHEDULED, datetime(2025, 1, 24, 4, 30, tzinfo=UTC))
    assert two[K.BEFORE_DUE] == (ReminderState.SCHEDULED, datetime(2025, 1, 22, 4, 30, tzinfo=UTC))

    # Overdue back on for the second account only; due day off for it.
    await settings.change(rid, cid, Language.EN, second.account_id, PolicyChange(toggle=K.OVERDUE))
    await settings.change(rid, cid, Language.EN, second.account_id, PolicyChange(toggle=K.DUE_DAY))
    one, two = await _by_kind(ruow, first), await _by_kind(ruow, second)
    assert one[K.OVERDUE][0] is ReminderState.TURNED_OFF
    assert two[K.OVERDUE][0] is ReminderState.SCHEDULED
    assert two[K.DUE_DAY][0] is ReminderState.TURNED_OFF

    # Everything due: exactly the kinds on go out, once; scheduling again adds nothing.
    later = FakeClock(datetime(2025, 1, 27, 5, 0, tzinfo=UTC))
    sender = RecordingSender()
    lanes = {Channel.WHATSAPP: [SenderLane("wa", sender, None)]}
    dispatcher = ReminderDispatcher(
        ruow, later, FakeBillerDirectory(), lanes, InProcessRateLimiter()
    )
    report = await dispatcher.run_until_idle()
    assert report.sent == 6  # first: new bill, before, due day; second: new bill, before, overdue
    assert await scheduler.schedule_bill(first, _bill(first)) == 0
    assert (await dispatcher.run_until_idle()).sent == 0
    async with ruow() as tx:
        counts = await tx.reminders.counts()
    assert counts[ReminderState.TURNED_OFF] == 2 and counts[ReminderState.SENT] == 6

    # A kind turned on after its moment has passed is not sent late; for all accounts, a
    # flip turns it the same way for each (on here, though the second had it on already).
    view = await ReminderSettings(ruow, later).change(
        rid, cid, Language.EN, None, PolicyChange(toggle=K.OVERDUE)
    )
    assert all(K.OVERDUE in p.kinds for p in view.policies.values())
    assert (await dispatcher.run_until_idle()).sent == 0
    assert (await _by_kind(ruow, first))[K.OVERDUE][0] is ReminderState.TURNED_OFF


async def test_a_paid_bill_cancels_reminders_that_are_off_too(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    account = await _resident(ruow, 1)
    clock = FakeClock(NOTICED)
    settings = ReminderSettings(ruow, clock)
    await settings.change(
        account.resident_id, "c000001", Language.EN, None, PolicyChange(toggle=K.DUE_DAY)
    )
    await ReminderScheduler(
        ruow, clock, FakeBillerDirectory(), InProcessRateLimiter()
    ).schedule_bill(account, _bill(account))
    async with ruow() as tx:
        assert await tx.reminders.cancel_bill(account.account_id, "B-2501", NOTICED) == 4
        await tx.commit()
    assert await _by_kind(ruow, account) == {}


async def test_a_change_for_an_account_that_is_not_the_residents_changes_nothing(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    mine = await _resident(ruow, 1)
    theirs = await _resident(ruow, 2)
    settings = ReminderSettings(ruow, FakeClock(NOTICED))
    with pytest.raises(LookupError):
        await settings.change(
            mine.resident_id, "c000001", Language.EN, theirs.account_id, PolicyChange(days_before=1)
        )
    async with ruow() as tx:
        assert await tx.consents.account_policies([theirs.account_id]) == {}


async def test_erasing_a_resident_erases_the_account_policies(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    account = await _resident(ruow, 1)
    settings = ReminderSettings(ruow, FakeClock(NOTICED))
    await settings.change(
        account.resident_id, "c000001", Language.EN, account.account_id, PolicyChange(days_before=1)
    )
    async with ruow() as tx:
        resident = await tx.residents.get(account.resident_id)
        assert resident is not None
        await SqlPrivacyRepository(tx._connection).erase_resident(resident)
        await tx.commit()
    async with ruow() as tx:
        assert await tx.consents.account_policies([account.account_id]) == {}
        assert await tx.consents.get(account.resident_id) is None
