"""The Rasa server's settings from its environment (integrations/rasa/engine/settings.py) and
its entry point's refusals. That they give the same keys and secrets as the app's settings is
tested where both can be loaded, the app's runtime (tests/integration/test_engine_launch.py)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from integrations.keyring import derived_keyring
from integrations.rasa.engine.settings import PLACEHOLDER, EngineSettings, SettingsError
from tests.engine.conftest import ROOT

KEY = base64.b64encode(b"k" * 32).decode()
HASH_KEY = base64.b64encode(b"h" * 32).decode()


def test_nothing_set_is_the_apps_development_defaults() -> None:
    settings = EngineSettings.from_environment({})
    assert (settings.rasa_port, settings.bind_host, settings.rasa_api_token) == (
        5005,
        "127.0.0.1",
        PLACEHOLDER,
    )
    assert settings.action_server_url == "http://127.0.0.1:5055"
    assert settings.keyring == derived_keyring(PLACEHOLDER)


def test_explicit_keys_make_the_key_ring_and_empty_values_are_unset() -> None:
    settings = EngineSettings.from_environment(
        {
            "DATA_ENCRYPTION_KEYS": f"k2:{KEY},k1:{KEY}",
            "DATA_HASH_KEY": HASH_KEY,
            "RASA_PORT": "5006",
            "ACTION_SERVER_BASE_URL": "",
        }
    )
    assert settings.keyring.current_key_id == "k2" and set(settings.keyring.keys) == {"k1", "k2"}
    assert settings.keyring.hash_key == b"h" * 32
    assert settings.rasa_port == 5006 and settings.action_server_url == "http://127.0.0.1:5055"


def test_a_port_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(SettingsError, match="RASA_PORT"):
        EngineSettings.from_environment({"RASA_PORT": "fifty"})


@pytest.mark.parametrize(
    "missing",
    ["RASA_API_TOKEN", "APP_SECRET_KEY", "DATA_ENCRYPTION_KEYS"],
)
def test_production_refuses_placeholders(missing: str) -> None:
    production = {
        "ENVIRONMENT": "production",
        "RASA_API_TOKEN": "a-real-token-for-rasa",
        "APP_SECRET_KEY": "x" * 40,
        "RASA_TRACKER_STORE_URL": "postgresql://rasa@db/rasa",
        "DATA_ENCRYPTION_KEYS": f"k1:{KEY}",
        "DATA_HASH_KEY": HASH_KEY,
    }
    EngineSettings.from_environment(production)  # complete: accepted
    with pytest.raises(SettingsError, match=missing):
        EngineSettings.from_environment({**production, missing: ""})


def run_server(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "integrations.rasa.engine.server", *args]
    return subprocess.run(
        command,
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_server_does_not_start_in_production_with_the_placeholder_token() -> None:
    result = run_server({"ENVIRONMENT": "production"})
    assert result.returncode == 2 and "RASA_API_TOKEN must be set" in result.stderr


def test_the_server_says_so_when_there_is_no_model(tmp_path: os.PathLike[str]) -> None:
    result = run_server({}, "--model", f"{tmp_path}/none.tar.gz")
    assert result.returncode == 1 and "no trained model" in result.stderr
