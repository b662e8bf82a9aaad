"""The whole stack (`python -m app.stack`), as `make run` starts it, with all four channels on.

Free ports, its own SQLite database and its own sandbox seed (the scenarios' residents);
WhatsApp, SMS and Telegram talk to fake provider APIs on 127.0.0.1 (tests/channels/providers.py).
No Redis: counters and limits live in the processes, fresh for every run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from scripts.bench.stack import free_port
from tests.channels.harness import SMS_FROM, TELEGRAM_SECRET, WHATSAPP_FROM
from tests.channels.providers import ACCOUNT_SID, AUTH_TOKEN, BOT_TOKEN, Providers, serving

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 300
# Ports are picked free and then bound by the stack a moment later; on a machine shared with
# other runs one may be taken in between, so a stack that dies at start-up gets a second try.
START_ATTEMPTS = 2
APP_SECRET = "converse-eval-app-secret"
# Settings of the caller's environment that would send the stack elsewhere.
UNSET = (
    "PUBLIC_BASE_URL",
    "REDIS_URL",
    "RASA_URLS",
    "RASA_TRACKER_STORE_URL",
    "DATA_ENCRYPTION_KEYS",
    "DATA_HASH_KEY",
    "ENVIRONMENT",
    "SSO_BACKEND",
    "BILLER_BACKEND",
    "SMS_BACKEND",
    "PAYMENT_GATEWAY",
    "POWER_DESK_BACKEND",
)


@dataclass(frozen=True)
class Stack:
    base_url: str
    providers: Providers
    database: Path
    app_secret: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def down(self) -> str | None:
        """Why the stack is no longer running, or None while it runs."""
        if self.process is None or self.process.poll() is None:
            return None
        return f"the stack stopped (exit code {self.process.returncode}); see {self.log}"


def stack_env(workdir: Path, seed: Path, providers: Providers) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'converse.db'}",
            "SANDBOX_SEED_PATH": str(seed),
            "GATEWAY_PORT": str(free_port()),
            "RASA_PORT": str(free_port()),
            "ACTION_SERVER_PORT": str(free_port()),
            "RASA_SERVERS": "1",
            "RASA_API_TOKEN": "converse-eval-rasa-token",
            "APP_SECRET_KEY": APP_SECRET,
            "RAZORPAY_WEBHOOK_SECRET": "converse-eval-webhook-secret",
            "RASA_TELEMETRY_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            # Scripted residents answer in milliseconds, faster than any person types: the
            # flood limits (per minute, per burst) would answer them instead of the dialogue.
            # The limits have tests of their own; this suite measures the conversation.
            "MESSAGE_RATE_PER_MINUTE": "0",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
            "TWILIO_SMS_FROM": SMS_FROM,
            "TWILIO_API_BASE_URL": providers.base_url,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": providers.base_url,
        }
    )
    return env


class StackFailed(RuntimeError):
    pass


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m app.stack`, healthy; StackFailed (with the log's tail) otherwise."""
    base_url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.stack"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackFailed(f"the stack exited at start-up:\n{_tail(log)}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=3).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(1)
    _stop(process)
    raise StackFailed(f"the stack was not healthy after {STARTUP_TIMEOUT_S} s:\n{_tail(log)}")


@contextmanager
def running_stack(workdir: Path, seed: Path) -> Iterator[Stack]:
    """Migrates and seeds a fresh database, starts the stack, waits for /healthz, and stops
    every process it started on the way out."""
    with serving() as providers:
        env = stack_env(workdir, seed, providers)
        for module in ("app.cli.migrate", "app.cli.seed"):
            done = subprocess.run(
                [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True
            )
            if done.returncode:
                raise StackFailed(f"{module} failed:\n{done.stdout}{done.stderr}")
        log = workdir / "stack.log"
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                process = _start(env, log)
                break
            except StackFailed:
                if attempt == START_ATTEMPTS:
                    raise
                for name in ("GATEWAY_PORT", "RASA_PORT", "ACTION_SERVER_PORT"):
                    env[name] = str(free_port())
        try:
            database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
            base_url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
            yield Stack(base_url, providers, database, APP_SECRET, log, process)
        finally:
            _stop(process)
