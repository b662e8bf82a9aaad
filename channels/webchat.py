"""The web chat channel: the contract's `Msg` JSON, the limits on what a page may send, and
its sender.

Msg = {"text": str, "buttons": [{"title", "payload"}], "attachment": null | {"url",
"filename", "mime"}} (shared/CONTRACTS.md). Buttons travel back as their payload typed as
text, so nothing else is needed to press one. The web chat has no provider: messages sent
outside a turn land in the conversation's outbox, which the page polls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.errors import DeliveryFailed
from bot.model.channels import Delivery
from bot.model.outbound import OutboundMessage, PushedMessage
from bot.model.residents import Channel
from bot.ports import Clock, UnitOfWorkFactory
from bot.services import webchat_sessions
from bot.services.turns import MAX_MESSAGE_CHARS

# The shape of a sender id (its freshness and length are the session's business:
# bot/services/webchat_sessions.py); a phone number, a name or markup is none.
SENDER_PATTERN = webchat_sessions.SENDER_PATTERN
SENDER_RULE = "sender must be 1-64 characters: letters, digits, '-' or '_'"
MAX_TEXT_CHARS = MAX_MESSAGE_CHARS
CURSOR_PATTERN = re.compile(r"^[0-9]{1,18}$")

# Said by the gateway itself when the dialogue engine is down, so both languages at once.
UNAVAILABLE_TEXT = (
    "Sorry, I cannot answer right now. Please try again in a minute.\n"
    "क्षमा करें, अभी उत्तर नहीं दे पा रहे हैं। कृपया एक मिनट बाद फिर से प्रयास करें।"
)


# A web chat session that expired or was never issued (bot/services/webchat_sessions.py).
SESSION_ENDED_TEXT = (
    "This chat has ended, to keep your details private. A new chat has started.\n"
    "आपकी जानकारी सुरक्षित रखने के लिए यह चैट समाप्त हो गई है। नई चैट शुरू हो गई है।"
)


def valid_sender(sender: str) -> bool:
    return bool(SENDER_PATTERN.fullmatch(sender))


def to_msg(message: OutboundMessage) -> dict[str, Any]:
    """One OutboundMessage as a contract Msg."""
    attachment = message.attachment
    return {
        "text": message.text,
        "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
        "attachment": (
            None
            if attachment is None
            else {"url": attachment.url, "filename": attachment.filename, "mime": attachment.mime}
        ),
    }


def turn_reply(messages: Iterable[OutboundMessage]) -> dict[str, Any]:
    """The body of POST /webchat/messages."""
    return {"messages": [to_msg(m) for m in messages]}


def pushed_reply(pushed: list[PushedMessage], after: int) -> dict[str, Any]:
    """The body of GET /webchat/messages: the cursor is the last sequence delivered, or
    the caller's own cursor when nothing is new, so polling with it never skips or repeats."""
    cursor = pushed[-1].sequence if pushed else after
    return {"messages": [to_msg(p.message) for p in pushed], "cursor": str(cursor)}


def session_refused_reply(reason: str) -> dict[str, Any]:
    """The 401 body for a sender that is not a live session: a Msg the page can show, and
    for integrators what to do (`reason`: missing | invalid | expired)."""
    return {
        "detail": "sender is not a live web chat session: POST /webchat/sessions for a new one",
        "reason": reason,
        "messages": [to_msg(OutboundMessage(text=SESSION_ENDED_TEXT))],
    }


def unavailable_reply() -> dict[str, Any]:
    """The 503 body when the dialogue engine is down: a Msg the page can show as is."""
    return {
        "detail": "dialogue engine unavailable",
        "messages": [to_msg(OutboundMessage(text=UNAVAILABLE_TEXT))],
    }


class OutboxSender:
    """The web chat's ChannelSender (reminders): the message goes into the conversation's
    outbox, which the page polls (`GET /webchat/messages`)."""

    channel = Channel.WEBCHAT

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def send(self, delivery: Delivery) -> None:
        try:
            async with self._uow() as tx:
                await tx.outbox.push(delivery.conversation_id, delivery.message, self._clock.now())
                await tx.commit()
        except Exception as exc:  # nothing was stored: safe to try again
            raise DeliveryFailed(f"outbox write failed: {type(exc).__name__}") from exc
