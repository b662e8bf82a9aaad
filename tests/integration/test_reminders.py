"""The reminder engine against real databases (SQLite, and PostgreSQL when reachable) and the
real Redis (skipped with a message when unreachable): at most once per (bill, kind) with two
workers, a crash mid-batch, paid bills, opt-out and opt-in, bill discovery."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import DeliveryFailed
from bot.model.billing import Bill, SavedAccount, Utility
from bot.model.calendar import IST
from bot.model.channels import ChannelState, Delivery, resolve_option
from bot.model.payments import Payment, PaymentStatus
from bot.model.reminders import ReminderKind, ReminderState
from bot.model.residents import Channel, Conversation, Language, Resident
from bot.ports import RateLimiter
from bot.services.reminder_dispatch import ReminderDispatcher, SenderLane
from bot.services.reminders import ReminderConsents, ReminderScheduler
from integrations.cache.rate_limit import InProcessRateLimiter, RedisRateLimiter
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import JVVNL, FakeBillerDirectory, FakeClock

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
UTC = timezone.utc
DUE_ON = date(2025, 1, 25)
NOTICED = datetime(2025, 1, 15, 4, 30, tzinfo=UTC)  # 10:00 IST


class RecordingSender:
    """A channel sender that records what it was asked to send; can block or refuse."""

    def __init__(self, channel: Channel = Channel.WHATSAPP) -> None:
        self.channel = channel
        self.sent: list[Delivery] = []
        self.block_after: int | None = None
        self.blocked = asyncio.Event()
        self.refuse: set[int] = set()
        self.delay_s = 0.0  # a provider's round trip: lets concurrent workers interleave

    async def send(self, delivery: Delivery) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if delivery.sequence in self.refuse:
            raise DeliveryFailed("refused", permanent=True)
        if self.block_after is not None and len(self.sent) >= self.block_after:
            self.blocked.set()
            await asyncio.Event().wait()  # the worker is killed here
        self.sent.append(delivery)


@pytest_asyncio.fixture
async def redis_limiter() -> RateLimiter:
    limiter = RedisRateLimiter.from_url(REDIS_URL)
    try:
        await limiter.acquire("probe", 1, 1.0, 1)
    except Exception as exc:  # any connection error means "not here"
        await limiter.aclose()
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield limiter
    await limiter.aclose()


@pytest.fixture
def ruow(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


async def _resident(
    ruow: SqlUnitOfWorkFactory,
    n: int,
    *,
    language: Language = Language.EN,
    last_inbound_at: datetime | None = None,
    opted_out: bool = False,
    channel: Channel = Channel.WHATSAPP,
) -> SavedAccount:
    resident_id = f"r{n:06d}"
    conversation_id = f"c{n:06d}"
    account = SavedAccount(
        f"a{n:06d}", resident_id, Utility.ELECTRICITY, JVVNL.biller_id, f"21{n:010d}"
    )
    consents = ReminderConsents(ruow, FakeClock(NOTICED))
    async with ruow() as tx:
        await tx.residents.add(
            Resident(resident_id, f"sso.{n}", "Ramesh Kumar", f"+9198{n:08d}", language, NOTICED)
        )
        await tx.conversations.add(
            Conversation(conversation_id, channel, f"+9198{n:08d}", resident_id, language, NOTICED)
        )
        await tx.accounts.add(account)
        await tx.channel_states.save(
            ChannelState(conversation_id, opted_out=opted_out, last_inbound_at=last_inbound_at)
        )
        await tx.commit()
    await consents.record_at_linking(resident_id, conversation_id, language)
    return account


def _bill(account: SavedAccount, number: str = "B-2501", outstanding: int = 48_250) -> Bill:
    return Bill(
        JVVNL.biller_id,
        account.consumer_number,
        "Ramesh Kumar",
        number,
        date(2025, 1, 2),
        DUE_ON,
        48_250,
        outstanding,
    )


async def _scheduled(ruow: SqlUnitOfWorkFactory, count: int) -> list[SavedAccount]:
    clock = FakeClock(NOTICED)
    scheduler = ReminderScheduler(ruow, clock, FakeBillerDirectory(), InProcessRateLimiter())
    accounts = []
    for n in range(count):
        account = await _resident(ruow, n)
        await scheduler.schedule_bill(account, _bill(account))
        accounts.append(account)
    return accounts


def _dispatcher(
    ruow: SqlUnitOfWorkFactory,
    clock: FakeClock,
    sender: RecordingSender,
    limiter: RateLimiter,
    rate: float | None = None,
    **kwargs: object,
) -> ReminderDispatcher:
    lane = SenderLane(f"test:{uuid.uuid4().hex}", sender, rate, burst=5)
    return ReminderDispatcher(
        ruow,
        clock,
        FakeBillerDirectory(),
        {Channel.WHATSAPP: [lane]},
        limiter,
        **kwargs,  # type: ignore[arg-type]
    )


async def _states(ruow: SqlUnitOfWorkFactory) -> dict[ReminderState, int]:
    async with ruow() as tx:
        return await tx.reminders.counts()


async def test_scheduling_a_bill_twice_stores_its_reminders_once(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    account = await _resident(ruow, 1)
    scheduler = ReminderScheduler(
        ruow, FakeClock(NOTICED), FakeBillerDirectory(), InProcessRateLimiter()
    )

    first = await scheduler.schedule_bill(account, _bill(account))
    second = await scheduler.schedule_bill(account, _bill(account))

    assert first == 4 and second == 0
    async with ruow() as tx:
        upcoming = await tx.reminders.upcoming(10)
    assert [r.kind for r in upcoming] == [
        ReminderKind.NEW_BILL,
        ReminderKind.BEFORE_DUE,
        ReminderKind.DUE_DAY,
        ReminderKind.OVERDUE,
    ]
    assert all(r.consumer_hint == "••••" + account.consumer_number[-4:] for r in upcoming)


async def test_two_workers_with_a_shared_redis_limit_send_each_reminder_once(
    ruow: SqlUnitOfWorkFactory, redis_limiter: RateLimiter
) -> None:
    await _scheduled(ruow, 60)
    clock = FakeClock(datetime(2025, 1, 27, 5, 0, tzinfo=UTC))  # all four kinds are due
    sender = RecordingSender()
    # Without a round trip, one worker could finish everything before the other claims.
    sender.delay_s = 0.003
    key = f"test:{uuid.uuid4().hex}"
    lanes = {Channel.WHATSAPP: [SenderLane(key, sender, 2000.0, burst=40)]}
    workers = [
        ReminderDispatcher(
            ruow, clock, FakeBillerDirectory(), lanes, redis_limiter, batch_size=50, chunk_size=20
        )
        for _ in range(2)
    ]

    reports = await asyncio.gather(*(w.run_until_idle() for w in workers))

    ids = Counter(d.sequence for d in sender.sent)
    assert len(ids) == 240, "every (bill, kind) sent"
    assert max(ids.values()) == 1, "none twice"
    assert sum(r.sent for r in reports) == 240
    assert all(r.claimed > 0 for r in reports), "both workers took part"
    assert await _states(ruow) == {ReminderState.SENT: 240}


async def test_a_worker_killed_mid_batch_loses_no_claimed_reminder_and_repeats_none(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    await _scheduled(ruow, 30)  # 30 new-bill reminders due now
    clock = FakeClock(NOTICED + timedelta(minutes=1))
    victim_sender = RecordingSender()
    victim_sender.block_after = 7
    victim = _dispatcher(
        ruow, clock, victim_sender, InProcessRateLimiter(), chunk_size=10, max_in_flight=1
    )
    task = asyncio.create_task(victim.run_once())
    await asyncio.wait_for(victim_sender.blocked.wait(), 10)
    await asyncio.sleep(0.05)
    task.cancel()  # killed: 7 sent, 3 in flight (SENDING), 20 still CLAIMED
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _states(ruow) == {
        ReminderState.SENDING: 10,
        ReminderState.CLAIMED: 20,
        ReminderState.SCHEDULED: 90,  # the later kinds
    }

    heir_sender = RecordingSender()
    heir = _dispatcher(ruow, clock, heir_sender, InProcessRateLimiter())
    assert (await heir.run_once()).claimed == 0, "nothing is taken over before the lease ends"
    clock.advance(timedelta(minutes=3))
    report = await heir.run_until_idle()

    first = {d.sequence for d in victim_sender.sent}
    second = {d.sequence for d in heir_sender.sent}
    assert len(first) == 7 and len(second) == 20
    assert not first & second, "no reminder sent twice"
    assert report.expired == 10
    states = await _states(ruow)
    # The chunk that was in flight is never resent: it may have arrived.
    assert states == {
        ReminderState.SENT: 20,
        ReminderState.UNCERTAIN: 10,
        ReminderState.SCHEDULED: 90,
    }


async def test_a_bill_paid_just_before_its_reminder_is_not_reminded(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    accounts = await _scheduled(ruow, 2)
    paid = accounts[0]
    async with ruow() as tx:
        await tx.payments.add(
            Payment(
                "p1",
                paid.resident_id,
                "c000000",
                paid.biller_id,
                paid.consumer_number,
                "B-2501",
                48_250,
                0,
                PaymentStatus.PAID,
                NOTICED,
            )
        )
        await tx.commit()
    sender = RecordingSender()
    clock = FakeClock(NOTICED + timedelta(minutes=1))

    report = await _dispatcher(ruow, clock, sender, InProcessRateLimiter()).run_until_idle()

    assert [d.conversation_id for d in sender.sent] == ["c000001"]
    assert report.skipped == 1 and report.sent == 1


async def test_stop_reminders_silences_and_set_reminder_brings_them_back(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    await _scheduled(ruow, 2)
    await _resident(ruow, 2, opted_out=True)  # STOP on WhatsApp: no pushes at all
    scheduler = ReminderScheduler(
        ruow, FakeClock(NOTICED), FakeBillerDirectory(), InProcessRateLimiter()
    )
    stopped = SavedAccount(
        "a000002", "r000002", Utility.ELECTRICITY, JVVNL.biller_id, "210000000002"
    )
    await scheduler.schedule_bill(stopped, _bill(stopped))
    clock = FakeClock(NOTICED + timedelta(minutes=1))
    consents = ReminderConsents(ruow, clock)
    await consents.set_enabled("r000000", "c000000", Language.HI, enabled=False)
    sender = RecordingSender()
    dispatcher = _dispatcher(ruow, clock, sender, InProcessRateLimiter())

    await dispatcher.run_until_idle()
    assert [d.conversation_id for d in sender.sent] == ["c000001"]

    await consents.set_enabled("r000000", "c000000", Language.HI, enabled=True)
    clock.set(datetime(2025, 1, 22, 5, 0, tzinfo=UTC))  # the before-due reminders are due
    await dispatcher.run_until_idle()

    later = sender.sent[1:]
    assert sorted(d.conversation_id for d in later) == ["c000000", "c000001"]
    hindi = next(d for d in later if d.conversation_id == "c000000")
    assert hindi.language is Language.HI and "PAY" in hindi.message.text
    assert "₹482.50" in hindi.message.text and "••••0000" in hindi.message.text
    async with ruow() as tx:
        consent = await tx.consents.get("r000000")
    assert consent is not None and consent.enabled
    assert consent.consented_at == NOTICED + timedelta(minutes=1), "the time of opting back in"


async def test_a_refused_reminder_is_failed_and_the_rest_go(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    await _scheduled(ruow, 3)
    sender = RecordingSender()
    async with ruow() as tx:
        first = (await tx.reminders.upcoming(1))[0]
    sender.refuse.add(first.reminder_id)
    clock = FakeClock(NOTICED + timedelta(minutes=1))

    report = await _dispatcher(ruow, clock, sender, InProcessRateLimiter()).run_until_idle()

    assert report.failed == 1 and report.sent == 2
    assert first.reminder_id not in {d.sequence for d in sender.sent}


async def test_discovery_schedules_new_bills_and_cancels_bills_paid_elsewhere(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    billers = FakeBillerDirectory()
    clock = FakeClock(NOTICED)
    account = await _resident(ruow, 5)
    billers.add_bill(JVVNL, account.consumer_number, bill_number="B-1", due_on=DUE_ON)
    scheduler = ReminderScheduler(
        ruow, clock, billers, InProcessRateLimiter(), biller_rate_per_s=50
    )

    report = await scheduler.discover()
    assert report.checked == 1 and report.new_bills == 1 and report.scheduled == 4
    assert (await scheduler.discover()).checked == 0, "not looked at again before its time"

    billers.add_bill(
        JVVNL, account.consumer_number, bill_number="B-1", due_on=DUE_ON, outstanding_paise=0
    )
    clock.advance(timedelta(days=2))
    report = await scheduler.discover()
    assert report.checked == 1 and report.paid_elsewhere == 1
    states = await _states(ruow)
    assert states == {ReminderState.CANCELLED: 4}


async def test_the_redis_bucket_never_grants_more_than_its_rate(redis_limiter: RateLimiter) -> None:
    key = f"test:{uuid.uuid4().hex}"
    loop = asyncio.get_running_loop()
    started = loop.time()
    granted = 0
    while loop.time() - started < 1.0:
        granted += await redis_limiter.acquire(key, 10, 200.0, 10)
        await asyncio.sleep(0.005)
    elapsed = loop.time() - started
    assert 0.9 * 200 * elapsed - 10 <= granted <= 200 * elapsed + 1


async def test_whatsapp_reminders_use_the_template_outside_the_24_hour_window(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    from channels.twilio_api import TwilioMessages
    from channels.whatsapp import WhatsAppSender
    from tests.channels.providers import ACCOUNT_SID, AUTH_TOKEN, serving

    now = NOTICED + timedelta(minutes=1)
    await _resident(ruow, 1, last_inbound_at=now - timedelta(hours=2))  # in the window
    await _resident(ruow, 2, last_inbound_at=now - timedelta(days=3))  # outside it
    scheduler = ReminderScheduler(
        ruow, FakeClock(NOTICED), FakeBillerDirectory(), InProcessRateLimiter()
    )
    for n in (1, 2):
        account = SavedAccount(
            f"a{n:06d}", f"r{n:06d}", Utility.ELECTRICITY, JVVNL.biller_id, f"21{n:010d}"
        )
        await scheduler.schedule_bill(account, _bill(account))
    with serving() as providers:
        messages = TwilioMessages(ACCOUNT_SID, AUTH_TOKEN, providers.base_url, 5.0, (0.05,))
        sender = WhatsAppSender(
            messages, "+14155550000", {("notice", Language.EN): "HXnotice0000000000000000000000en"}
        )
        lane = SenderLane("test:wa", sender, None)
        dispatcher = ReminderDispatcher(
            ruow,
            FakeClock(now),
            FakeBillerDirectory(),
            {Channel.WHATSAPP: [lane]},
            InProcessRateLimiter(),
        )
        report = await dispatcher.run_until_idle()
        await messages.aclose()
        sent = {m["To"]: m for m in providers.twilio()}

    assert report.sent == 2
    session = sent["whatsapp:+919800000001"]
    assert "New JVVNL bill" in session["Body"] and "••••0001" in session["Body"]
    assert "Reply 1 or PAY" in session["Body"]
    # "1" means "Pay now": the option is remembered for both conversations that got it.
    async with ruow() as tx:
        for n in (1, 2):
            conversation = await tx.conversations.find(Channel.WHATSAPP, f"+9198000000{n:02d}")
            assert conversation is not None
            state = await tx.channel_states.get(conversation.conversation_id)
            assert state is not None and resolve_option("1", state.options) == "/pay_bill"
    template = sent["whatsapp:+919800000002"]
    assert template["ContentSid"] == "HXnotice0000000000000000000000en" and "Body" not in template
    assert "₹482.50" in template["ContentVariables"]


async def test_web_chat_reminders_land_in_the_outbox_the_page_polls(
    ruow: SqlUnitOfWorkFactory, engine: AsyncEngine
) -> None:
    from channels.webchat import OutboxSender
    from integrations.db.unit_of_work import SqlUnitOfWorkFactory

    account = await _resident(ruow, 3, channel=Channel.WEBCHAT, language=Language.HI)
    scheduler = ReminderScheduler(
        ruow, FakeClock(NOTICED), FakeBillerDirectory(), InProcessRateLimiter()
    )
    await scheduler.schedule_bill(account, _bill(account))
    clock = FakeClock(NOTICED + timedelta(minutes=1))
    lane = SenderLane("webchat", OutboxSender(SqlUnitOfWorkFactory(engine), clock), None)
    dispatcher = ReminderDispatcher(
        ruow, clock, FakeBillerDirectory(), {Channel.WEBCHAT: [lane]}, InProcessRateLimiter()
    )

    assert (await dispatcher.run_until_idle()).sent == 1
    async with ruow() as tx:
        pushed = await tx.outbox.after("c000003", 0)
    assert len(pushed) == 1
    message = pushed[0].message
    assert "JVVNL का नया बिल" in message.text and "25 जनवरी 2025" in message.text
    assert [b.payload for b in message.buttons] == ["/pay_bill"]


async def test_nothing_is_sent_during_quiet_hours_even_when_overdue_in_the_schedule(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    await _scheduled(ruow, 2)
    sender = RecordingSender()
    night = datetime(2025, 1, 15, 22, 30, tzinfo=IST)  # a worker that was down all day
    clock = FakeClock(night)
    dispatcher = _dispatcher(ruow, clock, sender, InProcessRateLimiter())

    assert (await dispatcher.run_until_idle()).claimed == 0
    clock.set(datetime(2025, 1, 16, 9, 0, tzinfo=IST))
    assert (await dispatcher.run_until_idle()).sent == 2


async def test_a_reminder_goes_by_email_too_once_and_only_with_its_chat_message(
    ruow: SqlUnitOfWorkFactory,
) -> None:
    from bot.services.email_delivery import EmailReminders
    from tests.fakes import FakeEmailSender

    accounts = await _scheduled(ruow, 3)  # three residents, a new-bill reminder each due now
    async with ruow() as tx:
        for n in (0, 1):  # two confirmed an address; the third did not
            resident = await tx.residents.get(accounts[n].resident_id)
            assert resident is not None
            resident.email = f"r{n}@gmail.com"
            await tx.residents.update(resident)
        await tx.commit()
    clock = FakeClock(NOTICED + timedelta(minutes=1))
    sender = RecordingSender()
    mail = FakeEmailSender()
    dispatcher = _dispatcher(
        ruow, clock, sender, InProcessRateLimiter(), email=EmailReminders(mail)
    )
    async with ruow() as tx:
        due = await tx.reminders.upcoming(100)
    first_of_r1 = next(r.reminder_id for r in due if r.resident_id == accounts[1].resident_id)
    sender.refuse = {first_of_r1}  # r1's chat provider refuses for good: no email either

    await dispatcher.run_until_idle()
    await dispatcher.run_until_idle()  # a second pass finds nothing to send again

    assert [m.to for m in mail.sent] == ["r0@gmail.com"]
    assert "Reply 1" not in mail.sent[0].text  # the email says how to pay in the chat
    assert len(sender.sent) == 2  # r0 and the resident without email
