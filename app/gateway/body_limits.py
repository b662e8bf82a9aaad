"""Request body limits, counted as the bytes arrive.

A `Content-Length` check alone is not a limit: a chunked request has none, and the route
would read the whole body into memory before anything looked at its size (issue 13: a
400 MB chunked POST to the payment webhook grew the gateway from 194 MB to 961 MB before
its 403). This middleware wraps the ASGI `receive` of every request: a declared length over
the limit is refused before a byte is read, and a body that grows past it while arriving
stops the request with 413 at that chunk. Whatever the route buffers is at most one limit
plus one chunk; the connection is then closed, so the rest is never read either.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from channels.telegram import MAX_UPDATE_BYTES
from channels.twilio_api import MAX_FORM_BYTES

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Razorpay's events are a few KB.
MAX_WEBHOOK_BYTES = 256 * 1024
# One web chat turn: 1000 characters, each at most 6 bytes as a JSON escape, plus the rest.
MAX_WEBCHAT_BYTES = 16 * 1024
# Everything else (agent console forms, sandbox pages) posts a few hundred bytes.
DEFAULT_MAX_BYTES = 64 * 1024
# The rest of a refused body is never read, so the connection cannot carry another request.
CLOSE = {"Connection": "close"}
# Longest prefix first.
LIMITS: tuple[tuple[str, int], ...] = (
    ("/webhooks/payments", MAX_WEBHOOK_BYTES),
    ("/channels/telegram", MAX_UPDATE_BYTES),
    ("/channels/", MAX_FORM_BYTES),
    ("/webchat/", MAX_WEBCHAT_BYTES),
)


def limit_for(path: str) -> int:
    for prefix, limit in LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_MAX_BYTES


class BodyTooLarge(HTTPException):
    """Raised from `receive` inside the route. An HTTPException, because FastAPI turns any
    other error while it reads a body into a 400; the middleware answers 413 for it too
    when it gets that far."""

    def __init__(self) -> None:
        super().__init__(413, "payload too large", headers=CLOSE)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:  # a streaming response had begun: nothing better than to cut it
                raise
            await _too_large(scope, send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    client = scope.get("client") or ("-", 0)
    log.warning(
        "request body over %d bytes refused: %s %s from %s",
        limit,
        scope.get("method", "-"),
        scope.get("path", "-"),
        client[0],
    )
    body = json.dumps({"detail": "payload too large"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
