"""Planned-outage notices on the reminder engine, against real databases (SQLite, and
PostgreSQL when reachable) and the real Redis: each saved account on a cut hears of it once,
before it starts, outside quiet hours, within the provider's rate, whatever runs twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from bot.messages.reminders import REMINDER_SAFETY
from bot.model.billing import SavedAccount, Utility
from bot.model.calendar import IST
from bot.model.channels import ChannelState, Delivery
from bot.model.outages import Outage, OutageKind
from bot.model.reminders import QuietHours, ReminderConsent, ReminderKind, ReminderState
from bot.model.residents import Channel, Conversation, Language, Resident
from bot.ports import RateLimiter
from bot.services.outage_notices import OutageNotices
from bot.services.privacy import PrivacyService
from bot.services.reminder_dispatch import ReminderDispatcher, SenderLane
from bot.services.reminders import ReminderConsents
from integrations.cache.rate_limit import InProcessRateLimiter, RedisRateLimiter
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import AVVNL, JVVNL, FakeBillerDirectory, FakeClock, FakePowerSupplyDesk
from tests.integration.test_reminders import REDIS_URL, RecordingSender, _resident

UTC = timezone.utc


@pytest_asyncio.fixture
async def redis_limiter() -> AsyncIterator[RateLimiter]:
    limiter = RedisRateLimiter.from_url(REDIS_URL)
    try:
        await limiter.acquire("probe", 1, 1.0, 1)
    except Exception as exc:  # any connection error means "not here"
        await limiter.aclose()
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield limiter
    await limiter.aclose()


ANNOUNCED = datetime(2025, 1, 15, 12, 0, tzinfo=IST)
STARTS = datetime(2025, 1, 17, 10, 0, tzinfo=IST)
EVENING_BEFORE = datetime(2025, 1, 16, 18, 0, tzinfo=IST)


def _outage(
    outage_id: str = "JV-PSD-0001",
    starts: datetime = STARTS,
    hours: float = 4,
    reason: str = "Transformer maintenance",
    biller_id: str = JVVNL.biller_id,
) -> Outage:
    return Outage(
        outage_id,
        biller_id,
        OutageKind.PLANNED,
        starts.astimezone(UTC),
        (starts + timedelta(hours=hours)).astimezone(UTC),
        reason,
        "Shipra Path",
    )


def _notices(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, desk: FakePowerSupplyDesk
) -> OutageNotices:
    return OutageNotices(uow, clock, FakeBillerDirectory(), desk)


def _dispatcher(
    uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
    sender: RecordingSender,
    limiter: RateLimiter | None = None,
    rate: float | None = None,
    **kwargs: object,
) -> ReminderDispatcher:
    lane = SenderLane(f"test:{uuid.uuid4().hex}", sender, rate, burst=5)
    return ReminderDispatcher(
        uow,
        clock,
        FakeBillerDirectory(),
        {sender.channel: [lane]},
        limiter or InProcessRateLimiter(),
        **kwargs,  # type: ignore[arg-type]
    )


async def _states(uow: SqlUnitOfWorkFactory) -> dict[ReminderState, int]:
    async with uow() as tx:
        return await tx.reminders.counts()


async def test_discovery_schedules_one_notice_per_consenting_account_on_the_cut(
    uow: SqlUnitOfWorkFactory,
) -> None:
    accounts = [await _resident(uow, n) for n in range(5)]
    withdrawn = await _resident(uow, 5)
    await ReminderConsents(uow, FakeClock(ANNOUNCED)).set_enabled(
        withdrawn.resident_id, "c000005", Language.EN, False
    )
    desk = FakePowerSupplyDesk()
    on_the_cut = [a.consumer_number for a in accounts[:3]] + [withdrawn.consumer_number]
    desk.announce(_outage(), [*on_the_cut, "2199999999"])
    # The same number at another company is another connection.
    desk.announce(_outage("AV-1", biller_id=AVVNL.biller_id), [accounts[3].consumer_number])
    notices = _notices(uow, FakeClock(ANNOUNCED), desk)

    first = await notices.discover()
    again = await notices.discover()

    assert (first.scheduled, again.scheduled) == (3, 0)
    assert first.outages == 2 and first.billers == len(
        FakeBillerDirectory().billers(Utility.ELECTRICITY)
    )
    async with uow() as tx:
        upcoming = await tx.reminders.upcoming(10)
    assert sorted(r.account_id for r in upcoming) == [a.account_id for a in accounts[:3]]
    assert {r.kind for r in upcoming} == {ReminderKind.PLANNED_OUTAGE}
    assert {r.bill_number for r in upcoming} == {"JV-PSD-0001"}
    assert {r.send_at for r in upcoming} == {EVENING_BEFORE.astimezone(UTC)}
    assert {r.consumer_hint for r in upcoming} == {
        "••••" + a.consumer_number[-4:] for a in accounts[:3]
    }


async def test_the_notice_goes_the_evening_before_and_says_when_and_why(
    uow: SqlUnitOfWorkFactory,
) -> None:
    account = await _resident(uow, 1, language=Language.HI, last_inbound_at=ANNOUNCED)
    english = await _resident(uow, 2, channel=Channel.SMS)
    desk = FakePowerSupplyDesk()
    desk.announce(_outage(), [account.consumer_number, english.consumer_number])
    clock = FakeClock(ANNOUNCED)
    await _notices(uow, clock, desk).discover()
    whatsapp, sms = RecordingSender(), RecordingSender(Channel.SMS)
    lanes = {
        Channel.WHATSAPP: [SenderLane("w", whatsapp, None)],
        Channel.SMS: [SenderLane("s", sms, None)],
    }
    dispatcher = ReminderDispatcher(
        uow, clock, FakeBillerDirectory(), lanes, InProcessRateLimiter()
    )

    clock.set(EVENING_BEFORE - timedelta(minutes=1))
    assert (await dispatcher.run_until_idle()).sent == 0
    clock.set(EVENING_BEFORE)
    report = await dispatcher.run_until_idle()

    assert report.sent == 2 and len(whatsapp.sent) == len(sms.sent) == 1
    hindi = whatsapp.sent[0].message.text
    assert "17 जनवरी 2025 को 10:00 से 14:00 IST तक" in hindi and "Transformer maintenance" in hindi
    assert "••••0001" in hindi and hindi.endswith(REMINDER_SAFETY[Language.HI])
    assert not whatsapp.sent[0].message.buttons
    text = sms.sent[0].message.text
    assert "17 Jan 2025, 10:00 to 14:00 IST" in text and "Area: Shipra Path." in text
    assert text.endswith(REMINDER_SAFETY[Language.EN])
    async with uow() as tx:
        # No "reply 1 to pay" remembered for an outage: "1" must not mean paying a bill.
        state = await tx.channel_states.get("c000002")
    assert state is None or not state.options


async def test_a_cut_announced_late_at_night_waits_for_the_morning_and_is_dropped_once_begun(
    uow: SqlUnitOfWorkFactory,
) -> None:
    early = await _resident(uow, 1)
    late = await _resident(uow, 2)
    desk = FakePowerSupplyDesk()
    night = datetime(2025, 1, 16, 23, 0, tzinfo=IST)
    desk.announce(_outage("AM", datetime(2025, 1, 17, 11, 0, tzinfo=IST)), [early.consumer_number])
    desk.announce(_outage("DAWN", datetime(2025, 1, 17, 7, 0, tzinfo=IST)), [late.consumer_number])
    clock = FakeClock(night)
    report = await _notices(uow, clock, desk).discover()
    sender = RecordingSender()
    dispatcher = _dispatcher(uow, clock, sender)

    assert (report.scheduled, report.too_late) == (1, 1), "07:00 is before the quiet hours end"
    assert (await dispatcher.run_until_idle()).sent == 0
    clock.set(datetime(2025, 1, 17, 9, 0, tzinfo=IST))
    assert (await dispatcher.run_until_idle()).sent == 1

    # A notice whose cut began while no dispatcher ran (a long outage of ours) is dropped.
    await _resident(uow, 3)
    desk.announce(_outage("NOON", datetime(2025, 1, 17, 12, 0, tzinfo=IST)), ["210000000003"])
    await _notices(uow, clock, desk).discover()
    clock.set(datetime(2025, 1, 17, 12, 5, tzinfo=IST))
    report = await dispatcher.run_until_idle()
    assert (report.sent, report.skipped) == (0, 1) and len(sender.sent) == 1


async def test_a_moved_cut_is_announced_once_with_its_new_times(
    uow: SqlUnitOfWorkFactory,
) -> None:
    account = await _resident(uow, 1)
    desk = FakePowerSupplyDesk()
    desk.announce(_outage(), [account.consumer_number])
    clock = FakeClock(ANNOUNCED)
    notices = _notices(uow, clock, desk)
    await notices.discover()

    moved = datetime(2025, 1, 18, 14, 0, tzinfo=IST)
    desk.announce(_outage(starts=moved, reason="Line work"), [account.consumer_number])
    clock.advance(timedelta(hours=1))
    report = await notices.discover()
    assert (report.scheduled, report.moved) == (0, 1)

    sender = RecordingSender()
    dispatcher = _dispatcher(uow, clock, sender)
    clock.set(EVENING_BEFORE)
    assert (await dispatcher.run_until_idle()).sent == 0, "it moved to the next evening"
    clock.set(datetime(2025, 1, 17, 18, 0, tzinfo=IST))
    assert (await dispatcher.run_until_idle()).sent == 1
    assert "18 Jan 2025, 14:00 to 18:00 IST" in sender.sent[0].message.text
    assert "Line work" in sender.sent[0].message.text

    # Moved again after the notice went out: no second notice.
    desk.announce(_outage(starts=moved + timedelta(days=1)), [account.consumer_number])
    report = await notices.discover()
    clock.set(datetime(2025, 1, 18, 18, 0, tzinfo=IST))
    await dispatcher.run_until_idle()
    assert report.moved == 0 and len(sender.sent) == 1
    assert await _states(uow) == {ReminderState.SENT: 1}


async def test_a_cut_called_off_is_not_announced_and_comes_back_if_announced_again(
    uow: SqlUnitOfWorkFactory,
) -> None:
    account = await _resident(uow, 1)
    desk = FakePowerSupplyDesk()
    desk.announce(_outage(), [account.consumer_number])
    clock = FakeClock(ANNOUNCED)
    notices = _notices(uow, clock, desk)
    await notices.discover()

    desk.unavailable = True
    silent = await notices.discover()
    assert silent.unavailable == silent.billers and silent.cancelled == 0, "silence cancels nothing"
    desk.unavailable = False
    desk.call_off(JVVNL.biller_id, "JV-PSD-0001")
    assert (await notices.discover()).cancelled == 1
    assert await _states(uow) == {ReminderState.CANCELLED: 1}
    async with uow() as tx:
        assert await tx.outages.announced(JVVNL.biller_id) == {}

    desk.announce(_outage(), [account.consumer_number])
    back = await notices.discover()
    sender = RecordingSender()
    clock.set(EVENING_BEFORE)
    await _dispatcher(uow, clock, sender).run_until_idle()
    assert back.moved == 1 and len(sender.sent) == 1


async def test_stop_on_whatsapp_silences_outage_notices_too(uow: SqlUnitOfWorkFactory) -> None:
    stopped = await _resident(uow, 1, opted_out=True)
    desk = FakePowerSupplyDesk()
    desk.announce(_outage(), [stopped.consumer_number])
    clock = FakeClock(ANNOUNCED)
    await _notices(uow, clock, desk).discover()
    sender = RecordingSender()
    clock.set(EVENING_BEFORE)

    report = await _dispatcher(uow, clock, sender).run_until_idle()

    assert report.skipped == 1 and not sender.sent


# --- the check: 1,000 saved accounts on one cut -------------------------------------
async def _many_residents(uow: SqlUnitOfWorkFactory, count: int) -> list[str]:
    """`count` residents on WhatsApp, each with a saved JVVNL account and reminder consent,
    written in one transaction (the fixtures' one-by-one helper would take minutes)."""
    numbers = []
    at = ANNOUNCED.astimezone(UTC)
    async with uow() as tx:
        for n in range(count):
            rid, cid, number = f"r{n:06d}", f"c{n:06d}", f"21{n:010d}"
            mobile = f"+9198{n:08d}"
            await tx.residents.add(Resident(rid, f"sso.{n}", "Ramesh", mobile, Language.EN, at))
            await tx.conversations.add(
                Conversation(cid, Channel.WHATSAPP, mobile, rid, Language.EN, at)
            )
            await tx.accounts.add(
                SavedAccount(f"a{n:06d}", rid, Utility.ELECTRICITY, JVVNL.biller_id, number)
            )
            await tx.channel_states.save(ChannelState(cid, last_inbound_at=at))
            await tx.consents.save(ReminderConsent(rid, cid, Language.EN, True, at, at))
            numbers.append(number)
        await tx.commit()
    return numbers


class TimedSender(RecordingSender):
    """Records when (the test's clock and the wall clock) each notice went out."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.at: list[float] = []
        self.quiet_sends = 0

    async def send(self, delivery: Delivery) -> None:
        await super().send(delivery)
        self.at.append(time.monotonic())
        self.quiet_sends += QuietHours().contains(self.clock.now())


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_cut_for_1000_saved_accounts_is_pushed_once_each_outside_quiet_hours_within_the_rate(
    uow: SqlUnitOfWorkFactory, redis_limiter: RateLimiter
) -> None:
    count, rate, burst = 1000, 250.0, 10
    numbers = await _many_residents(uow, count)
    desk = FakePowerSupplyDesk()
    night = datetime(2025, 1, 16, 22, 30, tzinfo=IST)  # announced in the quiet hours
    desk.announce(_outage(starts=datetime(2025, 1, 17, 13, 0, tzinfo=IST)), numbers)
    clock = FakeClock(night)
    notices = _notices(uow, clock, desk)

    started = time.perf_counter()
    report = await notices.discover()
    discovery_s = time.perf_counter() - started
    assert report.scheduled == count

    sender = TimedSender(clock)
    sender.delay_s = 0.002  # a provider's round trip, so that the two workers interleave
    key = f"test:{uuid.uuid4().hex}"
    lanes = {Channel.WHATSAPP: [SenderLane(key, sender, rate, burst=burst)]}
    workers = [
        ReminderDispatcher(
            uow, clock, FakeBillerDirectory(), lanes, redis_limiter, batch_size=300, chunk_size=50
        )
        for _ in range(2)
    ]
    quiet = await asyncio.gather(*(w.run_until_idle() for w in workers))
    assert [r.claimed for r in quiet] == [0, 0], "nothing is even claimed in quiet hours"

    clock.set(datetime(2025, 1, 17, 9, 0, tzinfo=IST))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(w.run_until_idle() for w in workers), notices.discover(), notices.discover()
    )
    elapsed = time.perf_counter() - started

    ids = Counter(d.address for d in sender.sent)
    assert len(ids) == count and max(ids.values()) == 1, "each account once"
    assert sender.quiet_sends == 0
    assert all(r.claimed > 0 for r in results[:2]), "both workers took part"
    assert results[2].scheduled == results[3].scheduled == 0, "re-runs add nothing"
    assert await _states(uow) == {ReminderState.SENT: count}
    span = sender.at[-1] - sender.at[0]
    achieved = (count - burst) / span  # the bucket may hand out its burst at once
    print(
        f"\n1000 outage notices: discovery {discovery_s:.2f} s, sent in {elapsed:.2f} s, "
        f"achieved {achieved:.0f}/s for a limit of {rate:.0f}/s"
    )
    assert achieved <= rate * 1.02
    assert achieved >= rate * 0.5, "the limit, not the engine, sets the pace"


async def test_delete_my_data_takes_the_outage_notices_with_it(uow: SqlUnitOfWorkFactory) -> None:
    account = await _resident(uow, 1)
    desk = FakePowerSupplyDesk()
    desk.announce(_outage(), [account.consumer_number])
    clock = FakeClock(ANNOUNCED)
    await _notices(uow, clock, desk).discover()

    await PrivacyService(uow, clock).erase("c000001")

    async with uow() as tx:
        assert await tx.reminders.counts() == {}
    # The outage itself is the company's announcement, about no one: it stays.
    clock.set(EVENING_BEFORE)
    sender = RecordingSender()
    assert (await _dispatcher(uow, clock, sender).run_until_idle()).claimed == 0


async def test_outside_the_whatsapp_window_the_notice_goes_as_the_notice_template(
    uow: SqlUnitOfWorkFactory,
) -> None:
    from channels.twilio_api import TwilioMessages
    from channels.whatsapp import WhatsAppSender
    from tests.channels.providers import ACCOUNT_SID, AUTH_TOKEN, serving

    account = await _resident(uow, 1, last_inbound_at=ANNOUNCED - timedelta(days=3))
    desk = FakePowerSupplyDesk()
    desk.announce(_outage(), [account.consumer_number])
    clock = FakeClock(ANNOUNCED)
    await _notices(uow, clock, desk).discover()
    clock.set(EVENING_BEFORE)
    with serving() as providers:
        messages = TwilioMessages(ACCOUNT_SID, AUTH_TOKEN, providers.base_url, 5.0, (0.05,))
        sid = "HXnotice0000000000000000000000en"
        sender = WhatsAppSender(messages, "+14155550000", {("notice", Language.EN): sid})
        lanes = {Channel.WHATSAPP: [SenderLane("test:wa", sender, None)]}
        dispatcher = ReminderDispatcher(
            uow, clock, FakeBillerDirectory(), lanes, InProcessRateLimiter()
        )
        report = await dispatcher.run_until_idle()
        await messages.aclose()
        sent = providers.twilio()

    assert report.sent == 1 and len(sent) == 1
    assert sent[0]["ContentSid"] == sid and "Body" not in sent[0]
    assert "Planned power cut" in sent[0]["ContentVariables"]
    assert "Transformer maintenance" in sent[0]["ContentVariables"]
