"""The help-desk console under /agent: login, the queue of conversations waiting for a
person, replies, release back to the bot, and complaint status changes.

Sessions live in the database (only a hash of the cookie's token); the cookie is HttpOnly
and SameSite=Strict, and every form carries a CSRF token that must match the session's
(the login form: a double-submit cookie, as there is no session yet).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.bootstrap import Container
from app.gateway import agent_pages
from app.gateway.deps import ContainerDep
from bot.errors import ComplaintNotFound, HandoffNotHeld, InvalidAgentCredentials
from bot.model.complaints import ComplaintStatus
from bot.model.handoff import Agent, AgentSession

log = logging.getLogger(__name__)
router = APIRouter(prefix="/agent")

SESSION_COOKIE = "agent_session"
LOGIN_CSRF_COOKIE = "agent_login_csrf"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _secure(container: Container) -> bool:
    return container.settings.public_base_url.startswith("https://")


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=HEADERS)


def _to_console() -> RedirectResponse:
    return RedirectResponse("/agent", status_code=303, headers=HEADERS)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/agent/login", status_code=303, headers=HEADERS)


async def _agent(
    container: Container, token: str | None, csrf: str | None = None
) -> tuple[Agent, AgentSession] | None:
    """The logged-in agent; for a form post also the matching CSRF token, else None."""
    found = await container.agents.session(token or "")
    if found is None:
        return None
    if csrf is not None and not hmac.compare_digest(csrf.encode(), found[1].csrf_token.encode()):
        log.warning("agent console: CSRF token mismatch for agent %s", found[0].username)
        return None
    return found


SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]
CsrfField = Annotated[str, Form()]


@router.get("/login", include_in_schema=False)
async def login_form(container: ContainerDep) -> Response:
    csrf = secrets.token_urlsafe(24)
    response = _html(agent_pages.login_page(csrf))
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=_secure(container),
        path="/agent",
        max_age=3600,
    )
    return response


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    container: ContainerDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: CsrfField,
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _to_login()
    try:
        logged_in = await container.agents.login(username, password)
    except InvalidAgentCredentials:
        log.warning("agent console: failed login")
        fresh = secrets.token_urlsafe(24)
        response = _html(agent_pages.login_page(fresh, "Wrong username or password."), 401)
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            fresh,
            httponly=True,
            samesite="strict",
            secure=_secure(container),
            path="/agent",
            max_age=3600,
        )
        return response
    redirect = _to_console()
    redirect.set_cookie(
        SESSION_COOKIE,
        logged_in.token,
        httponly=True,
        samesite="strict",
        secure=_secure(container),
        path="/agent",
        max_age=container.settings.agent_session_minutes * 60,
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/agent")
    return redirect


@router.post("/logout", include_in_schema=False)
async def logout(container: ContainerDep, csrf: CsrfField, token: SessionCookie = None) -> Response:
    if await _agent(container, token, csrf) is not None and token:
        await container.agents.logout(token)
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE, path="/agent")
    return response


@router.get("", include_in_schema=False)
async def console(container: ContainerDep, token: SessionCookie = None) -> Response:
    found = await _agent(container, token)
    if found is None:
        return _to_login()
    agent, session = found
    queue = await container.handoff.queue()
    complaints = await container.complaints.recent()
    # What the resident and the bot said before the request, from the Rasa tracker.
    history = {
        item.handoff.conversation_id: await container.dialogue.recent_turns(
            item.handoff.conversation_id
        )
        for item in queue
    }
    page = agent_pages.console_page(agent, session.csrf_token, queue, complaints, history)
    return _html(page)


@router.post("/conversations/{handoff_id}/{action}", include_in_schema=False)
async def conversation_action(
    handoff_id: str,
    action: str,
    container: ContainerDep,
    csrf: CsrfField,
    text: Annotated[str, Form(max_length=4000)] = "",
    token: SessionCookie = None,
) -> Response:
    found = await _agent(container, token, csrf)
    if found is None:
        return _to_login()
    agent, _ = found
    try:
        if action == "take":
            await container.handoff.take(handoff_id, agent)
        elif action == "reply" and text.strip():
            await container.handoff.reply(handoff_id, agent, text)
        elif action == "release":
            await container.handoff.release(handoff_id, agent)
        elif action != "reply":
            return _html("Unknown action", 404)
    except HandoffNotHeld:
        # Taken by someone else or already released: the refreshed queue shows which.
        log.info("agent %s: %s on a conversation not held by them", agent.username, action)
    return _to_console()


@router.post("/complaints/{complaint_id}/status", include_in_schema=False)
async def complaint_status(
    complaint_id: str,
    container: ContainerDep,
    csrf: CsrfField,
    status: Annotated[str, Form()],
    token: SessionCookie = None,
) -> Response:
    if await _agent(container, token, csrf) is None:
        return _to_login()
    try:
        await container.complaints.change_status(complaint_id, ComplaintStatus(status))
    except (ValueError, ComplaintNotFound):
        return _html("No such complaint or status", 404)
    return _to_console()
