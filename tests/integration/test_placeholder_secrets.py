"""Placeholder secrets (issue 13, finding 12): development says so loudly, once for the
whole stack; production refuses to start with them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app.bootstrap import bootstrap
from app.settings import (
    PLACEHOLDER_WARNED_ENV,
    ROOT,
    Environment,
    Settings,
    placeholder_secrets,
)

CHILD = (
    "import logging; logging.basicConfig(level=logging.INFO);"
    "from app.settings import load_settings, warn_about_placeholders;"
    "print(warn_about_placeholders(load_settings(), logging.getLogger('child')))"
)
SECRETS = ("APP_SECRET_KEY", "RASA_API_TOKEN", "RAZORPAY_WEBHOOK_SECRET", "DATA_ENCRYPTION_KEYS")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.pop(PLACEHOLDER_WARNED_ENV, None)
    return {**env, "ENVIRONMENT": "development", **extra}


def run_child(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


async def test_development_on_placeholders_warns_once_and_its_children_stay_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(PLACEHOLDER_WARNED_ENV, raising=False)
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", _env_file=None)

    with caplog.at_level(logging.WARNING):
        for _ in range(2):  # two containers in one process (gateway and its reminder loop…)
            await bootstrap(settings).close()

    [warning] = [r for r in caplog.records if "PLACEHOLDER SECRETS" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert "APP_SECRET_KEY" in warning.getMessage()
    assert "change-me-in-production" not in warning.getMessage()  # names, never values
    # A process started from this one (as `make run` starts the gateway, Rasa and the
    # action server) inherits the marker and says nothing more.
    assert os.environ[PLACEHOLDER_WARNED_ENV]
    quiet = run_child({**child_env(), PLACEHOLDER_WARNED_ENV: os.environ[PLACEHOLDER_WARNED_ENV]})
    assert quiet.stdout.strip() == "False" and "PLACEHOLDER" not in quiet.stderr


def test_a_process_started_on_its_own_warns_and_real_secrets_silence_it() -> None:
    alone = run_child(child_env())
    assert alone.stdout.strip() == "True"
    assert "WARNING" in alone.stderr and "PLACEHOLDER SECRETS" in alone.stderr

    real = run_child(
        child_env(
            APP_SECRET_KEY="k" * 40,
            RASA_API_TOKEN="a-real-token-for-rasa",
            RAZORPAY_WEBHOOK_SECRET="a-real-webhook-secret",
        )
    )
    assert real.stdout.strip() == "False" and "PLACEHOLDER" not in real.stderr


PRODUCTION = {
    "environment": Environment.PRODUCTION,
    "rasa_api_token": SecretStr("t" * 20),
    "app_secret_key": SecretStr("a" * 32),
    "razorpay_webhook_secret": SecretStr("w" * 20),
    "data_encryption_keys": SecretStr("k1:" + "A" * 43 + "="),
    "data_hash_key": SecretStr("A" * 43 + "="),
    "sso_backend": "http",
    "biller_backend": "bbps",
    "sms_backend": "twilio",
    "email_backend": "smtp",
    "payment_gateway": "razorpay",
    "power_desk_backend": "http",
}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("app_secret_key", "change-me-in-production", "APP_SECRET_KEY must be set"),
        ("app_secret_key", "changeme", "APP_SECRET_KEY must be set"),
        ("app_secret_key", "short-but-not-a-placeholder", "at least 32 characters"),
        ("rasa_api_token", "secret", "RASA_API_TOKEN must be set"),
        ("razorpay_webhook_secret", "", "RAZORPAY_WEBHOOK_SECRET must be set"),
    ],
)
def test_production_refuses_placeholder_and_weak_secrets(
    name: str, value: str, message: str
) -> None:
    assert placeholder_secrets(Settings(**PRODUCTION, _env_file=None)) == []
    with pytest.raises(ValidationError, match=message):
        Settings(**{**PRODUCTION, name: SecretStr(value)}, _env_file=None)


def test_production_refuses_the_sandbox_electricity_company() -> None:
    with pytest.raises(ValidationError, match="POWER_DESK_BACKEND=sandbox is not allowed"):
        Settings(**{**PRODUCTION, "power_desk_backend": "sandbox"}, _env_file=None)
