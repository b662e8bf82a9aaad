"""What the gateway does for conversation repair before the dialogue engine runs: a typed
code is checked and only its outcome passed on; a typed option number on the web chat
presses that button; one conversation keeps one language."""

from __future__ import annotations

import pytest

from bot.model.outbound import Button, OutboundMessage
from bot.model.residents import Channel, Language
from bot.ports import SsoHolder
from bot.services.conversations import ConversationService
from bot.services.effects import TurnEffects
from bot.services.linking import LinkingService
from bot.services.turns import TurnService
from tests.fakes import (
    FakeClock,
    FakeDialogueEngine,
    FakeEffectLedger,
    FakeSmsSender,
    InMemoryUnitOfWorkFactory,
)
from tests.unit.conftest import Say

pytestmark = pytest.mark.asyncio
WEB = "web-resident-1"


@pytest.fixture
def gated(
    uow: InMemoryUnitOfWorkFactory,
    clock: FakeClock,
    dialogue: FakeDialogueEngine,
    linking: LinkingService,
) -> TurnService:
    return TurnService(uow, clock, dialogue, linking=linking)


async def test_a_typed_code_never_reaches_the_dialogue_engine_only_its_outcome(
    say: Say,
    gated: TurnService,
    dialogue: FakeDialogueEngine,
    linking: LinkingService,
    conversations: ConversationService,
    sms: FakeSmsSender,
    ramesh: SsoHolder,
) -> None:
    conversation, _ = await say(gated, Channel.WEBCHAT, WEB, "link my sso id")
    await linking.start(conversation.conversation_id, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]

    await say(gated, Channel.WEBCHAT, WEB, "999999" if code != "999999" else "999998")
    await say(gated, Channel.WEBCHAT, WEB, f"code is {code}")

    passed = [text for _, text, _ in dialogue.turns]
    assert passed[1:] == ['/inform{"otp_result": "wrong:2"}', '/inform{"otp_result": "verified"}']
    assert all(code not in text for text in passed)
    assert await conversations.resident(conversation.conversation_id) is not None


async def test_a_code_with_none_pending_reaches_the_engine_as_none_never_as_digits(
    say: Say, gated: TurnService, dialogue: FakeDialogueEngine
) -> None:
    """A code already used (or sent to another chat) is still a code: issue 13 found them
    in Rasa's tracker store. A sentence that merely holds six digits stays text."""
    await say(gated, Channel.WEBCHAT, WEB, "123456")
    await say(gated, Channel.WEBCHAT, WEB, "code is 123 456")
    await say(gated, Channel.WEBCHAT, WEB, "no power in 302001 since noon")

    assert [text for _, text, _ in dialogue.turns] == [
        '/inform{"otp_result": "none"}',
        '/inform{"otp_result": "none"}',
        "no power in 302001 since noon",
    ]


async def test_a_typed_number_on_the_web_chat_presses_the_button_it_numbers(
    say: Say, gated: TurnService, dialogue: FakeDialogueEngine
) -> None:
    yes_no = (Button("Yes, pay ₹3,107.50", "/affirm"), Button("Not now", "/deny"))
    dialogue.replies = [OutboundMessage("Shall I make the payment link?", yes_no)]
    await say(gated, Channel.WEBCHAT, WEB, "pay my bill")
    dialogue.replies = [OutboundMessage("Here is your link")]

    await say(gated, Channel.WEBCHAT, WEB, "1")
    await say(gated, Channel.WEBCHAT, WEB, "1")  # the link had no buttons: "1" is just "1"

    assert [text for _, text, _ in dialogue.turns] == ["pay my bill", "/affirm", "1"]


async def test_a_conversation_keeps_its_language_when_it_is_linked(
    say: Say,
    gated: TurnService,
    dialogue: FakeDialogueEngine,
    linking: LinkingService,
    sms: FakeSmsSender,
    ramesh: SsoHolder,
) -> None:
    """Ramesh chose English on the SSO portal, but writes Hinglish here: the conversation
    stays Hindi after linking, and the code's SMS is in Hindi too."""
    conversation, _ = await say(gated, Channel.WHATSAPP, "+919811111111", "bijli ka bill kitna hai")
    await linking.start(conversation.conversation_id, "ramesh.kumar")
    await say(gated, Channel.WHATSAPP, "+919811111111", sms.codes_sent_to(ramesh.mobile)[-1])
    await say(gated, Channel.WHATSAPP, "+919811111111", "ok thanks")

    assert ramesh.language is Language.EN
    assert {language for _, _, language in dialogue.turns} == {Language.HI}
    assert "SSO ID जोड़ने का कोड" in sms.texts_to(ramesh.mobile)[-1]


async def test_telegrams_language_code_is_the_first_guess(
    say: Say, gated: TurnService, dialogue: FakeDialogueEngine
) -> None:
    await say(gated, Channel.TELEGRAM, "4242", "/start", language_hint=Language.HI)
    await say(gated, Channel.TELEGRAM, "4243", "my bill please", language_hint=Language.HI)

    assert [language for _, _, language in dialogue.turns] == [Language.HI, Language.EN]


async def test_a_turn_run_again_gets_its_first_code_check_not_a_second(
    say: Say,
    uow: InMemoryUnitOfWorkFactory,
    clock: FakeClock,
    dialogue: FakeDialogueEngine,
    linking: LinkingService,
    sms: FakeSmsSender,
    ramesh: SsoHolder,
) -> None:
    """Rasa died after the gateway checked (and used up) the code: the same message, run
    again, passes on "verified" again, never the code and never "no code pending"."""
    effects = TurnEffects(FakeEffectLedger(), clock)
    turns = TurnService(uow, clock, dialogue, linking=linking, effects=effects)
    conversation, _ = await say(turns, Channel.WEBCHAT, WEB, "link my sso id")
    await linking.start(conversation.conversation_id, "ramesh.kumar")
    code = sms.codes_sent_to(ramesh.mobile)[-1]

    await say(turns, Channel.WEBCHAT, WEB, code, message_key="webchat:m1")
    await say(turns, Channel.WEBCHAT, WEB, code, message_key="webchat:m1")

    passed = [text for _, text, _ in dialogue.turns][1:]
    assert passed == ['/inform{"otp_result": "verified"}'] * 2
