"""Human handoff: a resident asks for a person, an agent takes the conversation, replies over
the resident's own channel, and gives it back to the bot.

While a handoff is active the resident's messages go to its transcript, not to the dialogue
engine: the bot stays silent, so it cannot contradict the agent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from bot import messages as texts
from bot.errors import HandoffNotHeld
from bot.model.handoff import (
    Agent,
    Author,
    Handoff,
    HandoffStatus,
    OfficeHours,
    TranscriptLine,
    wants_the_bot,
)
from bot.model.identifiers import mask
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Conversation, Language
from bot.ports import Clock, TurnUnitOfWork, TurnUnitOfWorkFactory
from bot.services.conversations import get_conversation, language_of

MAX_REPLY_CHARS = 1000


@dataclass(frozen=True)
class HandoffRequested:
    handoff: Handoff
    # None while the office is open; otherwise when an agent will answer.
    answer_by: datetime | None


@dataclass(frozen=True)
class QueuedConversation:
    """A waiting or held conversation as the console shows it (no raw address)."""

    handoff: Handoff
    channel: Channel
    address: str  # already masked
    language: Language
    transcript: list[TranscriptLine]


class HandoffService:
    def __init__(self, uow: TurnUnitOfWorkFactory, clock: Clock, hours: OfficeHours) -> None:
        self._uow = uow
        self._clock = clock
        self._hours = hours

    async def request(self, conversation_id: str, said: str = "") -> HandoffRequested:
        """Put the conversation in the agent queue (once: asking again keeps its place).
        `said` (the request itself) starts the transcript."""
        now = self._clock.now()
        async with self._uow() as tx:
            await get_conversation(tx, conversation_id)
            handoff = await tx.handoffs.active_for(conversation_id)
            if handoff is None:
                handoff = Handoff(
                    handoff_id=secrets.token_hex(8),
                    conversation_id=conversation_id,
                    status=HandoffStatus.WAITING,
                    requested_at=now,
                )
                await tx.handoffs.add(handoff)
                if said.strip():
                    await tx.handoffs.append(
                        TranscriptLine(handoff.handoff_id, Author.RESIDENT, said.strip(), now)
                    )
                await tx.commit()
        opening = self._hours.next_opening(now)
        return HandoffRequested(handoff, None if opening == now else opening)

    async def intercept(
        self, tx: TurnUnitOfWork, conversation: Conversation, text: str, language: Language
    ) -> list[OutboundMessage] | None:
        """None when no handoff is active (the bot answers). Otherwise the message is kept
        for the agent and the replies are returned: while still waiting, that it was kept
        and how to come back to the bot (or, asked for, the bot is back); none once an agent
        holds the chat. Works in the turn's transaction; the caller commits."""
        handoff = await tx.handoffs.active_for(conversation.conversation_id)
        if handoff is None:
            return None
        now = self._clock.now()
        if handoff.status is HandoffStatus.WAITING and wants_the_bot(text):
            handoff.status, handoff.released_at = HandoffStatus.RELEASED, now
            if await tx.handoffs.update(handoff, HandoffStatus.WAITING):
                return [OutboundMessage(texts.render("handoff_cancelled", language))]
            # An agent took it in the meantime: theirs now, and so is the message.
        await tx.handoffs.append(TranscriptLine(handoff.handoff_id, Author.RESIDENT, text, now))
        if handoff.status is HandoffStatus.WAITING:
            # Nobody has taken it yet: say the message was kept, and how to get the bot back,
            # or a resident waiting in the queue writes into silence.
            return [OutboundMessage(texts.render("handoff_waiting", language))]
        return []

    async def queue(self) -> list[QueuedConversation]:
        """Waiting and held conversations, oldest request first, with their transcripts."""
        async with self._uow() as tx:
            return [await _queued(tx, handoff) for handoff in await tx.handoffs.active()]

    async def get(self, handoff_id: str) -> QueuedConversation | None:
        async with self._uow() as tx:
            handoff = await tx.handoffs.get(handoff_id)
            return None if handoff is None else await _queued(tx, handoff)

    async def take(self, handoff_id: str, agent: Agent) -> None:
        """`agent` holds the conversation from now on; raises HandoffNotHeld when it is
        released or another agent got there first."""
        now = self._clock.now()
        async with self._uow() as tx:
            handoff = await tx.handoffs.get(handoff_id)
            if handoff is None or handoff.status is not HandoffStatus.WAITING:
                raise HandoffNotHeld(handoff_id)
            handoff.status, handoff.agent_id, handoff.taken_at = (
                HandoffStatus.HELD,
                agent.agent_id,
                now,
            )
            if not await tx.handoffs.update(handoff, HandoffStatus.WAITING):
                raise HandoffNotHeld(handoff_id)
            await self._push(tx, handoff, "agent_joined", agent=agent.display_name)
            await tx.commit()

    async def reply(self, handoff_id: str, agent: Agent, text: str) -> None:
        """Send `text` to the resident over their own channel (through the outbox)."""
        text = text.strip()[:MAX_REPLY_CHARS]
        if not text:
            raise ValueError("an empty reply")
        async with self._uow() as tx:
            handoff = await self._held(tx, handoff_id, agent)
            await tx.handoffs.append(
                TranscriptLine(handoff_id, Author.AGENT, text, self._clock.now())
            )
            await self._push(tx, handoff, "agent_reply", agent=agent.display_name, text=text)
            await tx.commit()

    async def release(self, handoff_id: str, agent: Agent) -> None:
        """Give the conversation back to the bot and tell the resident."""
        async with self._uow() as tx:
            handoff = await self._held(tx, handoff_id, agent)
            handoff.status, handoff.released_at = HandoffStatus.RELEASED, self._clock.now()
            if not await tx.handoffs.update(handoff, HandoffStatus.HELD):
                raise HandoffNotHeld(handoff_id)
            await self._push(tx, handoff, "agent_released")
            await tx.commit()

    async def _held(self, tx: TurnUnitOfWork, handoff_id: str, agent: Agent) -> Handoff:
        handoff = await tx.handoffs.get(handoff_id)
        if (
            handoff is None
            or handoff.status is not HandoffStatus.HELD
            or handoff.agent_id != agent.agent_id
        ):
            raise HandoffNotHeld(handoff_id)
        return handoff

    async def _push(
        self, tx: TurnUnitOfWork, handoff: Handoff, message: str, **values: str
    ) -> None:
        language = await _language(tx, handoff.conversation_id)
        text = texts.render(message, language, **values)
        await tx.outbox.push(handoff.conversation_id, OutboundMessage(text), self._clock.now())


async def _language(tx: TurnUnitOfWork, conversation_id: str) -> Language:
    conversation = await get_conversation(tx, conversation_id)
    resident = (
        await tx.residents.get(conversation.resident_id) if conversation.resident_id else None
    )
    return language_of(conversation, resident)


async def _queued(tx: TurnUnitOfWork, handoff: Handoff) -> QueuedConversation:
    conversation = await get_conversation(tx, handoff.conversation_id)
    return QueuedConversation(
        handoff=handoff,
        channel=conversation.channel,
        address=mask(conversation.address),
        language=await _language(tx, handoff.conversation_id),
        transcript=await tx.handoffs.transcript(handoff.handoff_id),
    )
