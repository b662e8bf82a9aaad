"""The whole stack (`python -m bot.stack`), as `make run` starts it, with all four channels on.

Free ports, its own SQLite database and its own sandbox seed (the scenarios' residents);
WhatsApp, SMS and Telegram talk to fake provider APIs on 127.0.0.1 (tests/channels/providers.py).
No Redis: counters and limits live in the processes, fresh for every run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.bench.stack import free_port, running, wait_healthy
from tests.channels.harness import SMS_FROM, TELEGRAM_SECRET, WHATSAPP_FROM
from tests.channels.providers import ACCOUNT_SID, AUTH_TOKEN, BOT_TOKEN, Providers, serving

ROOT = Path(__file__).resolve().parents[2]
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
)


@dataclass(frozen=True)
class Stack:
    base_url: str
    providers: Providers
    database: Path
    app_secret: str
    log: Path


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


@contextmanager
def running_stack(workdir: Path, seed: Path) -> Iterator[Stack]:
    """Migrates and seeds a fresh database, starts the stack, waits for /healthz, and stops
    every process it started on the way out."""
    python = sys.executable
    with serving() as providers:
        env = stack_env(workdir, seed, providers)
        for module in ("integrations.db.migrate", "integrations.sandbox.seed"):
            subprocess.run(
                [python, "-m", module], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
            )
        log = workdir / "stack.log"
        base_url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        with running([python, "-m", "bot.stack"], ROOT, env, log) as process:
            wait_healthy(f"{base_url}/healthz", process, log)
            database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
            yield Stack(base_url, providers, database, APP_SECRET, log)
