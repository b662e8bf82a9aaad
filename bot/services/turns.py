"""One resident message in, the bot's replies out: the path every channel shares."""

from __future__ import annotations

from bot import messages
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Conversation
from bot.model.sensitive import screen
from bot.ports import DialogueEngine
from bot.services.conversations import ConversationService

# A resident pasting a novel must not cost a classifier run on 100 KB.
MAX_MESSAGE_CHARS = 1000


class TurnService:
    def __init__(self, conversations: ConversationService, dialogue: DialogueEngine) -> None:
        self._conversations = conversations
        self._dialogue = dialogue

    async def handle(
        self, channel: Channel, address: str, text: str
    ) -> tuple[Conversation, list[OutboundMessage]]:
        """Answer `text` from `address` on `channel`, in the resident's language.

        Callers serialise turns per conversation; raises DialogueUnavailable.
        """
        conversation = await self._conversations.open(channel, address)
        # Secrets are cut out before anything reads or stores the text (Rasa's tracker first).
        screened = screen(text.strip()[:MAX_MESSAGE_CHARS])
        text = screened.without_markers if screened.found else screened.text
        language = await self._conversations.language_for_message(
            conversation.conversation_id, text
        )
        replies: list[OutboundMessage] = []
        if screened.found:
            replies.append(OutboundMessage(text=messages.render("sensitive_warning", language)))
            if not any(char.isalnum() for char in text):
                return conversation, replies
        replies += await self._dialogue.converse(conversation.conversation_id, text, language)
        return conversation, replies
