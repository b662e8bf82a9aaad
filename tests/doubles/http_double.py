"""A real HTTP server on 127.0.0.1 that answers as scripted and records what it received.

HTTP adapters are tested against it rather than with mocks: the request really goes
through the adapter's client library (httpx, twilio/aiohttp), headers, encoding and all.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay_s: float = 0.0


@dataclass
class HttpDouble:
    """Scripted replies by (method, path); 404 for anything unscripted."""

    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    _replies: dict[tuple[str, str], Reply] = field(default_factory=dict)
    _closing: threading.Event = field(default_factory=threading.Event)

    def reply(
        self,
        method: str,
        path: str,
        status: int = 200,
        json_body: Any = None,
        text: str = "",
        delay_s: float = 0.0,
    ) -> None:
        body = json.dumps(json_body).encode() if json_body is not None else text.encode()
        self._replies[(method.upper(), path)] = Reply(status, body, delay_s=delay_s)

    def received(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]


def _handler(double: HttpDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            recorded = Recorded(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            double.requests.append(recorded)
            reply = double._replies.get((self.command, url.path), Reply(404, b"{}"))
            if reply.delay_s and double._closing.wait(reply.delay_s):
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        # BaseHTTPRequestHandler dispatches on these exact names.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def serving() -> Iterator[HttpDouble]:
    """A double listening on a free port of 127.0.0.1 until the block ends."""
    double = HttpDouble()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
    double.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield double
    finally:
        double._closing.set()  # releases replies still sleeping on a delay
        server.shutdown()
        server.server_close()
