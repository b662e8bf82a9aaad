"""The gateway's FastAPI application factory.

Nothing is built at import time: `create_app(container)` wires routes around a container
the caller built (tests), and `create_app()` builds one from the environment when the
server starts and closes it when it stops.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError

from app.bootstrap import (
    Container,
    bootstrap,
    channel_runtime,
    in_process_reminders,
    shared_turn_locks,
)
from app.gateway import (
    agent_console,
    bill_copies,
    channels,
    health,
    metrics,
    payments,
    receipts,
    verify,
    webchat,
)
from app.gateway.body_limits import BodyLimitMiddleware
from app.gateway.turn_locks import ConversationLocks
from app.settings import Environment, Settings
from channels import webchat as webchat_channel

log = logging.getLogger(__name__)


def create_app(container: Container | None = None, *, settings: Settings | None = None) -> FastAPI:
    """The gateway app. With no `container`, the lifespan bootstraps one from `settings`
    (or the environment) at startup and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What runs here is built by the composition root (app/bootstrap.py); the lifespan
        # only starts it, in order, and stops it the other way round.
        owned: Container | None = None
        if app.state.container is None:
            owned = app.state.container = bootstrap(settings)
            _include_sandbox(app, owned)
        container: Container = app.state.container
        redis_locks = shared_turn_locks(container.settings)
        if redis_locks is not None:  # several gateway processes share conversations
            app.state.turn_locks = redis_locks
        # WhatsApp, SMS and Telegram: answering the inbox and delivering the outbox run
        # in this process, after the webhooks have answered.
        runtime = app.state.channel_runtime = channel_runtime(container, app.state.turn_locks)
        runtime.start()
        reminders = in_process_reminders(container)
        if reminders is not None:
            reminders.start()
        app.state.draining = False
        try:
            yield
        finally:
            # From here /readyz answers 503: a load balancer stops sending new requests.
            app.state.draining = True
            if reminders is not None:
                await reminders.stop()
            await runtime.stop()
            app.state.channel_runtime = None
            if redis_locks is not None:
                await redis_locks.close()
            if owned is not None:
                app.state.container = None
                await owned.close()

    app = FastAPI(
        title="Rajasthan Bill Assistant gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.container = container
    app.state.turn_locks = ConversationLocks()
    app.state.channel_runtime = None
    for module in (health, metrics, webchat, payments, receipts, channels, agent_console):
        app.include_router(module.router)
    # Issue 16: receipts anyone can check, bill copies.
    app.include_router(verify.router)
    app.include_router(bill_copies.router)
    app.mount("/static", StaticFiles(directory=webchat.STATIC_DIR), name="static")
    if container is not None:
        _include_sandbox(app, container)
    # PostgreSQL (or the SQLite file) or another backing service unreachable: "try again
    # shortly", never a bare 500.
    app.add_exception_handler(DBAPIError, _storage_unavailable)
    app.add_exception_handler(OSError, _storage_unavailable)
    # Every route: bodies are counted as they arrive, not trusted by their Content-Length.
    app.add_middleware(BodyLimitMiddleware)
    return app


async def _storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "backing service unreachable during %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    headers = {"Retry-After": "30"}
    if request.url.path.startswith("/webchat/"):
        return JSONResponse(webchat_channel.unavailable_reply(), status_code=503, headers=headers)
    # Providers retry a 5xx webhook (Telegram, Razorpay) or show their fallback (Twilio):
    # nothing was accepted, so nothing is lost or done twice.
    return JSONResponse({"detail": "temporarily unavailable"}, status_code=503, headers=headers)


def _include_sandbox(app: FastAPI, container: Container) -> None:
    """The sandbox's SMS inbox and payment pages, never in production (where settings
    refuse every sandbox backend anyway)."""
    if container.settings.environment is Environment.PRODUCTION:
        return
    # Checked by name so that a genuine import error inside the module is not swallowed.
    if importlib.util.find_spec("app.gateway.sandbox") is None:
        return
    from app.gateway.sandbox import sandbox_router

    app.include_router(sandbox_router(container.sandbox))
