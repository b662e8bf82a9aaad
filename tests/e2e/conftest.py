"""Starts the whole stack (`python -m app.stack`) on free ports with its own database, exactly
as `make run` does, and gives tests a web chat client for it."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.channels.harness import WHATSAPP_FROM
from tests.channels.providers import ACCOUNT_SID, AUTH_TOKEN, Providers, serving

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "current.tar.gz"
STARTUP_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    twilio: Providers
    turn_latencies_ms: list[float] = field(default_factory=list)
    rasa_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    database_url: str = ""  # for CLIs run against the stack's database (agents)
    supervisor_pid: int = 0  # `python -m app.stack`, whose children are the servers


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[Providers]:
    with serving() as providers:
        yield providers


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_twilio: Providers) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack"), fake_twilio) as stack:
        yield stack


@contextlib.contextmanager
def running_stack(
    workdir: Path, fake_twilio: Providers, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """A whole stack of its own (`extra_env`: e.g. its own SANDBOX_SEED_PATH), stopped on exit."""
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make model` (make test does it)")
    gateway_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "GATEWAY_PORT": str(gateway_port),
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "RASA_API_TOKEN": "e2e-rasa-token",
        "APP_SECRET_KEY": "e2e-app-secret",
        "RAZORPAY_WEBHOOK_SECRET": "e2e-webhook-secret",
        # Scripted residents answer in milliseconds, far faster than anyone types.
        "MESSAGE_BURST_PER_10S": "0",
        # A power complaint's status is asked about on every job tick, not every 5 minutes.
        "SUPPLY_POLL_AFTER_S": "0",
        "RASA_TELEMETRY_ENABLED": "false",
        # WhatsApp on, talking to a fake Twilio API on 127.0.0.1.
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        **(extra_env or {}),
    }
    env.pop("PUBLIC_BASE_URL", None)
    python = sys.executable
    for module in ("app.cli.migrate", "app.cli.seed"):
        subprocess.run([python, "-m", module], cwd=ROOT, env=env, check=True)
    log = (workdir / "stack.log").open("wb")
    process = subprocess.Popen(
        [python, "-m", "app.stack"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{gateway_port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"stack exited early; log: {workdir / 'stack.log'}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=3).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"stack not healthy after {STARTUP_TIMEOUT_S} s; log: {workdir / 'stack.log'}"
                )
            time.sleep(1)
        stack = Stack(
            base_url=base_url,
            twilio=fake_twilio,
            rasa_url=f"http://127.0.0.1:{env['RASA_PORT']}",
            env=env,
            database_url=env["DATABASE_URL"],
            supervisor_pid=process.pid,
        )
        yield stack
        if stack.turn_latencies_ms:
            median = statistics.median(stack.turn_latencies_ms)
            print(f"\nweb chat turns: {len(stack.turn_latencies_ms)}, median {median:.0f} ms")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


class Chat:
    """One resident in the web chat, speaking through the public contract only."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.stack = stack
        # A fresh id per chat (an address that already has a conversation but no session is
        # refused), within the contract's 64 characters.
        self.sender = f"{sender[:31]}-{secrets.token_hex(16)}"
        self.http = httpx.Client(base_url=stack.base_url, timeout=60)
        self.cursor = "0"

    def say(self, text: str) -> list[dict]:
        started = time.perf_counter()
        response = self.http.post("/webchat/messages", json={"sender": self.sender, "text": text})
        self.stack.turn_latencies_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    def pushed(self) -> list[dict]:
        response = self.http.get(
            "/webchat/messages", params={"sender": self.sender, "after": self.cursor}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        self.cursor = body["cursor"]
        return list(body["messages"])

    def latest_otp(self, mobile: str) -> str:
        sms = self.http.get("/sandbox/sms", params={"to": mobile}).json()["messages"]
        assert sms, f"no SMS was sent to {mobile}"
        match = re.search(r"\b(\d{6})\b", sms[-1]["text"])
        assert match, sms[-1]["text"]
        return match.group(1)


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def payloads(messages: list[dict]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]
