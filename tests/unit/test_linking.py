"""Linking a chat to an SSO ID with a code sent to the SSO holder's registered mobile."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot import messages
from bot.errors import (
    InvalidOtpFormat,
    InvalidSsoId,
    NoPendingLink,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpIncorrect,
    SmsUnavailable,
    SsoUnavailable,
    TooManyOtpRequests,
)
from bot.model.residents import Channel, Language
from bot.ports import SsoHolder
from bot.services.conversations import ConversationService
from bot.services.linking import LinkingService
from tests.fakes import FakeClock, FakeSmsSender, FakeSsoRegistry, InMemoryDatabase

pytestmark = pytest.mark.asyncio

TO_DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


def wrong(code: str) -> str:
    """A 6-digit code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- sending the code ----------------------------------------------------------------------
async def test_code_goes_to_the_sso_holders_mobile_not_to_the_chatter(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat(Channel.WHATSAPP, "+917000000999")

    started = await linking.start(chat, "ramesh.kumar")

    assert [to for to, _ in sms.sent] == [ramesh.mobile]
    assert started.sso_id == "ramesh.kumar" and started.valid_minutes == 5


async def test_sms_holds_a_six_digit_code_in_english_for_an_english_holder(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    await linking.start(await open_chat(), "ramesh.kumar")

    (text,) = sms.texts_to(ramesh.mobile)
    (code,) = re.findall(r"(?<!\d)\d{6}(?!\d)", text)
    assert text == messages.render("otp_sms", Language.EN, otp=code, minutes=5)


async def test_sms_is_in_hindi_for_a_holder_registered_in_hindi(
    open_chat, linking: LinkingService, sms: FakeSmsSender, sunita: SsoHolder
) -> None:
    await linking.start(await open_chat(), "sunita1985")

    (text,) = sms.texts_to(sunita.mobile)
    (code,) = sms.codes_sent_to(sunita.mobile)
    assert text == messages.render("otp_sms", Language.HI, otp=code, minutes=5)
    assert re.search(r"[\u0900-\u097F]", text)


async def test_sso_id_is_found_in_a_sentence_and_case_does_not_matter(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    started = await linking.start(await open_chat(), "my sso id is Ramesh.Kumar")

    assert started.sso_id == "ramesh.kumar"
    assert len(sms.texts_to(ramesh.mobile)) == 1


async def test_sso_id_at_the_end_of_a_sentence_with_a_full_stop(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    started = await linking.start(await open_chat(), "My SSO ID is ramesh.kumar.")

    assert started.sso_id == "ramesh.kumar"
    assert len(sms.texts_to(ramesh.mobile)) == 1


@pytest.mark.parametrize("typed", ["ab", "ramesh@kumar", "hello there", "x" * 31, ""])
async def test_text_that_cannot_be_an_sso_id_is_refused_without_asking_the_registry(
    open_chat, linking: LinkingService, sso: FakeSsoRegistry, sms: FakeSmsSender, typed: str
) -> None:
    with pytest.raises(InvalidSsoId):
        await linking.start(await open_chat(), typed)

    assert sso.lookups == []
    assert sms.sent == []


async def test_unknown_sso_id_is_answered_as_a_known_one_and_sends_nothing(
    open_chat, linking: LinkingService, sms: FakeSmsSender
) -> None:
    """Finding 5: "could not find" vs "sent to ••••0002" told which SSO IDs exist."""
    known_chat, unknown_chat = await open_chat(), await open_chat()

    known = await linking.start(known_chat, "ramesh.kumar")
    unknown = await linking.start(unknown_chat, "nobody.here")

    assert (known.valid_minutes, unknown.valid_minutes) == (5, 5)
    assert "5678" not in repr(known)  # no digits of the mobile to show anyone
    assert [to for to, _ in sms.sent] == ["+919812345678"]  # nobody's phone for nobody.here
    # Typing a code afterwards answers alike too: a wrong code, tries left.
    with pytest.raises(OtpIncorrect) as on_known:
        await linking.verify(known_chat, wrong(sms.codes_sent_to("+919812345678")[-1]))
    with pytest.raises(OtpIncorrect) as on_unknown:
        await linking.verify(unknown_chat, "123456")
    assert on_known.value.attempts_left == on_unknown.value.attempts_left == 2


async def test_registry_down_is_reported_and_sends_nothing(
    open_chat, linking: LinkingService, sso: FakeSsoRegistry, sms: FakeSmsSender
) -> None:
    sso.unavailable = True

    with pytest.raises(SsoUnavailable):
        await linking.start(await open_chat(), "ramesh.kumar")

    assert sms.sent == []


async def test_sms_failure_leaves_no_challenge_behind(
    open_chat, linking: LinkingService, sms: FakeSmsSender, db: InMemoryDatabase
) -> None:
    chat = await open_chat()
    sms.unavailable = True

    with pytest.raises(SmsUnavailable):
        await linking.start(chat, "ramesh.kumar")

    assert db.challenges == {}
    with pytest.raises(NoPendingLink):
        await linking.verify(chat, "123456")


async def test_failed_sms_do_not_count_against_the_resend_limit(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    sms.unavailable = True
    for _ in range(3):
        with pytest.raises(SmsUnavailable):
            await linking.start(chat, "ramesh.kumar")
    sms.unavailable = False

    await linking.start(chat, "ramesh.kumar")

    assert len(sms.codes_sent_to(ramesh.mobile)) == 1


async def test_stored_challenge_never_holds_the_plain_code(
    open_chat,
    linking: LinkingService,
    sms: FakeSmsSender,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    (code,) = sms.codes_sent_to(ramesh.mobile)

    challenge = db.challenges[chat]
    stored_text = [str(value) for value in vars(challenge).values()]
    assert not any(code in value for value in stored_text)
    assert challenge.expires_at - challenge.sent_at == timedelta(minutes=5)


# --- checking the code ---------------------------------------------------------------------
async def test_correct_code_links_the_chat_and_creates_one_resident(
    open_chat,
    linking: LinkingService,
    conversations: ConversationService,
    sms: FakeSmsSender,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")

    resident = await linking.verify(chat, sms.codes_sent_to(ramesh.mobile)[-1])

    assert (resident.sso_id, resident.name, resident.mobile) == (
        "ramesh.kumar",
        "Ramesh Kumar",
        ramesh.mobile,
    )
    assert await conversations.resident(chat) == resident
    assert list(db.residents) == [resident.resident_id]
    assert db.challenges == {}


async def test_code_is_single_use(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]
    await linking.verify(chat, code)

    with pytest.raises(NoPendingLink):
        await linking.verify(chat, code)


async def test_code_works_only_in_the_chat_that_asked_for_it(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    asking, other = await open_chat(), await open_chat()
    await linking.start(asking, "ramesh.kumar")

    with pytest.raises(NoPendingLink):
        await linking.verify(other, sms.codes_sent_to(ramesh.mobile)[-1])


async def test_a_second_chat_linking_the_same_sso_id_reuses_the_resident(
    linked_chat, conversations: ConversationService, db: InMemoryDatabase, ramesh: SsoHolder
) -> None:
    on_whatsapp = await linked_chat(ramesh, Channel.WHATSAPP)
    on_telegram = await linked_chat(ramesh, Channel.TELEGRAM)

    first = await conversations.resident(on_whatsapp)
    second = await conversations.resident(on_telegram)
    assert first is not None and second is not None
    assert first.resident_id == second.resident_id
    assert len(db.residents) == 1


async def test_code_typed_with_spaces_or_in_a_sentence_links(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]

    resident = await linking.verify(chat, f"code is {code[:3]} {code[3:]}")

    assert resident.sso_id == "ramesh.kumar"


async def test_code_typed_in_devanagari_digits_links(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]

    resident = await linking.verify(chat, f"कोड {code.translate(TO_DEVANAGARI)} है")

    assert resident.sso_id == "ramesh.kumar"


async def test_wrong_code_says_how_many_attempts_are_left(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]

    with pytest.raises(OtpIncorrect) as first:
        await linking.verify(chat, wrong(code))
    with pytest.raises(OtpIncorrect) as second:
        await linking.verify(chat, wrong(code))

    assert (first.value.attempts_left, second.value.attempts_left) == (2, 1)
    assert (await linking.verify(chat, code)).sso_id == "ramesh.kumar"


async def test_wrong_code_three_times_voids_the_challenge(
    open_chat,
    linking: LinkingService,
    sms: FakeSmsSender,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]
    for _ in range(2):
        with pytest.raises(OtpIncorrect):
            await linking.verify(chat, wrong(code))

    with pytest.raises(OtpAttemptsExceeded):
        await linking.verify(chat, wrong(code))

    with pytest.raises(NoPendingLink):
        await linking.verify(chat, code)
    assert db.residents == {}


async def test_message_without_a_six_digit_code_uses_no_attempt(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]

    for typed in ("I did not get it", "12345", "1234567"):
        with pytest.raises(InvalidOtpFormat):
            await linking.verify(chat, typed)

    with pytest.raises(OtpIncorrect) as after:
        await linking.verify(chat, wrong(code))
    assert after.value.attempts_left == 2


async def test_code_expires_after_five_minutes(
    open_chat, linking: LinkingService, sms: FakeSmsSender, clock: FakeClock, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]
    clock.advance(timedelta(minutes=5, seconds=1))

    with pytest.raises(OtpExpired):
        await linking.verify(chat, code)
    with pytest.raises(NoPendingLink):
        await linking.verify(chat, code)


async def test_code_still_works_just_before_five_minutes(
    open_chat, linking: LinkingService, sms: FakeSmsSender, clock: FakeClock, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    clock.advance(timedelta(minutes=4, seconds=59))

    resident = await linking.verify(chat, sms.codes_sent_to(ramesh.mobile)[-1])

    assert resident.sso_id == "ramesh.kumar"


async def test_after_a_resend_a_late_first_code_still_links_until_it_expires(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder, clock: FakeClock
) -> None:
    """ "The code did not come", a resend, then the first SMS arrives after all: it works."""
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    clock.advance(timedelta(minutes=1))
    await linking.resend(chat)
    old, _new = sms.codes_sent_to(ramesh.mobile)

    assert (await linking.verify(chat, old)).sso_id == "ramesh.kumar"


async def test_after_a_resend_the_first_code_expires_on_its_own_time(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder, clock: FakeClock
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    clock.advance(timedelta(minutes=3))
    await linking.resend(chat)
    old, new = sms.codes_sent_to(ramesh.mobile)
    clock.advance(timedelta(minutes=2, seconds=30))  # the first is 5.5 min old, the second 2.5

    if old != new:  # one chance in a million that the two codes are equal
        with pytest.raises(OtpIncorrect):
            await linking.verify(chat, old)
    assert (await linking.verify(chat, new)).sso_id == "ramesh.kumar"


async def test_a_resend_counts_against_the_same_limit_as_asking(
    open_chat, linking: LinkingService
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    await linking.resend(chat)
    await linking.resend(chat)

    with pytest.raises(TooManyOtpRequests):
        await linking.resend(chat)


async def test_a_resend_with_nothing_asked_says_so(open_chat, linking: LinkingService) -> None:
    with pytest.raises(NoPendingLink):
        await linking.resend(await open_chat())


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [("123 456", "wrong:2"), ("my code is 123456", "wrong:2"), ("hello", None)],
)
async def test_a_typed_code_is_checked_and_only_its_outcome_passed_on(
    open_chat, linking: LinkingService, typed: str, outcome: str | None
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")

    assert await linking.check_typed_code(chat, typed) == outcome


async def test_the_right_code_links_through_the_check_and_with_none_pending_a_code_is_none(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    # A code with none pending (used, expired, another chat's) is still kept from the engine.
    assert await linking.check_typed_code(chat, "123456") == "none"
    assert await linking.check_typed_code(chat, "my code is 123-456") == "none"
    assert await linking.check_typed_code(chat, "no power in 302001 since noon") is None
    await linking.start(chat, "ramesh.kumar")

    assert await linking.check_typed_code(chat, sms.codes_sent_to(ramesh.mobile)[-1]) == "verified"


async def test_a_long_message_is_a_code_only_when_it_holds_the_right_one(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]
    other = "302001" if code != "302001" else "302002"
    sentence = "the code that came on my phone just now is {} thank you"

    assert await linking.check_typed_code(chat, sentence.format(other)) is None
    assert (await linking.pending(chat)).attempts_left == 3  # no try used
    assert await linking.check_typed_code(chat, sentence.format(code)) == "verified"


async def test_verify_with_no_code_requested_says_so(open_chat, linking: LinkingService) -> None:
    with pytest.raises(NoPendingLink):
        await linking.verify(await open_chat(), "123456")


async def test_unlink_detaches_the_chat_but_keeps_the_resident(
    linked_chat,
    linking: LinkingService,
    conversations: ConversationService,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)

    assert await linking.unlink(chat) is True
    assert await conversations.resident(chat) is None
    assert len(db.residents) == 1
    assert await linking.unlink(chat) is False


# --- resend limit --------------------------------------------------------------------------
async def test_codes_asked_in_other_chats_do_not_use_up_this_chats_limit(
    open_chat, linking: LinkingService, sms: FakeSmsSender, clock: FakeClock, ramesh: SsoHolder
) -> None:
    for _ in range(3):
        await linking.start(await open_chat(), "ramesh.kumar")
        clock.advance(timedelta(minutes=5))

    await linking.start(await open_chat(Channel.TELEGRAM, "4242"), "ramesh.kumar")

    assert len(sms.texts_to(ramesh.mobile)) == 4


async def test_fourth_code_in_thirty_minutes_is_refused_in_one_conversation(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    for _ in range(3):
        await linking.start(chat, "ramesh.kumar")

    with pytest.raises(TooManyOtpRequests):
        await linking.start(chat, "ramesh.kumar")

    assert len(sms.texts_to(ramesh.mobile)) == 3


async def test_resend_limit_of_one_sso_id_does_not_block_another(
    open_chat, linking: LinkingService, sms: FakeSmsSender, sunita: SsoHolder
) -> None:
    for _ in range(3):
        await linking.start(await open_chat(), "ramesh.kumar")

    await linking.start(await open_chat(), "sunita1985")

    assert len(sms.texts_to(sunita.mobile)) == 1


async def test_resend_window_resets_after_thirty_minutes(
    open_chat, linking: LinkingService, sms: FakeSmsSender, clock: FakeClock, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    for _ in range(3):
        await linking.start(chat, "ramesh.kumar")
    with pytest.raises(TooManyOtpRequests):
        await linking.start(chat, "ramesh.kumar")

    clock.advance(timedelta(minutes=30, seconds=1))
    await linking.start(chat, "ramesh.kumar")

    assert len(sms.texts_to(ramesh.mobile)) == 4
    assert (await linking.verify(chat, sms.codes_sent_to(ramesh.mobile)[-1])).sso_id == (
        "ramesh.kumar"
    )


async def test_voiding_a_challenge_with_wrong_codes_does_not_reset_the_resend_limit(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    for _ in range(3):
        await linking.start(chat, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]
    for _ in range(2):
        with pytest.raises(OtpIncorrect):
            await linking.verify(chat, wrong(code))
    with pytest.raises(OtpAttemptsExceeded):
        await linking.verify(chat, wrong(code))

    with pytest.raises(TooManyOtpRequests):
        await linking.start(chat, "ramesh.kumar")
    assert len(sms.texts_to(ramesh.mobile)) == 3


async def test_switching_sso_id_in_between_does_not_reset_the_resend_limit(
    open_chat, linking: LinkingService, sms: FakeSmsSender, ramesh: SsoHolder
) -> None:
    chat = await open_chat()
    for _ in range(3):
        await linking.start(chat, "ramesh.kumar")
        await linking.start(chat, "sunita1985")

    with pytest.raises(TooManyOtpRequests):
        await linking.start(chat, "ramesh.kumar")
    assert len(sms.texts_to(ramesh.mobile)) == 3
