"""Messages from WhatsApp, SMS and Telegram: accepted into a durable inbox, then answered.

Providers deliver at least once and want a fast 2xx, so a message is first recorded (the
provider's own id makes a redelivery a no-op) and answered afterwards, by a worker that
calls `process`. The replies are queued in the outbox in the same transaction that marks
the entry processed: a crash before that commit means the turn runs again on restart and
nothing was sent yet; after it, the delivery loop owns the replies. So each accepted
message is answered, and answered once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum

from bot import messages as texts
from bot.errors import DialogueUnavailable
from bot.model.channels import (
    ChannelState,
    DeliveryKind,
    InboundKind,
    InboundMessage,
    InboxEntry,
    opt_keyword,
    resolve_option,
)
from bot.model.outbound import OutboundMessage, compact
from bot.model.residents import Channel, Conversation, Language
from bot.model.sensitive import screen
from bot.ports import ChannelUnitOfWork, ChannelUnitOfWorkFactory, Clock
from bot.services.conversations import ConversationService
from bot.services.turns import TurnService

log = logging.getLogger(__name__)

# A turn that fails with an unexpected error (a bug: it will fail again) gets an apology
# after this many tries. A dialogue engine that is down is waited for instead, up to
# `max_wait` after the message arrived (a restarting Rasa needs about a minute).
MAX_TURN_ATTEMPTS = 3
MAX_WAIT = timedelta(minutes=5)
# WhatsApp and SMS reach the same phone number: one resident behind both (see `link_twin`).
TWILIO_TWINS = {Channel.WHATSAPP: Channel.SMS, Channel.SMS: Channel.WHATSAPP}
# Opting out concerns proactive messages, which only Twilio's channels are bound to honour
# by keyword (Telegram residents block the bot instead).
OPT_OUT_CHANNELS = frozenset(TWILIO_TWINS)
# Channels paid (SMS) or cluttered (WhatsApp) per message: a turn's replies are compacted
# into one message (two with an attachment), with one numbered list of options.
COMPACT_CHANNELS = frozenset({Channel.WHATSAPP, Channel.SMS})


class Outcome(str, Enum):
    ANSWERED = "answered"
    RETRY = "retry"  # the dialogue engine is down: the entry stays pending


@dataclass(frozen=True)
class Processed:
    outcome: Outcome
    conversation_id: str
    replies: int


class ChannelInboxService:
    def __init__(
        self,
        uow: ChannelUnitOfWorkFactory,
        conversations: ConversationService,
        turns: TurnService,
        clock: Clock,
        max_wait: timedelta = MAX_WAIT,
    ) -> None:
        self._uow = uow
        self._conversations = conversations
        self._turns = turns
        self._clock = clock
        self._max_wait = max_wait

    async def accept(self, message: InboundMessage) -> int | None:
        """Record `message` durably; its entry id, or None for a redelivery of one already
        recorded (which must not be answered again). Secrets in the text are replaced by
        markers first: the table never holds them, and the turn still warns the resident."""
        message = replace(message, text=screen(message.text).text)
        async with self._uow() as tx:
            entry_id = await tx.inbox.record(message)
            await tx.commit()
        return entry_id

    async def pending(self, limit: int = 100) -> list[InboxEntry]:
        """Entries still to answer, oldest first (after a restart: those accepted before it)."""
        async with self._uow() as tx:
            return await tx.inbox.pending(limit)

    async def pending_for(self, channel: Channel, address: str) -> list[InboxEntry]:
        async with self._uow() as tx:
            return await tx.inbox.pending_for(channel, address)

    async def process(self, entry: InboxEntry) -> Processed:
        """Answer one inbox entry. Callers serialise entries of one conversation and hand
        them over in order. Raises nothing for a dialogue outage: the entry is retried until
        it is `max_wait` old (after MAX_TURN_ATTEMPTS for other errors), then answered with
        an apology. Retried, the turn is the same message (its key is the provider's id), so
        the dialogue engine answers it once and its side effects happen once."""
        message = entry.message
        key = message_key(message)
        conversation = await self._conversations.open(message.channel, message.address)
        conversation = await self._link_twin(conversation)
        cid = conversation.conversation_id
        state = await self._state(cid)
        opted: bool | None = None
        replies: list[OutboundMessage]
        if message.kind is InboundKind.MEDIA or not message.text.strip():
            language = await self._known_language(conversation)
            replies = [OutboundMessage(text=_say("please_type", language))]
        elif (
            message.channel in OPT_OUT_CHANNELS
            and (opted := opt_keyword(message.text)) is not None
            and not (opted and await self._turns.question_open(cid))
        ):
            language = await self._known_language(conversation)
            replies = [OutboundMessage(text=_say("opted_out" if opted else "opted_in", language))]
        else:
            # STOP while the bot is asking something stops that question (the dialogue
            # cancels its form), not every receipt and reminder: the reply says how to.
            stopping_a_question, opted = bool(opted), None
            text = resolve_option(message.text, state.options)
            try:
                replies = await self._turns.handle(
                    conversation,
                    text,
                    message.language_hint,
                    message_key=key,
                    received_at=message.received_at,
                )
            except Exception as exc:
                # DialogueUnavailable, or a bug: either way the resident gets an apology
                # in the end rather than a conversation stuck behind one message.
                if not isinstance(exc, DialogueUnavailable):
                    log.exception("turn failed for inbox entry %d", entry.entry_id)
                async with self._uow() as tx:
                    attempts = await tx.inbox.count_attempt(entry.entry_id)
                    await tx.commit()
                if self._worth_waiting(message, attempts, exc):
                    log.warning("turn postponed for inbox entry %d: %s", entry.entry_id, exc)
                    return Processed(Outcome.RETRY, cid, 0)
                log.error(
                    "inbox entry %d answered with an apology after %d tries",
                    entry.entry_id,
                    attempts,
                )
                language = await self._known_language(conversation)
                replies = [OutboundMessage(text=_say("unavailable", language))]
            if stopping_a_question:
                language = await self._known_language(conversation)
                replies.append(OutboundMessage(text=_say("stop_again", language)))
        if message.channel in COMPACT_CHANNELS:
            replies = compact(replies)
        now = self._clock.now()
        async with self._uow() as tx:
            current = await tx.channel_states.get(cid) or ChannelState(cid)
            if current.last_inbound_at is None or current.last_inbound_at < message.received_at:
                current.last_inbound_at = message.received_at
            if opted is not None:
                current.opted_out = opted
            await tx.channel_states.save(current)
            sequence = None
            for reply in replies:
                sequence = await tx.outbox.push(cid, reply, now)
                await tx.deliveries.queue(sequence, DeliveryKind.REPLY, now)
            if sequence is not None:
                # If this turn showed the privacy notice, it is delivered with this reply.
                await tx.privacy.notice_queued(cid, key, sequence)
            await tx.inbox.mark_processed(entry.entry_id, now)
            await tx.commit()
        return Processed(Outcome.ANSWERED, cid, len(replies))

    def _worth_waiting(self, message: InboundMessage, attempts: int, error: Exception) -> bool:
        if not isinstance(error, DialogueUnavailable):
            return attempts < MAX_TURN_ATTEMPTS
        return self._clock.now() - message.received_at < self._max_wait

    async def _state(self, conversation_id: str) -> ChannelState:
        async with self._uow() as tx:
            return await tx.channel_states.get(conversation_id) or ChannelState(conversation_id)

    async def _link_twin(self, conversation: Conversation) -> Conversation:
        async with self._uow() as tx:
            linked = await link_twin(tx, conversation)
            await tx.commit()
        return linked

    async def _known_language(self, conversation: Conversation) -> Language | None:
        resident = await self._conversations.resident(conversation.conversation_id)
        if resident is not None:
            return resident.language
        current = await self._conversations.open(conversation.channel, conversation.address)
        return current.language


async def link_twin(tx: ChannelUnitOfWork, conversation: Conversation) -> Conversation:
    """One phone number, one resident: a WhatsApp or SMS conversation with no resident takes
    the one linked on the same number's other Twilio channel.

    The number is the same proof on both (Twilio hands us the sender's verified number),
    so linking by OTP on one channel covers the other. The caller commits."""
    twin_channel = TWILIO_TWINS.get(conversation.channel)
    if conversation.resident_id is not None or twin_channel is None:
        return conversation
    twin = await tx.conversations.find(twin_channel, conversation.address)
    if twin is None or twin.resident_id is None:
        return conversation
    conversation.resident_id = twin.resident_id
    await tx.conversations.update(conversation)
    return conversation


def message_key(message: InboundMessage) -> str:
    """The message's key for the dialogue engine: the provider's own id, the same on every
    retry and every redelivery of it."""
    return f"{message.channel.value}:{message.external_id}"


def _say(message: str, language: Language | None) -> str:
    """A channel text in `language`, or in both when we do not know theirs yet."""
    if language is not None:
        return texts.render(message, language)
    return "\n".join(texts.render(message, lang) for lang in (Language.EN, Language.HI))
