"""Conversations per channel address, and the language the bot answers in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.model.residents import Channel, Language
from bot.ports import SsoHolder
from bot.services.conversations import ConversationService
from bot.services.linking import LinkingService
from bot.services.turns import TurnService
from tests.fakes import FakeDialogueEngine, FakeSmsSender, InMemoryDatabase
from tests.unit.conftest import Say

pytestmark = pytest.mark.asyncio

AnswerIn = Callable[[str, str], Awaitable[Language]]


@pytest.fixture
def answer_in(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine, db: InMemoryDatabase
) -> AnswerIn:
    """A resident's message on the chat `chat_id`, through the turn every channel takes; the
    language the dialogue was asked to answer in."""

    async def answer(chat_id: str, text: str) -> Language:
        chat = db.conversations[chat_id]
        await say(turns, chat.channel, chat.address, text)
        return dialogue.turns[-1][2]

    return answer


# --- opening -----------------------------------------------------------------------------------
async def test_open_is_idempotent_per_channel_and_address(
    conversations: ConversationService, db: InMemoryDatabase
) -> None:
    first = await conversations.open(Channel.WHATSAPP, "+919812345678")
    again = await conversations.open(Channel.WHATSAPP, "+919812345678")

    assert again == first
    assert len(db.conversations) == 1
    assert (first.resident_id, first.language) == (None, None)


async def test_same_address_on_another_channel_is_another_conversation(
    conversations: ConversationService,
) -> None:
    whatsapp = await conversations.open(Channel.WHATSAPP, "+919812345678")
    sms = await conversations.open(Channel.SMS, "+919812345678")

    assert whatsapp.conversation_id != sms.conversation_id


async def test_conversation_id_does_not_reveal_the_address(
    conversations: ConversationService,
) -> None:
    conversation = await conversations.open(Channel.WHATSAPP, "+919812345678")

    assert "9812345678" not in conversation.conversation_id


async def test_resident_of_an_unlinked_or_unknown_chat_is_none(
    open_chat, conversations: ConversationService
) -> None:
    assert await conversations.resident(await open_chat()) is None
    assert await conversations.resident("no-such-conversation") is None


# --- language detection ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मेरा बिजली का बिल कितना है", Language.HI),
        ("bijli ka bill kitna hai", Language.HI),
        ("what is my bill", Language.EN),
    ],
)
async def test_language_is_detected_from_the_message(
    answer_in: AnswerIn,
    open_chat,
    text: str,
    expected: Language,
) -> None:
    chat = await open_chat()

    assert await answer_in(chat, text) is expected


async def test_english_is_the_default_when_nothing_can_be_detected(
    answer_in: AnswerIn, open_chat
) -> None:
    assert await answer_in(await open_chat(), "123456") is Language.EN


@pytest.mark.parametrize("neutral", ["123456", "ok", "ramesh.kumar", "2101 4567 8912"])
async def test_message_saying_too_little_keeps_the_previous_language(
    answer_in: AnswerIn, open_chat, neutral: str
) -> None:
    chat = await open_chat()
    await answer_in(chat, "bijli ka bill kitna hai")

    assert await answer_in(chat, neutral) is Language.HI


async def test_detected_language_is_remembered_for_the_chat(
    answer_in: AnswerIn, open_chat, db: InMemoryDatabase
) -> None:
    chat = await open_chat()

    await answer_in(chat, "मेरा बिल")

    assert db.conversations[chat].language is Language.HI


# --- choosing a language -----------------------------------------------------------------------
async def test_chosen_language_persists_to_the_resident_and_wins_over_detection(
    answer_in: AnswerIn,
    linked_chat,
    conversations: ConversationService,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)

    await conversations.set_language(chat, Language.HI)

    resident = await conversations.resident(chat)
    assert resident is not None and resident.language is Language.HI
    assert await answer_in(chat, "what is my bill") is Language.HI


async def test_chosen_language_follows_the_resident_to_their_other_chats(
    answer_in: AnswerIn, linked_chat, conversations: ConversationService, ramesh: SsoHolder
) -> None:
    whatsapp = await linked_chat(ramesh, Channel.WHATSAPP)
    telegram = await linked_chat(ramesh, Channel.TELEGRAM)

    await conversations.set_language(whatsapp, Language.HI)

    # A first guess where the message says too little; what the resident writes wins.
    assert await answer_in(telegram, "hi") is Language.HI
    other = await linked_chat(ramesh, Channel.SMS)
    assert await answer_in(other, "what is my bill") is Language.EN


async def test_new_resident_starts_in_the_language_the_chat_was_speaking(
    answer_in: AnswerIn,
    open_chat,
    linking: LinkingService,
    sms: FakeSmsSender,
    ramesh: SsoHolder,
) -> None:
    chat = await open_chat()
    await answer_in(chat, "bijli ka bill kitna hai")
    await linking.start(chat, ramesh.sso_id)

    resident = await linking.verify(chat, sms.codes_sent_to(ramesh.mobile)[-1])

    assert resident.language is Language.HI  # registered in English, but chatting in Hindi


async def test_new_resident_takes_the_sso_language_when_the_chat_had_none(
    linked_chat, conversations: ConversationService, sunita: SsoHolder
) -> None:
    chat = await linked_chat(sunita)

    resident = await conversations.resident(chat)

    assert resident is not None and resident.language is Language.HI


async def test_language_chosen_before_linking_wins_over_detection(
    answer_in: AnswerIn, open_chat, conversations: ConversationService
) -> None:
    chat = await open_chat()
    await conversations.set_language(chat, Language.EN)

    assert await answer_in(chat, "bijli ka bill kitna hai") is Language.EN


async def test_linking_another_chat_keeps_the_language_the_resident_chose(
    answer_in: AnswerIn,
    linked_chat,
    open_chat,
    conversations: ConversationService,
    linking: LinkingService,
    sms: FakeSmsSender,
    ramesh: SsoHolder,
) -> None:
    whatsapp = await linked_chat(ramesh)
    await conversations.set_language(whatsapp, Language.EN)
    telegram = await open_chat(Channel.TELEGRAM, "5551234")
    await answer_in(telegram, "bijli ka bill kitna hai")
    await linking.start(telegram, ramesh.sso_id)
    await linking.verify(telegram, sms.codes_sent_to(ramesh.mobile)[-1])

    assert await answer_in(whatsapp, "ok") is Language.EN


# --- a turn's language: detected once, else the linked resident's ------------------------------
async def test_a_first_message_creates_the_chat_and_remembers_the_detected_language(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine, db: InMemoryDatabase
) -> None:
    conversation, _ = await say(turns, Channel.SMS, "+919812345678", "bijli ka bill kitna hai")

    assert dialogue.turns[-1][2] is Language.HI
    assert db.conversations[conversation.conversation_id].language is Language.HI
    again, _ = await say(turns, Channel.SMS, "+919812345678", "what is my bill")
    assert again.conversation_id == conversation.conversation_id
    assert dialogue.turns[-1][2] is Language.HI  # detected once; only a switch changes it


async def test_a_turn_answers_in_the_linked_residents_language(
    linked_chat,
    say: Say,
    conversations: ConversationService,
    turns: TurnService,
    dialogue: FakeDialogueEngine,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh, Channel.WHATSAPP)
    await conversations.set_language(chat, Language.HI)
    address = db.conversations[chat].address

    conversation, _ = await say(turns, Channel.WHATSAPP, address, "what is my bill")

    assert conversation.conversation_id == chat
    assert dialogue.turns[-1][2] is Language.HI  # the resident's choice, not this message
