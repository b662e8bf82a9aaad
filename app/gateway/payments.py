"""The payment gateway's webhook, and the page the resident's browser returns to.

Only the signed webhook moves money state. The browser redirect to /payments/return
carries query parameters anyone can forge, so that page reads none of them.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from app.gateway.deps import ContainerDep
from app.gateway.webchat import PAGE_HEADERS, STATIC_DIR
from bot.errors import SignatureInvalid

log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/webhooks/payments")
async def payment_webhook(request: Request, container: ContainerDep) -> Any:
    # At most MAX_WEBHOOK_BYTES, counted as they arrive (app/gateway/body_limits.py).
    body = await request.body()  # the signature covers these exact bytes
    try:
        event = container.payment_gateway.parse_webhook(body, request.headers)
    except SignatureInvalid:
        client = request.client.host if request.client else "-"
        log.warning("payment webhook rejected: bad signature (%d bytes from %s)", len(body), client)
        return JSONResponse({"detail": "invalid signature"}, status_code=403)
    if event is None:
        return {"status": "ignored"}
    outcome = await container.payments.handle_event(event)
    # Duplicates and unknown links are 200 too: a non-2xx makes the gateway retry for a day.
    return {"status": outcome.value}


@router.get("/payments/return", include_in_schema=False)
async def payment_return() -> FileResponse:
    return FileResponse(STATIC_DIR / "payment-return.html", headers=PAGE_HEADERS)
