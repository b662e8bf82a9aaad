"""Fake Twilio and Telegram APIs on 127.0.0.1: a real HTTP server the real `twilio` and
`python-telegram-bot` clients talk to, recording what they sent and answering as scripted
(e.g. one 429, then success)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "ACchanneltest"
AUTH_TOKEN = "twilio-channel-test-token"
BOT_TOKEN = "123456:channel-test-token"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@dataclass(frozen=True)
class Sent:
    """One API call: Twilio's form fields or Telegram's method parameters."""

    api: str  # "twilio" | "telegram"
    method: str  # Telegram method name, "Messages" for Twilio
    params: dict[str, Any]
    at: float
    wall: float = field(default_factory=time.time)  # when, as Twilio dates its messages


@dataclass
class Providers:
    base_url: str = ""
    calls: list[Sent] = field(default_factory=list)
    # Scripted failures, consumed in order: (status, body) per API ("twilio" | "telegram").
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    delay_s: float = 0.0
    # The next N Twilio messages are accepted (Twilio has them) but their answer is held this
    # long, or never comes (the connection closes): the sender cannot tell they went.
    held_answers: list[float | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: int = 0

    def hold_next_answer(self, seconds: float | None) -> None:
        """Accept the next Twilio message but answer after `seconds` (None: never)."""
        self.held_answers.append(seconds)

    def twilio_list(self, to: str, from_: str) -> list[dict[str, Any]]:
        """Twilio's message list (GET Messages.json) for a recipient and sender, newest
        first, as the REST API pages it."""
        found = [
            c
            for c in self.calls
            if c.api == "twilio"
            and c.params.get("_ok")
            and c.params.get("To") == to
            and c.params.get("From") == from_
        ]
        return [
            {
                "sid": c.params["_sid"],
                "account_sid": ACCOUNT_SID,
                "to": to,
                "from": from_,
                "body": c.params.get("Body") or "",
                "status": "sent",
                "date_created": formatdate(c.wall, usegmt=True),
                "date_sent": formatdate(c.wall, usegmt=True),
            }
            for c in reversed(found)
        ]

    def fail_next(self, api: str, status: int, body: dict[str, Any] | None = None) -> None:
        self.failures.setdefault(api, []).append((status, body or {}))

    def twilio(self) -> list[dict[str, Any]]:
        """Messages accepted by Twilio (not the refused attempts)."""
        return [c.params for c in self.calls if c.api == "twilio" and c.params.get("_ok")]

    def telegram(self, method: str | None = None) -> list[dict[str, Any]]:
        return [
            c.params
            for c in self.calls
            if c.api == "telegram"
            and c.params.get("_ok")
            and (method is None or c.method == method)
        ]

    def attempts(self, api: str) -> list[Sent]:
        return [c for c in self.calls if c.api == api and c.method != "getMe"]

    def _next_id(self) -> int:
        with self.lock:
            self._ids += 1
            return self._ids


def _params(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    kind = handler.headers.get("Content-Type") or ""
    if "json" in kind:
        data: dict[str, Any] = json.loads(body or b"{}")
        return data
    if "multipart" in kind:
        boundary = kind.split("boundary=")[1].encode()
        params: dict[str, Any] = {}
        for part in body.split(b"--" + boundary):
            head, _, value = part.partition(b"\r\n\r\n")
            if b'name="' in head:
                name = head.split(b'name="')[1].split(b'"')[0].decode()
                params[name] = value.rstrip(b"\r\n").decode(errors="replace")
        return params
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(body.decode()).items()}


def _handler(providers: Providers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != MESSAGES_PATH:
                return self._send(404, {"code": 20404, "status": 404})
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            messages = providers.twilio_list(query.get("To", ""), query.get("From", ""))
            size = int(query.get("PageSize", 50))
            return self._send(
                200,
                {
                    "messages": messages[:size],
                    "page": 0,
                    "page_size": size,
                    "first_page_uri": url.path,
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "uri": url.path,
                    "start": 0,
                    "end": min(size, len(messages)) - 1,
                },
            )

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            params = _params(self, body)
            api, method = ("twilio", "Messages") if path == MESSAGES_PATH else ("telegram", "")
            if api == "telegram":
                prefix = f"/bot{BOT_TOKEN}/"
                if not path.startswith(prefix):
                    return self._send(404, {"ok": False, "error_code": 404})
                method = path[len(prefix) :]
            if providers.delay_s:
                time.sleep(providers.delay_s)
            with providers.lock:
                queue = providers.failures.get(api) or []
                failure = queue.pop(0) if queue and method != "getMe" else None
            params["_ok"] = failure is None
            if api == "twilio" and failure is None:
                params["_sid"] = f"SM{providers._next_id():032d}"
            with providers.lock:
                held = (
                    providers.held_answers.pop(0)
                    if providers.held_answers and api == "twilio" and failure is None
                    else False
                )
            providers.calls.append(Sent(api, method, params, time.monotonic()))
            if failure is not None:
                return self._send(*failure)
            if held is None:
                self.close_connection = True  # Twilio has it; its answer never comes
                return None
            if held:
                time.sleep(held)
            if api == "twilio":
                sid = params["_sid"]
                return self._send(201, {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued"})
            return self._send(200, {"ok": True, "result": self._telegram_result(method, params)})

        def _telegram_result(self, method: str, params: dict[str, Any]) -> Any:
            if method == "getMe":
                return {
                    "id": 123456,
                    "is_bot": True,
                    "first_name": "Bill bot",
                    "username": "bill_bot",
                }
            if method.startswith("send"):
                chat_id = int(params.get("chat_id", 0))
                result: dict[str, Any] = {
                    "message_id": providers._next_id(),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                }
                if method == "sendDocument":
                    result["document"] = {"file_id": "doc1", "file_unique_id": "u1"}
                else:
                    result["text"] = params.get("text", "")
                return result
            return True

        def _send(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serving() -> Iterator[Providers]:
    providers = Providers()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(providers))
    providers.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield providers
    finally:
        server.shutdown()
        server.server_close()
