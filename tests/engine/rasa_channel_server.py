"""`python -m tests.engine.rasa_channel_server <port>` (engine runtime): our channel (GatewayInput) mounted
by Rasa's own `register`, as `rasa run` mounts it, in a Sanic server on 127.0.0.1, with an
agent that echoes instead of a trained model. The shared secret comes from
BOT_INTERNAL_TOKEN, as in the Rasa server (integrations/rasa/engine/server.py)."""

from __future__ import annotations

import sys
from typing import Any

from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from integrations.rasa.engine.gateway_channel import GatewayInput


class EchoAgent:
    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


def main() -> None:
    app = Sanic("rasa_channel_double")
    app.ctx.agent = EchoAgent()
    register([GatewayInput.from_credentials(None)], app, route="/webhooks/")

    @app.post("/conversations/<conversation_id>/tracker/events")
    async def events(request: Request, conversation_id: str) -> HTTPResponse:
        return response.json({})  # the gateway's language slot; Rasa's API has its own token

    def ready(*_: Any) -> None:
        print("ready", flush=True)

    app.register_listener(ready, "after_server_start")
    app.run("127.0.0.1", int(sys.argv[1]), access_log=False)


if __name__ == "__main__":
    main()
