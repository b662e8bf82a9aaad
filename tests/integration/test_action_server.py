"""The action server as the Rasa server calls it: `python -m app.stack actions` (rasa-sdk
3.21 on Sanic 25, the app's runtime) on 127.0.0.1, over real HTTP, with the calls Rasa 3.6
makes (app/action_server.py): actions that do not read the domain are sent none, form
validation gets the slots and forms; every route but /health wants the shared secret."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.settings import Settings
from tests.gateway.rasa_double import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
APP_SECRET = "action-server-test-app-secret"


def internal_token() -> str:
    settings = Settings(_env_file=None, app_secret_key=APP_SECRET)  # type: ignore[call-arg,arg-type]
    return settings.internal_token_value


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-workers"])
def action_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("actions")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "ACTION_SERVER_PORT": str(port),
        "APP_SECRET_KEY": APP_SECRET,
        "ACTION_SERVER_SANIC_WORKERS": str(request.param),
    }
    for name in ("INTERNAL_TOKEN", "REDIS_URL"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "integrations.db.migrate"], cwd=ROOT, env=env, check=True)
    log = workdir / "actions.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "app.stack", "actions"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as app/supervisor.py starts it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        # As the supervisor stops it: SIGTERM to the group (Sanic's worker manager has helper
        # processes of its own), then SIGKILL for any straggler, as the supervisor's timeout.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        time.sleep(0.5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    # One process stops cleanly on SIGTERM. With workers, the signal to the group also ends
    # the multiprocessing manager that Sanic 25's worker manager still talks to while it
    # shuts down (compare sanic-org/sanic#2997): everything stops, but it exits 1.
    if request.param == 1:
        assert process.returncode == 0, log.read_text()[-3000:]


def tracker(sender: str, slots: dict[str, Any], events: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "slots": slots,
        "latest_message": {"text": "hi", "intent": {"name": "greet"}},
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
        **extra,
    }


def call(action: str, state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What Rasa 3.6 posts (integrations/rasa/server_tuning.py: the domain only to the
    actions that read it)."""
    return {
        "next_action": action,
        "sender_id": state["sender_id"],
        "tracker": state,
        "version": "3.6.21",
        **extra,
    }


def form_domain() -> dict[str, Any]:
    """The slots and forms of our domain: what Rasa sends form validation."""
    domain: dict[str, Any] = {"slots": {}, "forms": {}}
    for path in sorted((ROOT / "bot" / "dialogue" / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text()) or {}
        for key in domain:
            domain[key].update(part.get(key) or {})
    return domain


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {internal_token()}"}
    return httpx.post(f"{url}/webhook", json=body, headers=headers, timeout=30)


def test_an_action_sent_no_domain_runs(action_server: str) -> None:
    state = tracker("chat-no-domain", {"language": "en"}, [])

    response = post(action_server, call("action_my_data", state))

    assert response.status_code == 200, response.text  # rasa-sdk 3.21 alone answers 449
    answer = response.json()
    assert set(answer) == {"events", "responses"}
    assert answer["responses"] and all("response" in r for r in answer["responses"])


def test_form_validation_reads_the_domain_it_was_sent(action_server: str) -> None:
    state = tracker(
        "chat-form",
        {"language": "en", "utility": "electricity", "requested_slot": "utility"},
        [
            {"event": "user", "text": "electricity", "parse_data": {"intent": {"name": "inform"}}},
            {"event": "slot", "name": "utility", "value": "electricity"},
        ],
        active_loop={"name": "bill_form"},
        latest_message={"text": "electricity", "intent": {"name": "inform"}},
    )

    response = post(action_server, call("validate_bill_form", state, domain=form_domain()))

    assert response.status_code == 200, response.text
    slots = {e["name"]: e["value"] for e in response.json()["events"] if e["event"] == "slot"}
    assert slots.get("utility") == "electricity"


def test_only_health_answers_without_the_secret(action_server: str) -> None:
    body = call("action_my_data", tracker("chat-x", {"language": "en"}, []))
    with httpx.Client(base_url=action_server) as http:
        bare = http.post("/webhook", json=body)
        wrong = http.post("/webhook", json=body, headers={"Authorization": "Bearer guess"})
        listing = http.get("/actions")
        health = http.get("/health")
    assert (bare.status_code, wrong.status_code, listing.status_code) == (401, 401, 401)
    assert "responses" not in bare.text + wrong.text
    assert health.status_code == 200
    with_secret = httpx.get(
        f"{action_server}/actions", headers={"Authorization": f"Bearer {internal_token()}"}
    )
    assert {"name": "action_my_data"} in with_secret.json()
