"""A tiny stand-in for the Rasa HTTP API (and the action server's /health) on 127.0.0.1.

Real HTTP over loopback, so the client under test runs its real httpx code: timeouts,
refused connections, status codes and JSON included.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RasaDouble:
    def __init__(self, token: str = "rasa-test-token") -> None:
        self.token = token
        self.requests: list[dict[str, Any]] = []  # {"method", "path", "query", "json"}
        self.replies: list[dict[str, Any]] = [{"recipient_id": "x", "text": "hello"}]
        self.webhook_status = 200
        self.events_status = 200
        self.status_body: dict[str, Any] = {
            "model_id": "20261124-101500",
            "model_file": "current.tar.gz",
        }
        self.delay_s = 0.0
        self.tracker_events: list[dict[str, Any]] = []  # served by GET .../tracker
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self._app(),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/conversations/{conversation_id}/tracker/events")
        async def events(conversation_id: str, request: Request) -> Any:
            await self._record(request)
            if request.query_params.get("token") != self.token:
                return JSONResponse({"status": "failure", "reason": "NotAuthenticated"}, 401)
            return JSONResponse({"sender_id": conversation_id}, self.events_status)

        @app.put("/conversations/{conversation_id}/tracker/events")
        async def replace_events(conversation_id: str, request: Request) -> Any:
            await self._record(request)
            if request.query_params.get("token") != self.token:
                return JSONResponse({"status": "failure", "reason": "NotAuthenticated"}, 401)
            return JSONResponse({"sender_id": conversation_id, "events": []}, self.events_status)

        @app.get("/conversations/{conversation_id}/tracker")
        async def tracker(conversation_id: str, request: Request) -> Any:
            await self._record(request)
            if request.query_params.get("token") != self.token:
                return JSONResponse({"status": "failure", "reason": "NotAuthenticated"}, 401)
            return {"sender_id": conversation_id, "events": self.tracker_events}

        @app.post("/webhooks/gateway/webhook")
        async def webhook(request: Request) -> Any:
            await self._record(request)
            await asyncio.sleep(self.delay_s)
            if self.webhook_status != 200:
                return JSONResponse({"error": "boom"}, self.webhook_status)
            return self.replies

        @app.get("/status")
        async def status(request: Request) -> Any:
            await self._record(request)
            if request.query_params.get("token") != self.token:
                return JSONResponse({"status": "failure", "reason": "NotAuthenticated"}, 401)
            return self.status_body

        @app.get("/health")  # the rasa-sdk action server's
        async def health(request: Request) -> Any:
            await self._record(request)
            return {"status": "ok"}

        return app

    async def _record(self, request: Request) -> None:
        body = await request.body()
        self.requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "json": await request.json() if body else None,
            }
        )

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def start(self) -> RasaDouble:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("Rasa double did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
