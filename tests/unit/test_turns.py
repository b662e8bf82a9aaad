"""One resident message through the dialogue engine, in the resident's language."""

from __future__ import annotations

import pytest

from bot.errors import DialogueUnavailable
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Language
from bot.services.turns import MAX_MESSAGE_CHARS, TurnService
from tests.fakes import FakeDialogueEngine, InMemoryDatabase, InMemoryUnitOfWorkFactory
from tests.unit.conftest import Say

pytestmark = pytest.mark.asyncio


async def test_turn_passes_the_detected_language_to_the_dialogue_engine(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine
) -> None:
    conversation, replies = await say(
        turns, Channel.WHATSAPP, "+919812345678", "bijli ka bill kitna hai"
    )

    assert dialogue.turns == [
        (conversation.conversation_id, "bijli ka bill kitna hai", Language.HI)
    ]
    assert replies == [OutboundMessage(text="[hi] bijli ka bill kitna hai")]


async def test_turns_from_one_address_share_a_conversation_and_its_language(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine, db: InMemoryDatabase
) -> None:
    await say(turns, Channel.TELEGRAM, "4242", "मेरा बिल")
    await say(turns, Channel.TELEGRAM, "4242", "210145678912")

    assert len(db.conversations) == 1
    assert [language for _, _, language in dialogue.turns] == [Language.HI, Language.HI]


async def test_overlong_message_is_truncated_before_the_dialogue_engine(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine
) -> None:
    text = "what is my bill " * 500

    await say(turns, Channel.WEBCHAT, "web-1", text)

    ((_, passed, _),) = dialogue.turns
    assert len(passed) == MAX_MESSAGE_CHARS
    assert text.startswith(passed)


async def test_surrounding_whitespace_is_stripped(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine
) -> None:
    await say(turns, Channel.SMS, "+919812345678", "  what is my bill \n")

    assert dialogue.turns[0][1] == "what is my bill"


async def test_dialogue_engine_down_is_reported(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine
) -> None:
    dialogue.unavailable = True

    with pytest.raises(DialogueUnavailable):
        await say(turns, Channel.WHATSAPP, "+919812345678", "hello there")


async def test_a_button_press_first_does_not_lock_the_chat_into_english(
    say: Say, turns: TurnService, dialogue: FakeDialogueEngine
) -> None:
    await say(turns, Channel.WEBCHAT, "web-7", "/payment_history")
    await say(turns, Channel.WEBCHAT, "web-7", "मेरा बिजली का बिल")

    assert dialogue.turns[-1][2] is Language.HI


async def test_a_turn_at_an_address_opens_its_conversation_in_the_turns_transaction(
    turns: TurnService,
    dialogue: FakeDialogueEngine,
    db: InMemoryDatabase,
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    first = await turns.handle_at(Channel.WEBCHAT, "web-session-1", "मेरा बिल")
    second = await turns.handle_at(Channel.WEBCHAT, "web-session-1", "hello")

    # Created on first contact, the same one after; its language chosen once.
    (conversation,) = db.conversations.values()
    assert conversation.address == "web-session-1"
    assert conversation.language is Language.HI
    assert [cid for cid, _, _ in dialogue.turns] == [conversation.conversation_id] * 2
    assert first == [OutboundMessage(text="[hi] मेरा बिल")]
    assert second == [OutboundMessage(text="[hi] hello")]
    # No transaction of its own for the conversation: one per turn before the dialogue.
    assert uow.opened == 2
