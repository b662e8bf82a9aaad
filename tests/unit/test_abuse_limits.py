"""Abuse limits: messages per conversation per minute, codes per mobile number per hour,
and a lockout after repeated wrong codes, each with a clear answer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot import messages
from bot.errors import OtpIncorrect, OtpLockedOut, TooManyOtpRequests
from bot.model.residents import Channel, Language
from bot.ports import SsoHolder
from bot.services.link_limits import MAX_FAILURES, MAX_SENDS_PER_MOBILE
from bot.services.linking import LinkingService
from bot.services.turns import BURST_MESSAGES, BURST_WINDOW, TurnService
from integrations.cache.rate_counters import InProcessRateCounter
from tests.fakes import (
    FakeClock,
    FakeDialogueEngine,
    FakeSmsSender,
    FakeSsoRegistry,
    InMemoryUnitOfWorkFactory,
)
from tests.unit.conftest import Say

pytestmark = pytest.mark.asyncio

SHARED = "+919876500000"


@pytest.fixture
def counter(clock: FakeClock) -> InProcessRateCounter:
    return InProcessRateCounter(clock)


@pytest.fixture
def limited(
    uow: InMemoryUnitOfWorkFactory,
    sms: FakeSmsSender,
    clock: FakeClock,
    counter: InProcessRateCounter,
    ramesh: SsoHolder,
) -> LinkingService:
    # Three SSO IDs registered on one mobile: the per-SSO limit alone would allow 9 codes.
    holders = [ramesh] + [SsoHolder(f"family.{i}", "A B", SHARED, Language.EN) for i in range(3)]
    return LinkingService(
        uow, FakeSsoRegistry(holders), sms, clock, otp_key=b"k" * 32, limits=counter
    )


def code_in(sms: FakeSmsSender, mobile: str) -> str:
    *_, text = sms.texts_to(mobile)
    found = re.search(r"\b\d{6}\b", text)
    assert found
    return found.group(0)


async def test_codes_to_one_mobile_are_limited_per_hour_whatever_the_sso_id(
    open_chat, limited: LinkingService, sms: FakeSmsSender, clock: FakeClock
) -> None:
    for i in range(MAX_SENDS_PER_MOBILE):
        await limited.start(await open_chat(), f"family.{i % 3}")
    with pytest.raises(TooManyOtpRequests):
        await limited.start(await open_chat(), "family.2")
    assert len(sms.texts_to(SHARED)) == MAX_SENDS_PER_MOBILE

    clock.advance(timedelta(hours=1, seconds=1))
    await limited.start(await open_chat(), "family.2")
    assert len(sms.texts_to(SHARED)) == MAX_SENDS_PER_MOBILE + 1


async def test_repeated_wrong_codes_lock_that_chat_for_an_hour_and_no_other(
    open_chat,
    limited: LinkingService,
    sms: FakeSmsSender,
    clock: FakeClock,
    ramesh: SsoHolder,
) -> None:
    chat = await open_chat()
    wrong_codes = 0
    while wrong_codes < MAX_FAILURES - 1:  # across several challenges (3 tries each)
        await limited.start(chat, "ramesh.kumar")
        code = code_in(sms, ramesh.mobile)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        with pytest.raises(OtpIncorrect):
            await limited.verify(chat, wrong)
        wrong_codes += 1
        clock.advance(timedelta(minutes=11))  # stay under the per-chat resend limit
    await limited.start(chat, "ramesh.kumar")
    code = code_in(sms, ramesh.mobile)
    with pytest.raises(OtpLockedOut):
        await limited.verify(chat, f"{(int(code) + 1) % 1_000_000:06d}")

    # locked: no new code in this chat for an hour...
    with pytest.raises(OtpLockedOut):
        await limited.start(chat, "ramesh.kumar")
    # ...but the guesser's lock is theirs alone: Ramesh links from his own phone meanwhile
    # (past the per-mobile cap too, which the guesser's five codes have reached).
    own = await open_chat(Channel.WHATSAPP, ramesh.mobile)
    await limited.start(own, "ramesh.kumar")
    assert (await limited.verify(own, code_in(sms, ramesh.mobile))).sso_id == "ramesh.kumar"
    clock.advance(timedelta(minutes=59))
    with pytest.raises(OtpLockedOut):
        await limited.start(chat, "ramesh.kumar")
    clock.advance(timedelta(minutes=2))
    await limited.start(chat, "ramesh.kumar")
    resident = await limited.verify(chat, code_in(sms, ramesh.mobile))
    assert resident.sso_id == "ramesh.kumar"


async def test_a_flood_gets_one_polite_answer_then_silence(
    say: Say,
    uow: InMemoryUnitOfWorkFactory,
    dialogue: FakeDialogueEngine,
    counter: InProcessRateCounter,
    clock: FakeClock,
) -> None:
    turns = TurnService(uow, clock, dialogue, limits=counter, messages_per_minute=3)
    answers = [
        (await say(turns, Channel.WHATSAPP, "+919811111111", f"bill {i}"))[1] for i in range(6)
    ]

    assert [len(a) for a in answers] == [1, 1, 1, 1, 0, 0]
    assert answers[3][0].text == messages.render("rate_limited", Language.EN)
    assert len(dialogue.turns) == 3
    other = await say(turns, Channel.WHATSAPP, "+919822222222", "bill")
    assert other[1][0].text == "[en] bill"  # one resident's flood does not limit another
    clock.advance(timedelta(minutes=1))
    again = await say(turns, Channel.WHATSAPP, "+919811111111", "bill")
    assert again[1][0].text == "[en] bill"


async def test_a_burst_is_stopped_long_before_the_minute_limit(
    say: Say,
    uow: InMemoryUnitOfWorkFactory,
    dialogue: FakeDialogueEngine,
    counter: InProcessRateCounter,
    clock: FakeClock,
) -> None:
    """20 WhatsApp messages in 3 s once cost 59 paid replies: under the per-minute limit,
    but no person types that fast."""
    turns = TurnService(uow, clock, dialogue, limits=counter, messages_per_minute=30)
    answered = 0
    for i in range(20):
        _, replies = await say(turns, Channel.WHATSAPP, "+919811111111", f"bill {i}")
        answered += bool(replies)
        clock.advance(timedelta(milliseconds=150))

    assert len(dialogue.turns) == BURST_MESSAGES
    assert answered == BURST_MESSAGES + 1  # the burst's one polite answer, then silence
    clock.advance(BURST_WINDOW)
    assert (await say(turns, Channel.WHATSAPP, "+919811111111", "bill"))[1]
