"""`python -m app.stack`: run the whole stack in the foreground, as `make run` does.

Starts the rasa-sdk action server, the Rasa server and the gateway as child processes,
prints the web chat address once /healthz says all three answer, and on Ctrl-C or
SIGTERM stops every process it started. A child that dies is started again after a
back-off while the others keep running (app/supervisor.py).

`python -m app.stack rasa` and `python -m app.stack actions` run a single server; they
exist so the API token is read from the environment instead of a command line that any
local user could read with `ps`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from secrets import token_hex
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from app.settings import ROOT, Settings, load_settings, warn_about_placeholders
from app.supervisor import Supervisor
from integrations.rasa import internal_auth

log = logging.getLogger("stack")
MODEL = ROOT / "models" / "current.tar.gz"
STARTUP_TIMEOUT_S = 240  # Rasa alone needs 45-60 s to load TensorFlow and the model


# Passwords reach Rasa through its `${VAR}` substitution in endpoints.yml, never the file.
TRACKER_STORE_PASSWORD_ENV = "BOT_RASA_TRACKER_STORE_PASSWORD"
LOCK_STORE_PASSWORD_ENV = "BOT_RASA_LOCK_STORE_PASSWORD"
INTERNAL_TOKEN_ENV = internal_auth.TOKEN_ENV


def endpoints_config(settings: Settings) -> tuple[dict[str, Any], dict[str, str]]:
    """Rasa's endpoints from the environment, and the secrets they refer to by name.

    RASA_TRACKER_STORE_URL (PostgreSQL) gives Rasa's SQL tracker store (with the trackers
    in use remembered: integrations/rasa/tracker_store.py), which loads only the current
    session of a conversation; REDIS_URL gives a Redis lock store with the keys of Rasa's
    `redis` type, on redis.asyncio instead of Rasa's blocking ticket lock
    (integrations/rasa/lock_store.py; turns are serialised before Rasa anyway: rasa.md
    explains why Rasa's alone is not enough)."""
    config: dict[str, Any] = {
        "action_endpoint": {
            "url": f"{settings.action_server_url}/webhook",
            # The action server refuses calls without it (integrations/rasa/internal_auth.py).
            "headers": {"Authorization": "Bearer ${" + INTERNAL_TOKEN_ENV + "}"},
        },
    }
    secrets: dict[str, str] = {INTERNAL_TOKEN_ENV: settings.internal_token_value}
    tracker_url = settings.rasa_tracker_store_url.get_secret_value()
    if tracker_url:
        url = urlsplit(tracker_url)
        dialect = url.scheme.split("+", 1)[0]
        if dialect not in ("postgresql", "postgres"):
            raise ValueError("RASA_TRACKER_STORE_URL must be a postgresql:// URL")
        config["tracker_store"] = {
            # Rasa's SQL tracker store, minus reloading every session on every turn.
            "type": "integrations.rasa.tracker_store.CachedSQLTrackerStore",
            "dialect": "postgresql",
            "url": url.hostname or "127.0.0.1",
            "port": url.port or 5432,
            "db": url.path.lstrip("/") or "rasa",
            "username": unquote(url.username or ""),
        }
        if url.password:
            config["tracker_store"]["password"] = "${" + TRACKER_STORE_PASSWORD_ENV + "}"
            secrets[TRACKER_STORE_PASSWORD_ENV] = unquote(url.password)
    if settings.redis_url:
        url = urlsplit(settings.redis_url)
        config["lock_store"] = {
            # Rasa's Redis lock store, minus blocking the event loop and its 7 round trips.
            "type": "integrations.rasa.lock_store.AsyncRedisLockStore",
            "url": url.hostname or "127.0.0.1",
            "port": url.port or 6379,
            "db": int(url.path.lstrip("/") or 0),
            "key_prefix": "rasa",
            "use_ssl": url.scheme == "rediss",
        }
        if url.password:
            config["lock_store"]["password"] = "${" + LOCK_STORE_PASSWORD_ENV + "}"
            secrets[LOCK_STORE_PASSWORD_ENV] = unquote(url.password)
    return config, secrets


def write_endpoints(settings: Settings) -> Path:
    """Writes var/endpoints-<port>.yml and puts the passwords it names into this process's
    environment, where Rasa (started next, in this process) reads them."""
    config, secrets = endpoints_config(settings)
    os.environ.update(secrets)
    path = ROOT / "var" / f"endpoints-{settings.rasa_port}.yml"  # one per server
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_rasa() -> None:
    """The Rasa server: HTTP API on (token auth), REST channel only, bound to loopback."""
    import rasa.api  # heavy: TensorFlow
    from rasa.utils.common import configure_logging_and_warnings

    settings = load_settings()
    # `rasa run` configures its loggers in its CLI; rasa.api.run does not, and unconfigured
    # structlog prints every debug event (whole tracker states each turn): measured as a
    # large share of a turn's time and the main reason latency grew with a conversation.
    level = logging.getLevelName(settings.log_level.upper())
    configure_logging_and_warnings(level)
    from integrations.rasa import keyed_turns, log_privacy, server_tuning

    # Rasa's structlog (as Rasa's configure_structlog, minus locals and content), stdlib,
    # warnings and Sanic logs through our redaction (issue 13).
    log_privacy.apply(settings.log_level, settings.log_format)

    server_tuning.apply()
    keyed_turns.apply()
    rasa.api.run(
        model=str(MODEL),
        endpoints=str(write_endpoints(settings)),
        credentials=str(ROOT / "credentials.yml"),
        interface=settings.bind_host,
        port=settings.rasa_port,
        enable_api=True,
        auth_token=settings.rasa_api_token.get_secret_value(),
    )


def run_actions() -> None:
    """The rasa-sdk action server, bound to BIND_HOST, refusing calls without the secret."""
    settings = load_settings()
    # rasa-sdk leaves logging alone: ours masks identifiers in action failures' tracebacks.
    from integrations.log_redaction import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    from integrations.rasa.log_privacy import mask_quoted_texts

    mask_quoted_texts()
    if settings.action_server_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.action_server_metrics_port, addr=settings.bind_host)
    from rasa_sdk import endpoint, utils
    from rasa_sdk.plugin import plugin_manager

    import actions.runtime
    from app.bootstrap import action_services, bootstrap

    # The actions get their services from here, built on the first action (in the server's
    # event loop, which the database pool belongs to), never at import.
    actions.runtime.install(lambda: action_services(bootstrap(settings)))
    # rasa_sdk.endpoint.run, plus the shared secret's check before any action runs.
    app = endpoint.create_app("actions", cors_origins="*")
    internal_auth.protect_action_server(app, settings.internal_token_value)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    app.run(
        settings.bind_host,
        settings.action_server_port,
        workers=utils.number_of_sanic_workers(),
    )


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
    python = sys.executable
    commands = {"actions": ([python, "-m", "app.stack", "actions"], env)}
    ports = [settings.rasa_port + number for number in range(max(1, settings.rasa_servers))]
    for port in ports:
        commands[f"rasa:{port}"] = (
            [python, "-m", "app.stack", "rasa"],
            {**env, "RASA_PORT": str(port)},
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
