"""Turns safe to repeat, inside the Rasa server: the REST channel the gateway talks to.

The gateway commits a turn's outcome (replies queued, message marked answered) only after
Rasa has answered. A gateway that crashes or gives up waiting (30 s) in between sends the
same message again, and Rasa 3.6 would run that turn a second time. Rasa's own REST channel
also answers 200 with whatever it collected when a turn fails (often nothing), which the
gateway cannot tell from a finished turn. So `GatewayRestInput`, at the same address
(`/webhooks/rest/webhook`):
- answers 503 when the turn failed (a lock store or tracker store error, no model loaded),
  so the gateway keeps the message and tries again;
- lets the turn run to its end when the gateway goes away mid-turn (a crash, its timeout):
  the turn is shielded from the request's cancellation, so the tracker is saved;
- reads the gateway's message key from the message's `metadata` (`message_key`; actions
  read it from `tracker.latest_message`) and, when the conversation's tracker already holds
  a resident message with that key, answers with the replies that turn gave instead of
  running it again (`apply()` installs that check in Rasa's MessageProcessor, under the
  conversation's lock, on the tracker the turn loads anyway).

A turn that crashed with Rasa before its tracker was saved does run again; its actions'
side effects are then kept to once per message by the action server (bot/services/effects.py).

Configured in credentials.yml as `integrations.rasa.keyed_turns.GatewayRestInput`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

MESSAGE_KEY = "message_key"
# How far back a repeated message is looked for: a retry comes within minutes, a few turns.
SCAN_EVENTS = 300


def message_key(metadata: Any) -> str:
    """The gateway's key of a message from its metadata; "" when it has none."""
    if isinstance(metadata, dict) and isinstance(metadata.get(MESSAGE_KEY), str):
        return str(metadata[MESSAGE_KEY])
    return ""


def earlier_replies(events: Any, key: str) -> list[dict[str, Any]] | None:
    """The bot's messages after the resident message with `key` (up to the next resident
    message), as the output channel got them; None when no such message is in `events`."""
    recent = list(events)[-SCAN_EVENTS:]
    for index in range(len(recent) - 1, -1, -1):
        event = recent[index]
        if isinstance(event, UserUttered) and message_key(event.metadata) == key:
            replies = []
            for later in recent[index + 1 :]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append(later.message())
            return replies
    return None


class AlreadyAnswered(Exception):
    """The message's turn ran before; carries the replies it gave."""

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        super().__init__("message already answered")
        self.replies = replies


class GatewayRestInput(RestInput):  # type: ignore[misc]
    """Rasa's REST channel with the changes in the module docstring."""

    @classmethod
    def name(cls) -> str:
        return "rest"  # same address as Rasa's own: /webhooks/rest/webhook

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("gateway_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def receive(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return _unavailable("no model loaded")
            collector = CollectingOutputChannel()
            message = UserMessage(
                self._extract_message(request),
                collector,
                await self._extract_sender(request),
                input_channel=self._extract_input_channel(request),
                metadata=self.get_metadata(request),
            )
            # Shielded: a gateway that disconnects does not cut the turn in half.
            turn = asyncio.ensure_future(on_new_message(message))
            try:
                await asyncio.shield(turn)
            except asyncio.CancelledError:
                turn.add_done_callback(_log_failure)
                raise
            except Exception as exc:
                log.error("turn failed: %s", type(exc).__name__, exc_info=exc)
                return _unavailable(type(exc).__name__)
            return response.json(collector.messages)

        return webhook


def _unavailable(reason: str) -> HTTPResponse:
    return response.json({"error": "turn not completed", "reason": reason}, status=503)


def _log_failure(turn: asyncio.Future[Any]) -> None:
    if not turn.cancelled() and turn.exception() is not None:
        log.error("a turn whose caller went away failed: %r", turn.exception())


def apply() -> None:
    """Answer a message whose key the tracker already holds with that turn's replies.

    MessageProcessor.handle_message loads the tracker in `log_message` (under the lock the
    agent holds for the conversation); the check goes there, before the message is added."""
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor, "_bot_keyed_turns", False):
        return
    log_message = MessageProcessor.log_message
    handle_message = MessageProcessor.handle_message

    async def keyed_log_message(
        self: MessageProcessor, message: UserMessage, should_save_tracker: bool = True
    ) -> Any:
        key = message_key(message.metadata)
        if not key or should_save_tracker:  # only the turn's own load (handle_message)
            return await log_message(self, message, should_save_tracker)
        tracker = await self.fetch_tracker_and_update_session(
            message.sender_id, message.output_channel, message.metadata
        )
        replies = earlier_replies(tracker.events, key)
        if replies is not None:
            raise AlreadyAnswered(replies)
        await self._handle_message_with_tracker(message, tracker)
        return tracker

    async def keyed_handle_message(self: MessageProcessor, message: UserMessage) -> Any:
        try:
            return await handle_message(self, message)
        except AlreadyAnswered as answered:
            log.info(
                "message answered before; sending that turn's %d replies", len(answered.replies)
            )
            for reply in answered.replies:
                await message.output_channel.send_response(message.sender_id, reply)
            if isinstance(message.output_channel, CollectingOutputChannel):
                return message.output_channel.messages
            return None

    MessageProcessor.log_message = keyed_log_message
    MessageProcessor.handle_message = keyed_handle_message
    MessageProcessor._bot_keyed_turns = True
