"""The built-in web chat: the page, one turn per POST, and polling for pushed messages.

A conversation is reached by its session id (bot/services/webchat_sessions.py), which our
page gets from POST /webchat/sessions and sends in the X-Webchat-Session header, never in
a URL (a URL is kept by access logs, proxies and browser history). The contract's `sender`
(JSON field, query parameter) is still accepted for integrators, under the same rules.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, StrictStr, field_validator

from app.bootstrap import Container
from app.gateway.deps import ContainerDep, TurnLocksDep
from app.gateway.metrics import TurnTimer
from bot import messages
from bot.errors import DialogueUnavailable
from bot.model.identifiers import mask
from bot.model.residents import Channel, Language
from bot.services.webchat_sessions import SessionRefused
from channels import webchat

log = logging.getLogger(__name__)
router = APIRouter()

STATIC_DIR = Path(__file__).with_name("static")
# Everything the page needs comes from this origin; nothing may frame it.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    # Receipt links are bearer capabilities: never leak one to another site in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


SESSION_HEADER = "X-Webchat-Session"
NO_STORE = {"Cache-Control": "no-store"}


class IncomingMessage(BaseModel):
    sender: StrictStr | None = None  # the contract's; our page sends SESSION_HEADER instead
    text: StrictStr

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and not webchat.valid_sender(value):
            raise ValueError(webchat.SENDER_RULE)
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        if len(value) > webchat.MAX_TEXT_CHARS:
            raise ValueError(f"text must be at most {webchat.MAX_TEXT_CHARS} characters")
        return value


@router.get("/", include_in_schema=False)
async def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


@router.get("/privacy", include_in_schema=False)
async def privacy_page() -> HTMLResponse:
    """The whole privacy notice, in both languages: SMS carries only a short one and this link."""
    notices = "".join(
        f"<section lang='{lang.value}'><p>{html.escape(messages.render('privacy_notice', lang))}</p>"
        "</section>"
        for lang in Language
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Privacy · Rajasthan bill assistant</title>"
        "<link rel='stylesheet' href='/static/chat.css'></head>"
        f"<body class='notice-page'><main><h1>Privacy / गोपनीयता</h1>{notices}</main></body></html>"
    )
    return HTMLResponse(page, headers=PAGE_HEADERS)


@router.post("/webchat/sessions")
async def new_session(container: ContainerDep) -> JSONResponse:
    """A new conversation for the page: its id goes in the X-Webchat-Session header."""
    issued = await container.webchat_sessions.issue()
    body = {
        "session": issued.token,
        "expires_at": issued.expires_at.isoformat(),
        "idle_timeout_s": int(issued.idle.total_seconds()),
    }
    return JSONResponse(body, status_code=201, headers=NO_STORE)


@router.post("/webchat/messages")
async def post_message(
    message: IncomingMessage, request: Request, container: ContainerDep, locks: TurnLocksDep
) -> Any:
    try:
        sender = await _session(container, request.headers.get(SESSION_HEADER), message.sender)
    except SessionRefused as refused:
        return _refused(refused)
    try:
        with TurnTimer(Channel.WEBCHAT.value):
            async with locks.hold((Channel.WEBCHAT, sender)):
                replies = await container.turns.handle_at(Channel.WEBCHAT, sender, message.text)
    except DialogueUnavailable as exc:
        log.warning("web chat turn failed for sender %s: %s", mask(sender), exc)
        return JSONResponse(
            webchat.unavailable_reply(), status_code=503, headers={"Retry-After": "30"}
        )
    return webchat.turn_reply(replies)


@router.get("/webchat/messages")
async def pushed_messages(
    request: Request, container: ContainerDep, sender: str = "", after: str = ""
) -> Any:
    # `sender` in the query is the contract's; our page sends SESSION_HEADER instead.
    if sender and not webchat.valid_sender(sender):
        return _invalid("sender", webchat.SENDER_RULE)
    if after and not webchat.CURSOR_PATTERN.fullmatch(after):
        return _invalid("after", "after must be a cursor returned by this endpoint")
    try:
        address = await _session(container, request.headers.get(SESSION_HEADER), sender)
    except SessionRefused as refused:
        return _refused(refused)
    cursor = int(after or 0)
    pushed = await container.conversations.pushed(Channel.WEBCHAT, address, cursor)
    return JSONResponse(webchat.pushed_reply(pushed, cursor), headers=NO_STORE)


async def _session(container: Container, header: str | None, sender: str | None) -> str:
    """The header (our page's) wins; else the contract's `sender`, under its own rule."""
    if header:
        return await container.webchat_sessions.resolve(header)
    return await container.webchat_sessions.resolve(sender, from_contract=True)


def _refused(refused: SessionRefused) -> JSONResponse:
    """401 with a Msg the page shows before it starts a new session."""
    return JSONResponse(
        webchat.session_refused_reply(refused.reason.value), status_code=401, headers=NO_STORE
    )


def _invalid(field: str, message: str) -> JSONResponse:
    """A 422 shaped like FastAPI's own validation errors."""
    detail = [{"loc": ["query", field], "msg": message, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)
