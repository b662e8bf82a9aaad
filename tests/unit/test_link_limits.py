"""Finding 5 of issue 13: the limits on linking codes stop flooding and guessing without
letting a stranger lock a resident out, and answer alike whether an SSO ID exists or not
(bot/services/link_limits.py; the policy is in README, "Linking codes: abuse limits")."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.errors import OtpAttemptsExceeded, OtpIncorrect, OtpLockedOut, TooManyOtpRequests
from bot.model.residents import Channel
from bot.ports import SsoHolder
from bot.services.link_limits import (
    MAX_SENDS,
    MAX_SENDS_PER_SSO_ID_PER_DAY,
    MAX_SSO_IDS_PER_CHAT,
)
from bot.services.linking import LinkingService
from integrations.cache.rate_counters import InProcessRateCounter
from tests.fakes import FakeClock, FakeSmsSender, FakeSsoRegistry, InMemoryUnitOfWorkFactory
from tests.unit.conftest import OTP_KEY

pytestmark = pytest.mark.asyncio


@pytest.fixture
def limited(
    uow: InMemoryUnitOfWorkFactory, sso: FakeSsoRegistry, sms: FakeSmsSender, clock: FakeClock
) -> LinkingService:
    counter = InProcessRateCounter(clock)
    return LinkingService(uow, sso, sms, clock, otp_key=OTP_KEY, limits=counter)


async def flood(open_chat, limited: LinkingService, sso_id: str, chats: int) -> list[str]:
    """A stranger asking codes for `sso_id` from many fresh web chats, each to its limit;
    what each ask came to."""
    outcomes = []
    for number in range(chats):
        chat = await open_chat(Channel.WEBCHAT, f"stranger-{sso_id}-{number}")
        for _ in range(MAX_SENDS):
            try:
                await limited.start(chat, sso_id)
                outcomes.append("sent")
            except TooManyOtpRequests:
                outcomes.append("refused")
    return outcomes


async def test_a_stranger_in_many_chats_sends_a_bounded_number_of_sms_a_day(
    open_chat, limited: LinkingService, sms: FakeSmsSender, clock: FakeClock, ramesh: SsoHolder
) -> None:
    await flood(open_chat, limited, "ramesh.kumar", chats=10)

    assert len(sms.texts_to(ramesh.mobile)) <= MAX_SENDS_PER_SSO_ID_PER_DAY
    clock.advance(timedelta(hours=24, seconds=1))
    await limited.start(await open_chat(Channel.WEBCHAT, "next-day"), "ramesh.kumar")
    assert sms.texts_to(ramesh.mobile)  # the cap is a day's, not for ever


async def test_the_holder_links_from_their_own_phone_whatever_a_stranger_did(
    open_chat, limited: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    """Before: 3 codes asked anywhere locked the SSO ID's linking for 30 minutes, and 5
    wrong codes anywhere for an hour, for the holder too."""
    await flood(open_chat, limited, "ramesh.kumar", chats=10)
    stranger = await open_chat(Channel.WEBCHAT, "stranger-guessing")
    with pytest.raises((TooManyOtpRequests, OtpLockedOut)):
        await limited.start(stranger, "ramesh.kumar")

    own = await open_chat(Channel.WHATSAPP, ramesh.mobile)
    await limited.start(own, "ramesh.kumar")
    resident = await limited.verify(own, sms.codes_sent_to(ramesh.mobile)[-1])

    assert resident.sso_id == "ramesh.kumar"


async def test_the_limits_answer_alike_for_an_sso_id_that_does_not_exist(
    open_chat, limited: LinkingService, sms: FakeSmsSender
) -> None:
    known = await flood(open_chat, limited, "ramesh.kumar", chats=5)
    unknown = await flood(open_chat, limited, "nobody.here", chats=5)

    assert known == unknown and "refused" in known
    assert not sms.texts_to("+910000000000")


async def test_one_chat_tries_only_a_few_sso_ids_an_hour(
    open_chat, limited: LinkingService, sms: FakeSmsSender, clock: FakeClock, sunita: SsoHolder
) -> None:
    """Guessing SSO IDs is slow from one chat, known and unknown ones alike."""
    chat = await open_chat(Channel.TELEGRAM, "777")
    for number in range(MAX_SSO_IDS_PER_CHAT):
        await limited.start(chat, f"guess.{number}")
    await limited.start(chat, "guess.0")  # asking again for one already tried is a resend

    with pytest.raises(TooManyOtpRequests):
        await limited.start(chat, "sunita1985")
    assert sms.texts_to(sunita.mobile) == []

    clock.advance(timedelta(hours=1, seconds=1))
    await limited.start(chat, "sunita1985")
    assert len(sms.texts_to(sunita.mobile)) == 1


async def test_wrong_codes_in_a_stranger_chat_do_not_lock_the_holder(
    open_chat, limited: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    for _ in range(2):  # a stranger's two codes, three wrong tries each
        stranger = await open_chat(Channel.WEBCHAT, f"guesser-{_}")
        await limited.start(stranger, "ramesh.kumar")
        for guess in ("000001", "000002"):
            with pytest.raises(OtpIncorrect):
                await limited.verify(stranger, guess)
        with pytest.raises(OtpAttemptsExceeded):
            await limited.verify(stranger, "000003")

    own = await open_chat(Channel.WEBCHAT, "ramesh-laptop")
    await limited.start(own, "ramesh.kumar")
    resident = await limited.verify(own, sms.codes_sent_to(ramesh.mobile)[-1])
    assert resident.sso_id == "ramesh.kumar"


async def test_an_unknown_sso_ids_answer_takes_as_long_as_a_real_sms(
    open_chat, limited: LinkingService, sms: FakeSmsSender
) -> None:
    """Without the SMS provider's answer time, an unknown SSO ID was answered at once."""
    sms.delay_s = 0.1
    for _ in range(MAX_SENDS):
        await limited.start(await open_chat(Channel.WEBCHAT, "warm-up"), "sunita1985")

    def timed(started: float) -> float:
        return time.perf_counter() - started

    started = time.perf_counter()
    await limited.start(await open_chat(Channel.WEBCHAT, "known"), "ramesh.kumar")
    known_s = timed(started)
    started = time.perf_counter()
    await limited.start(await open_chat(Channel.WEBCHAT, "unknown"), "nobody.here")
    unknown_s = timed(started)

    assert known_s >= 0.1 and unknown_s >= known_s / 2
