"""GET /healthz: ready only when the gateway, Rasa (with a model) and the action server answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.gateway.deps import ContainerDep

router = APIRouter()

# A health check that hangs is worse than one that says "down": keep it short.
CHECK_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz(container: ContainerDep) -> Any:
    rasa, actions = await asyncio.gather(
        container.dialogue.status(), _answers(f"{container.settings.action_server_url}/health")
    )
    parts = {"gateway": True, "rasa": rasa, "actions": actions}
    body: dict[str, Any] = {name: "ok" if up else "down" for name, up in parts.items()}
    down = [name for name, up in parts.items() if not up]
    if down:
        return JSONResponse({"status": "unavailable", **body, "down": down}, status_code=503)
    return {"status": "ok", **body}


async def _answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return False
    return response.status_code == 200
