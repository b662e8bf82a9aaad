"""Finding 11 of issue 13, the Rasa server's side: Rasa calls the action server with the
shared secret that its endpoints file names but never holds (settings.py, server.py). A real
HTTP server on 127.0.0.1 stands in for the action server and records what it was sent; that
the real action server answers exactly that header is tested in the app's runtime
(tests/integration/test_internal_auth.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from integrations.rasa.engine.settings import INTERNAL_TOKEN_ENV, EngineSettings, endpoints_config
from tests.engine.conftest import free_port

APP_SECRET = "action-endpoint-test-app-secret"


@pytest.fixture
def action_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An action server double: answers every call with one response, keeps the headers."""
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(dict(self.headers))
            payload = json.dumps({"events": [], "responses": [{"text": "ok"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


async def test_rasa_calls_the_action_server_with_the_secret_from_its_endpoints_file(
    action_server: tuple[str, list[dict[str, str]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa.core.utils import AvailableEndpoints

    url, received = action_server
    settings = EngineSettings.from_environment(
        {"APP_SECRET_KEY": APP_SECRET, "ACTION_SERVER_BASE_URL": url}
    )
    config, secrets = endpoints_config(settings)
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(config))
    assert secrets[INTERNAL_TOKEN_ENV] not in path.read_text()  # named, never held
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)  # as server.py puts them in Rasa's environment

    endpoint = AvailableEndpoints.read_endpoints(str(path)).action
    assert endpoint is not None
    answer = await endpoint.request(json={"next_action": "action_my_data"}, method="post")

    assert answer == {"events": [], "responses": [{"text": "ok"}]}
    # Derived from APP_SECRET_KEY as the app derives it (app/settings.py).
    derived = hmac.new(APP_SECRET.encode(), b"internal-token", hashlib.sha256).hexdigest()
    assert [headers["Authorization"] for headers in received] == [f"Bearer {derived}"]


def test_a_given_internal_token_wins_over_the_derived_one() -> None:
    settings = EngineSettings.from_environment(
        {"APP_SECRET_KEY": APP_SECRET, "INTERNAL_TOKEN": "given-secret"}
    )
    assert endpoints_config(settings)[1][INTERNAL_TOKEN_ENV] == "given-secret"
