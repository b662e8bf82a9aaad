"""One resident message in, the bot's replies out: the path every channel shares."""

from __future__ import annotations

from datetime import timedelta

from bot import messages
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Conversation
from bot.model.sensitive import screen
from bot.ports import ConversationHistory, DialogueEngine, RateCounter
from bot.services.conversations import ConversationService
from bot.services.handoff import HandoffService
from bot.services.privacy import PrivacyService

# A resident pasting a novel must not cost a classifier run on 100 KB.
MAX_MESSAGE_CHARS = 1000


class TurnService:
    def __init__(
        self,
        conversations: ConversationService,
        dialogue: DialogueEngine,
        privacy: PrivacyService | None = None,
        history: ConversationHistory | None = None,
        limits: RateCounter | None = None,
        messages_per_minute: int = 0,
        handoff: HandoffService | None = None,
    ) -> None:
        self._limits = limits
        self._messages_per_minute = messages_per_minute
        self._conversations = conversations
        self._dialogue = dialogue
        self._privacy = privacy
        self._history = history
        self._handoff = handoff

    async def handle(
        self, channel: Channel, address: str, text: str
    ) -> tuple[Conversation, list[OutboundMessage]]:
        """Answer `text` from `address` on `channel`, in the resident's language.

        Callers serialise turns per conversation; raises DialogueUnavailable.
        """
        # Secrets are cut out before anything reads or stores the text (Rasa's tracker first).
        screened = screen(text.strip()[:MAX_MESSAGE_CHARS])
        text = screened.without_markers if screened.found else screened.text
        conversation, language = await self._conversations.open_for_message(channel, address, text)
        cid = conversation.conversation_id
        if self._limits is not None and self._messages_per_minute > 0:
            count = await self._limits.hit(f"messages:{cid}", timedelta(minutes=1))
            if count > self._messages_per_minute:
                # Said once per window, then silence: a flood must not be echoed back.
                if count > self._messages_per_minute + 1:
                    return conversation, []
                return conversation, [
                    OutboundMessage(text=messages.render("rate_limited", language))
                ]
        if self._handoff is not None:
            # While an agent has (or is about to have) the conversation, the bot is silent;
            # the agent's transcript gets the screened text, never the secret.
            held = await self._handoff.intercept(conversation, text)
            if held is not None:
                if screened.found:
                    warning = messages.render("sensitive_warning", language)
                    return conversation, [OutboundMessage(text=warning), *held]
                return conversation, held
        show_notice = False
        if self._privacy is not None:
            show_notice = await self._privacy.on_turn(conversation.conversation_id)
        replies: list[OutboundMessage] = []
        if screened.found:
            replies.append(OutboundMessage(text=messages.render("sensitive_warning", language)))
        # The notice goes before the bot's replies: the last message sent holds the options
        # a numbered answer on WhatsApp/SMS refers to.
        if show_notice:
            replies.append(OutboundMessage(text=messages.render("privacy_notice", language)))
        if not screened.found or any(char.isalnum() for char in text):
            replies += await self._dialogue.converse(conversation.conversation_id, text, language)
        if self._privacy is not None and self._history is not None:
            # After the turn: Rasa has saved the tracker an erasure in this turn asked to drop.
            await self._privacy.erase_histories(self._history)
        return conversation, replies
