"""One resident message in, the bot's replies out: the path every channel shares."""

from __future__ import annotations

from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Conversation
from bot.ports import DialogueEngine
from bot.services.conversations import ConversationService
from bot.services.handoff import HandoffService

# A resident pasting a novel must not cost a classifier run on 100 KB.
MAX_MESSAGE_CHARS = 1000


class TurnService:
    def __init__(
        self,
        conversations: ConversationService,
        dialogue: DialogueEngine,
        handoff: HandoffService | None = None,
    ) -> None:
        self._conversations = conversations
        self._dialogue = dialogue
        self._handoff = handoff

    async def handle(
        self, channel: Channel, address: str, text: str
    ) -> tuple[Conversation, list[OutboundMessage]]:
        """Answer `text` from `address` on `channel`, in the resident's language.

        Callers serialise turns per conversation; raises DialogueUnavailable.
        """
        conversation = await self._conversations.open(channel, address)
        text = text.strip()[:MAX_MESSAGE_CHARS]
        if self._handoff is not None:
            # While an agent has (or is about to have) the conversation, the bot is silent.
            held = await self._handoff.intercept(conversation, text)
            if held is not None:
                return conversation, held
        language = await self._conversations.language_for_message(
            conversation.conversation_id, text
        )
        replies = await self._dialogue.converse(conversation.conversation_id, text, language)
        return conversation, replies
