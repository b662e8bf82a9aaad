"""Finding 11 of issue 13: reaching the private network is not enough to talk to Rasa's
channel or to the action server, past the gateway's screening, limits and handoff. Both are
real servers on 127.0.0.1, called over real HTTP (integrations/rasa/internal_auth.py): Rasa's
channel in the engine runtime (ENGINE_PYTHON), the action server in this one. That Rasa sends
the secret its endpoints file names is tested in the engine's runtime
(tests/engine/test_action_endpoint_auth.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.settings import Settings
from app.stack import engine_python, internal_token_for_children
from bot.model.residents import Channel, Language
from integrations.rasa.client import RasaDialogueEngine
from integrations.rasa.internal_auth import TOKEN_ENV, bearer
from tests.gateway.rasa_double import free_port

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

ROOT = Path(__file__).resolve().parents[2]
APP_SECRET = "internal-auth-test-app-secret"
TURN = "/webhooks/gateway/webhook"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, app_secret_key=SecretStr(APP_SECRET), **values)  # type: ignore[call-arg]


def serve(command: list[str], env: dict[str, str], url: str, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text()[-3000:])
        try:
            httpx.get(url, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.terminate()
    raise AssertionError(f"{command} did not start: {log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def rasa_channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, TOKEN_ENV: settings().internal_token_value}
    command = [engine_python(settings()), "-m", "tests.engine.rasa_channel_server", str(port)]
    log = tmp_path_factory.mktemp("rasa-channel") / "server.log"
    process = serve(command, env, f"http://127.0.0.1:{port}/webhooks/gateway/", log)
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("actions")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "ACTION_SERVER_PORT": str(port),
        "APP_SECRET_KEY": APP_SECRET,
        "RASA_TELEMETRY_ENABLED": "false",
    }
    env.pop("INTERNAL_TOKEN", None)
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "app.cli.migrate"], cwd=ROOT, env=env, check=True)
    log = workdir / "actions.log"
    command = [sys.executable, "-m", "app.stack", "actions"]
    process = serve(command, env, f"http://127.0.0.1:{port}/health", log)
    yield f"http://127.0.0.1:{port}"
    stop(process)


def my_data_call(sender: str) -> dict[str, object]:
    """What Rasa posts to run action_my_data for a conversation."""
    return {
        "next_action": "action_my_data",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"language": "en"},
            "latest_message": {"text": "my data", "intent": {"name": "my_data"}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


async def test_rasa_channel_refuses_a_turn_without_the_secret(rasa_channel: str) -> None:
    turn = {"sender": "someone-else", "message": "/my_data", "channel": "webchat"}
    async with httpx.AsyncClient(base_url=rasa_channel) as http:
        bare = await http.post(TURN, json=turn)
        wrong = await http.post(TURN, json=turn, headers={"Authorization": "Bearer guess"})
    assert (bare.status_code, wrong.status_code) == (401, 401)
    assert "echo" not in bare.text + wrong.text


async def test_the_gateway_passes_rasas_channel_with_the_secret(rasa_channel: str) -> None:
    engine = RasaDialogueEngine(
        rasa_channel, "api-token", timeout_s=10, internal_token=settings().internal_token_value
    )
    try:
        replies = await engine.converse("chat-1", "hello", Language.EN, Channel.WEBCHAT)
    finally:
        await engine.close()
    assert [reply.text for reply in replies] == ["echo: hello"]


async def test_action_server_refuses_a_call_without_the_secret(action_server: str) -> None:
    async with httpx.AsyncClient(base_url=action_server) as http:
        bare = await http.post("/webhook", json=my_data_call("any-conversation-id"))
        wrong = await http.post(
            "/webhook",
            json=my_data_call("any-conversation-id"),
            headers={"Authorization": "Bearer guess"},
        )
        listing = await http.get("/actions")
        health = await http.get("/health")  # the gateway's /healthz asks it, and it says nothing
    assert (bare.status_code, wrong.status_code, listing.status_code) == (401, 401, 401)
    assert "responses" not in bare.text
    assert health.status_code == 200


async def test_action_server_answers_a_call_with_the_secret(action_server: str) -> None:
    # The header Rasa's action endpoint sends (endpoints.yml: "Bearer ${BOT_INTERNAL_TOKEN}").
    async with httpx.AsyncClient(base_url=action_server) as http:
        answer = await http.post(
            "/webhook",
            json=my_data_call("chat-of-this-test"),
            headers=bearer(settings().internal_token_value),
        )
    assert answer.status_code == 200 and answer.json()["responses"]


def test_make_run_shares_a_random_secret_unless_one_can_be_derived_or_is_given() -> None:
    placeholder = Settings(_env_file=None)  # type: ignore[call-arg]
    first, second = (
        internal_token_for_children(placeholder),
        internal_token_for_children(placeholder),
    )
    assert len(first["INTERNAL_TOKEN"]) == 64 and first != second  # not the public derivation
    assert internal_token_for_children(settings()) == {}  # derived from a real APP_SECRET_KEY
    given = settings(internal_token=SecretStr("given-secret"))
    assert internal_token_for_children(given) == {}
    assert given.internal_token_value == "given-secret"
    assert settings().internal_token_value not in (APP_SECRET, "")
