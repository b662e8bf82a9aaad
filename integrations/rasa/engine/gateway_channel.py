"""The one input channel of our Rasa server: the gateway's turns (runs inside Rasa).

Rasa's REST channel answers every turn through an output channel named "collector", so
responses could not vary by channel. This one is the REST channel's twin, except that the
output channel carries the name of the resident's real channel (webchat, whatsapp, sms,
telegram): a domain response variation marked `channel: sms` is then chosen for SMS
(shorter, no emoji), and actions read the channel from `tracker.get_latest_input_channel()`.

Request: POST /webhooks/gateway/webhook with JSON {"sender", "message", "channel",
"metadata"} and `Authorization: Bearer <INTERNAL_TOKEN>` (internal_auth.py; 401 without);
answer: the list of bot messages, as the REST channel's.

Faults (README, "Faults"): a turn that fails answers 500 and a server with no model loaded
(starting) 503, never 200 with nothing; a turn whose gateway went away (a crash, its
timeout) runs to its end all the same, so its tracker is saved and the gateway's retry of
the same message (`metadata.message_key`) is answered from it (keyed_turns.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from integrations.rasa.internal_auth import HEADER, authorised, token_from_env

log = logging.getLogger(__name__)

# The channels the gateway speaks for; anything else is answered as the web chat.
CHANNELS = frozenset({"webchat", "whatsapp", "sms", "telegram"})
DEFAULT_CHANNEL = "webchat"


class ChannelCollector(CollectingOutputChannel):
    """Collects the turn's messages under the resident's channel name."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self._channel = channel

    def name(self) -> str:  # an instance's name, not the class's
        return self._channel


def channel_of(body: dict[str, Any]) -> str:
    channel = body.get("channel")
    return channel if isinstance(channel, str) and channel in CHANNELS else DEFAULT_CHANNEL


class GatewayInput(InputChannel):
    def __init__(self, token: str | None = None) -> None:
        # Read when Rasa builds its channels: server.py sets the variable before that.
        self._token = token_from_env() if token is None else token

    @classmethod
    def name(cls) -> str:
        return "gateway"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("gateway_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not authorised(request.headers.get(HEADER), self._token):
                return response.json({"detail": "unauthorised"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")
            text = body.get("message")
            if not isinstance(sender, str) or not sender or not isinstance(text, str):
                return response.json({"detail": "sender and message are required"}, status=400)
            channel = channel_of(body)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():  # Rasa would drop the message silently
                return response.json({"detail": "no model loaded yet"}, status=503)
            collector = ChannelCollector(channel)
            turn = asyncio.ensure_future(
                on_new_message(
                    UserMessage(text, collector, sender, input_channel=channel, metadata=metadata)
                )
            )
            try:
                # Shielded: a gateway that goes away does not cut the turn in half.
                await asyncio.shield(turn)
            except asyncio.CancelledError:
                turn.add_done_callback(_log_failure)
                raise
            except Exception:
                # Rasa's REST channel answers 200 with whatever was collected here, which the
                # gateway cannot tell from a finished turn. A 500 makes it retry or apologise.
                log.exception("turn failed inside Rasa")
                return response.json({"detail": "turn failed"}, status=500)
            return response.json(collector.messages)

        return hook


def _log_failure(turn: asyncio.Future[Any]) -> None:
    if not turn.cancelled() and turn.exception() is not None:
        log.error("a turn whose gateway went away failed: %r", turn.exception())
