"""Conversations and the resident behind them: opening one per channel address, language choice."""

from __future__ import annotations

import secrets
from datetime import datetime

from bot.errors import NotLinked
from bot.model.language import detect_language
from bot.model.outbound import PushedMessage
from bot.model.residents import Channel, Conversation, Language, Resident
from bot.ports import Clock, UnitOfWork, UnitOfWorkFactory


class ConversationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def open(self, channel: Channel, address: str) -> Conversation:
        """The conversation for this channel address, created on first contact."""
        async with self._uow() as tx:
            conversation, created = await find_or_create(tx, channel, address, self._clock.now())
            if created:
                await tx.commit()
            return conversation

    async def set_language(self, conversation_id: str, language: Language) -> None:
        """The resident asked for `language`: remembered for this chat and, once linked,
        for the resident on every channel."""
        async with self._uow() as tx:
            conversation = await get_conversation(tx, conversation_id)
            conversation.language = language
            await tx.conversations.update(conversation)
            resident = await _resident_of(tx, conversation)
            if resident is not None:
                resident.language = language
                await tx.residents.update(resident)
            await tx.commit()

    async def pushed(
        self, channel: Channel, address: str, after_sequence: int, limit: int = 50
    ) -> list[PushedMessage]:
        """Messages pushed to this address outside a turn (receipts, payment news), newer
        than `after_sequence`; none for an address that never wrote to us."""
        async with self._uow() as tx:
            conversation = await tx.conversations.find(channel, address)
            if conversation is None:
                return []
            return await tx.outbox.after(conversation.conversation_id, after_sequence, limit)

    async def resident(self, conversation_id: str) -> Resident | None:
        async with self._uow() as tx:
            conversation = await tx.conversations.get(conversation_id)
            return await _resident_of(tx, conversation) if conversation else None


async def get_conversation(tx: UnitOfWork, conversation_id: str) -> Conversation:
    conversation = await tx.conversations.get(conversation_id)
    if conversation is None:
        raise NotLinked(f"unknown conversation {conversation_id}")
    return conversation


async def find_or_create(
    tx: UnitOfWork, channel: Channel, address: str, now: datetime
) -> tuple[Conversation, bool]:
    """The conversation for this channel address, and True when it was just created."""
    conversation = await tx.conversations.find(channel, address)
    if conversation is not None:
        return conversation, False
    conversation = Conversation(
        conversation_id=secrets.token_hex(12),
        channel=channel,
        address=address,
        resident_id=None,
        language=None,
        created_at=now,
    )
    await tx.conversations.add(conversation)
    return conversation, True


async def answer_language(
    tx: UnitOfWork, conversation: Conversation, text: str, hint: Language | None = None
) -> tuple[Language, bool]:
    """The language to answer `text` in, and True when the conversation's language was just
    set. One conversation, one language: once chosen or detected it stays until the resident
    asks for the other one. Before that: the one detected from this message, else the
    channel's `hint` (Telegram's language_code), else the linked resident's (chosen in
    another chat), else English (not remembered, so a later message can still decide).

    Detection happens once, so a resident answering a Hindi conversation with an English
    word ("ok", an SSO ID) is not flipped; and linking never switches a conversation to the
    language the resident used elsewhere (their SSO profile's, or another chat's)."""
    if conversation.language is not None:
        return conversation.language, False
    chosen = detect_language(text) or hint
    if chosen is None:
        resident = await _resident_of(tx, conversation)
        chosen = resident.language if resident is not None else None
    if chosen is None:
        return Language.EN, False
    conversation.language = chosen
    await tx.conversations.update(conversation)
    return chosen, True


async def _resident_of(tx: UnitOfWork, conversation: Conversation) -> Resident | None:
    if conversation.resident_id is None:
        return None
    return await tx.residents.get(conversation.resident_id)


async def linked_resident(tx: UnitOfWork, conversation_id: str) -> tuple[Conversation, Resident]:
    """The conversation and its linked resident, or NotLinked."""
    conversation = await get_conversation(tx, conversation_id)
    resident = await _resident_of(tx, conversation)
    if resident is None:
        raise NotLinked(conversation_id)
    return conversation, resident


def language_of(conversation: Conversation, resident: Resident | None) -> Language:
    """The language to write to this conversation in, outside a turn: the conversation's own
    (one conversation, one language), else the resident's."""
    if conversation.language is not None:
        return conversation.language
    return resident.language if resident is not None else Language.EN
