"""Prometheus metrics of the gateway (biller latency: integrations/billers/metered.py), on prometheus_client's default REGISTRY (other parts,
e.g. reminders, add their own to it), served at GET /metrics; and GET /readyz.

Labels carry channels, operations and outcomes only, never a resident's identifier.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text

router = APIRouter()

# Turns take tens of milliseconds when all is well; the top buckets catch Rasa stalls.
TURN_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0)
TURN_SECONDS = Histogram(
    "bot_turn_seconds",
    "Time from a resident's message to the bot's replies (gateway + Rasa + actions).",
    ["channel", "outcome"],
    buckets=TURN_BUCKETS,
)
QUEUE_DEPTH = Gauge(
    "bot_queue_depth",
    "Work waiting: inbox = accepted channel messages not answered yet; "
    "outbox = replies and pushes due for delivery. Counted when scraped, up to 1000.",
    ["queue"],
)
SENDS = Counter(
    "bot_channel_sends_total",
    "Deliveries to WhatsApp, SMS and Telegram by outcome: sent, pending (retry later, "
    "e.g. after a 429 or 5xx), uncertain (no answer in time), failed, suppressed.",
    ["channel", "outcome"],
)
RECONCILED = Counter(
    "bot_deliveries_reconciled_total",
    "Deliveries whose sender died mid-send or timed out, settled by asking the provider: "
    "found (it had it: not sent again), resent (it never got it), ask_again (it could not be "
    "asked), uncertain (nobody can tell, e.g. Telegram: never sent again).",
    ["channel", "outcome"],
)
UNCERTAIN = Counter(
    "bot_deliveries_uncertain_total",
    "Deliveries that may or may not have reached the resident, for good (also logged).",
    ["channel"],
)
QUEUE_SCAN_LIMIT = 1000
READY_CHECK_S = 2.0


class TurnTimer:
    """`with TurnTimer("webchat"):` around one turn."""

    def __init__(self, channel: str) -> None:
        self._channel = channel
        self._started = 0.0

    def __enter__(self) -> TurnTimer:
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        outcome = "ok" if exc_type is None else "error"
        TURN_SECONDS.labels(self._channel, outcome).observe(time.perf_counter() - self._started)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    runtime = request.app.state.channel_runtime
    if runtime is not None:
        QUEUE_DEPTH.labels("inbox").set(len(await runtime.inbox.pending(QUEUE_SCAN_LIMIT)))
        QUEUE_DEPTH.labels("outbox").set(len(await runtime.delivery.due(QUEUE_SCAN_LIMIT)))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz")
async def readyz(request: Request) -> Any:
    """Whether a load balancer should send this gateway traffic (README, "Faults").

    503 while it cannot keep what it accepts (its database does not answer), while it is
    starting, and from the moment it begins to shut down. A Rasa server, Redis or the
    action server being down makes it "degraded" but still ready: channel messages are then
    kept in the inbox and answered when they are back, which a load balancer holding the
    traffic back would turn into webhooks lost (Twilio stops retrying after 15 s). Each
    check gives up after READY_CHECK_S: a check that hangs is worse than "down"."""
    container = request.app.state.container
    if container is None or getattr(request.app.state, "draining", False):
        state = "starting" if container is None else "draining"
        return JSONResponse({"status": state}, status_code=503)
    database, rasa = await asyncio.gather(
        _within(_database(container.engine)), _within(container.dialogue.status())
    )
    checks = {"database": database, "rasa": rasa}
    locks = request.app.state.turn_locks
    if hasattr(locks, "ping"):
        checks["redis"] = await _within(locks.ping())
    body: dict[str, Any] = {name: "ok" if up else "down" for name, up in checks.items()}
    down = [name for name, up in checks.items() if not up]
    if not checks["database"]:
        return JSONResponse({"status": "unavailable", **body, "down": down}, status_code=503)
    if down:
        return {"status": "degraded", **body, "down": down}
    return {"status": "ready", **body}


async def _within(check: Awaitable[bool]) -> bool:
    try:
        return await asyncio.wait_for(check, READY_CHECK_S)
    except asyncio.TimeoutError:
        return False


async def _database(engine: Any) -> bool:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not ready"; the log says which elsewhere
        return False
    return True
