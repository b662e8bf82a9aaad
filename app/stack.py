"""`python -m app.stack`: run the whole stack in the foreground, as `make run` does.

Starts the rasa-sdk action server, the Rasa server and the gateway as child processes (the
Rasa server on the engine runtime's interpreter, ENGINE_PYTHON: README, "Runtimes"),
prints the web chat address once /healthz says all three answer, and on Ctrl-C or
SIGTERM stops every process it started. A child that dies is started again after a
back-off while the others keep running (app/supervisor.py).

`python -m app.stack rasa` and `python -m app.stack actions` run a single server with the
app's settings; they exist so the API token is read from the environment instead of a
command line that any local user could read with `ps`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from secrets import token_hex

from app.settings import ROOT, Settings, load_settings, warn_about_placeholders
from app.supervisor import Supervisor

log = logging.getLogger("stack")
MODEL = ROOT / "models" / "current.tar.gz"
STARTUP_TIMEOUT_S = 240  # Rasa alone needs 45-60 s to load TensorFlow and the model
ENGINE_SERVER = "integrations.rasa.engine.server"


def engine_python(settings: Settings) -> str:
    """The engine runtime's interpreter (README, "Runtimes"): Rasa runs on Python 3.10.
    A relative ENGINE_PYTHON is taken from the repository, where the servers start."""
    return str(ROOT / (settings.engine_python or ".venv-engine/bin/python"))


def engine_environment(settings: Settings, port: int, internal_token: str = "") -> dict[str, str]:
    """What a Rasa server reads (integrations/rasa/engine/settings.py), resolved from the app's
    settings, `.env` included: the engine runtime reads its environment only. The same
    secrets, so the same key ring and internal token as the gateway and the action server."""
    return {
        "ENVIRONMENT": settings.environment.value,
        "LOG_LEVEL": settings.log_level,
        "LOG_FORMAT": settings.log_format,
        "BIND_HOST": settings.bind_host,
        "RASA_PORT": str(port),
        "RASA_API_TOKEN": settings.rasa_api_token.get_secret_value(),
        "INTERNAL_TOKEN": internal_token or settings.internal_token_value,
        "APP_SECRET_KEY": settings.app_secret_key.get_secret_value(),
        "ACTION_SERVER_BASE_URL": settings.action_server_url,
        "RASA_TRACKER_STORE_URL": settings.rasa_tracker_store_url.get_secret_value(),
        "REDIS_URL": settings.redis_url or "",
        "DATA_ENCRYPTION_KEYS": settings.data_encryption_keys.get_secret_value(),
        "DATA_HASH_KEY": settings.data_hash_key.get_secret_value(),
        "RASA_TELEMETRY_ENABLED": "false",
    }


def run_rasa() -> None:
    """One Rasa server with the app's settings (`.env` included), as the supervisor starts
    each: the engine's entry point on the engine's interpreter, in place of this process."""
    settings = load_settings()
    python = engine_python(settings)
    if not os.access(python, os.X_OK):
        sys.exit(f"no engine runtime at {python}: run `make install` (or set ENGINE_PYTHON)")
    env = {**os.environ, **engine_environment(settings, settings.rasa_port)}
    os.chdir(ROOT)  # where `-m integrations.rasa.engine.server` is found
    os.execve(python, [python, "-m", ENGINE_SERVER], env)


def run_actions() -> None:
    """The rasa-sdk action server, bound to BIND_HOST, refusing calls without the secret."""
    from app.action_server import run

    run(load_settings())


def internal_token_for_children(settings: Settings) -> dict[str, str]:
    """INTERNAL_TOKEN for the processes `make run` starts, when it has to be made up: with
    the placeholder APP_SECRET_KEY a derived one would be as public as the placeholder, so
    each run makes a random one that its children share (they read INTERNAL_TOKEN)."""
    if settings.internal_token.get_secret_value() or not settings.app_secret_is_placeholder:
        return {}
    return {"INTERNAL_TOKEN": token_hex(32)}


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def supervise() -> int:
    settings = load_settings()
    if not MODEL.exists():
        log.error("no trained model at %s: run `make model` first", MODEL)
        return 1
    # Here, before the children start: they inherit the environment and stay quiet.
    warn_about_placeholders(settings, log)
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        **internal_token_for_children(settings),
    }
    rasa_python = engine_python(settings)
    if not os.access(rasa_python, os.X_OK):
        log.error("no engine runtime at %s: run `make install` (or set ENGINE_PYTHON)", rasa_python)
        return 1
    python = sys.executable
    commands = {"actions": ([python, "-m", "app.stack", "actions"], env)}
    ports = [settings.rasa_port + number for number in range(max(1, settings.rasa_servers))]
    for port in ports:
        # The Rasa servers run in the engine runtime (README, "Runtimes").
        commands[f"rasa:{port}"] = (
            [rasa_python, "-m", ENGINE_SERVER],
            {**env, **engine_environment(settings, port, env.get("INTERNAL_TOKEN", ""))},
        )
    gateway_env = dict(env)
    if len(ports) > 1 and not settings.rasa_urls:
        gateway_env["RASA_URLS"] = ",".join(f"http://127.0.0.1:{port}" for port in ports)
    commands["gateway"] = ([python, "-m", "app.gateway"], gateway_env)
    supervisor = Supervisor(commands, ROOT)
    supervisor.start()
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    health = f"{settings.gateway_url}/healthz"
    started, announced = time.monotonic(), False
    exit_code = 0
    while not stopping:
        if not supervisor.check():
            exit_code = 1
            break
        if not announced:
            if _healthy(health):
                announced = True
                print(
                    f"\nWeb chat: {settings.public_base_url}/\n(Ctrl-C stops everything)\n",
                    flush=True,
                )
            elif time.monotonic() - started > STARTUP_TIMEOUT_S:
                log.error("the stack did not become healthy within %s s", STARTUP_TIMEOUT_S)
                exit_code = 1
                break
        time.sleep(0.5)
    supervisor.stop()
    return exit_code


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    role = sys.argv[1] if len(sys.argv) > 1 else "all"
    if role == "rasa":
        run_rasa()
    elif role == "actions":
        run_actions()
    else:
        sys.exit(supervise())


if __name__ == "__main__":
    main()
