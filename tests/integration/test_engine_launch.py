"""The supervisor starts each Rasa server on the engine runtime's interpreter with the app's
settings resolved into its environment (app/stack.py), and the Rasa server reads from them the
same key ring and internal token as the gateway and the action server
(integrations/rasa/engine/settings.py): tracker events sealed by Rasa must open with the keys
`make rotate-keys` uses, and Rasa must call the action server with the secret it checks."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.bootstrap import keyring
from app.settings import Settings
from app.stack import ENGINE_SERVER, engine_environment, engine_python
from integrations.rasa.engine.settings import EngineSettings, endpoints_config

ROOT = Path(__file__).resolve().parents[2]
KEYS = "k2:" + base64.b64encode(b"2" * 32).decode() + ",k1:" + base64.b64encode(b"1" * 32).decode()
HASH_KEY = base64.b64encode(b"h" * 32).decode()


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


CASES = {
    "defaults": settings(),
    "derived from APP_SECRET_KEY": settings(app_secret_key=SecretStr("a" * 40)),
    "explicit keys": settings(
        app_secret_key=SecretStr("a" * 40),
        data_encryption_keys=SecretStr(KEYS),
        data_hash_key=SecretStr(HASH_KEY),
        internal_token=SecretStr("given-internal-token"),
        rasa_tracker_store_url=SecretStr("postgresql://rasa:s3cret@db:5433/rasa"),
        redis_url="redis://cache:6380/2",
        action_server_base_url="http://actions:5055/",
        bind_host="0.0.0.0",
        log_format="json",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_rasa_server_reads_what_the_app_means(case: str) -> None:
    app = CASES[case]
    engine = EngineSettings.from_environment(engine_environment(app, 5007))
    assert engine.keyring == keyring(app)
    assert engine.internal_token_value == app.internal_token_value
    assert engine.action_server_url == app.action_server_url
    assert (engine.rasa_port, engine.bind_host, engine.log_format) == (
        5007,
        app.bind_host,
        app.log_format,
    )
    assert engine.rasa_api_token == app.rasa_api_token.get_secret_value()
    assert engine.rasa_tracker_store_url == app.rasa_tracker_store_url.get_secret_value()
    assert engine.redis_url == (app.redis_url or "")


def test_make_runs_random_internal_token_reaches_rasa() -> None:
    env = engine_environment(settings(), 5005, internal_token="made-up-for-this-run")
    secrets = endpoints_config(EngineSettings.from_environment(env))[1]
    assert "made-up-for-this-run" in secrets.values()


def test_settings_from_a_dotenv_file_reach_the_rasa_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine runtime reads no .env: the supervisor resolves it for the Rasa server.
    (tmp_path / ".env").write_text(f"DATA_ENCRYPTION_KEYS={KEYS}\nDATA_HASH_KEY={HASH_KEY}\n")
    monkeypatch.chdir(tmp_path)
    for name in ("DATA_ENCRYPTION_KEYS", "DATA_HASH_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = Settings()
    engine = EngineSettings.from_environment(engine_environment(app, 5005))
    assert engine.keyring.current_key_id == "k2"
    assert engine.keyring == keyring(app)


def test_the_engine_interpreter_derives_the_same_keys() -> None:
    """In the engine runtime itself (Python 3.10, its own `cryptography`), not a copy of it."""
    app = CASES["explicit keys"]
    python = engine_python(app)
    if not os.access(python, os.X_OK):
        pytest.skip(f"no engine runtime at {python}: `make install` builds it")
    probe = (
        "import json, os, sys\n"
        "from integrations.rasa.engine.settings import EngineSettings\n"
        "s = EngineSettings.from_environment(os.environ)\n"
        "print(json.dumps({'version': sys.version_info[:2], 'token': s.internal_token_value,\n"
        "  'index': s.keyring.blind_index('mobile', '+919829100001'),\n"
        "  'opened': s.keyring.decrypt(sys.argv[1])}))\n"
    )
    sealed = keyring(app).encrypt("sealed in the app runtime")
    result = subprocess.run(
        [python, "-c", probe, sealed],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **engine_environment(app, 5005)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    seen = json.loads(result.stdout)
    assert seen["version"] == [3, 10]
    assert seen["token"] == app.internal_token_value
    assert seen["index"] == keyring(app).blind_index("mobile", "+919829100001")
    assert seen["opened"] == "sealed in the app runtime"


def test_engine_python_names_the_interpreter_else_make_installs_venv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENGINE_PYTHON", "/opt/engine/bin/python")
    assert engine_python(Settings(_env_file=None)) == "/opt/engine/bin/python"  # type: ignore[call-arg]
    monkeypatch.setenv("ENGINE_PYTHON", "venvs/engine/bin/python")  # from the repository
    relative = engine_python(Settings(_env_file=None))  # type: ignore[call-arg]
    assert relative == str(ROOT / "venvs" / "engine" / "bin" / "python")
    monkeypatch.delenv("ENGINE_PYTHON")
    default = engine_python(Settings(_env_file=None))  # type: ignore[call-arg]
    assert default == str(ROOT / ".venv-engine" / "bin" / "python")
    # What the supervisor runs on it: a module of the engine's own package.
    assert (ROOT / (ENGINE_SERVER.replace(".", "/") + ".py")).exists()
