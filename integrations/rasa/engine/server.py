"""`python -m integrations.rasa.engine.server`: one Rasa server, in the engine runtime.

The Rasa server with its HTTP API on (token auth), our channel only (credentials.yml), bound
to BIND_HOST, with our fixes installed before Rasa starts: keyed turns, log privacy, the
speed and fault fixes. Settings come from the environment (settings.py): the app's supervisor
(`python -m app.stack`) starts it with the engine's interpreter (ENGINE_PYTHON) and hands it
those variables; a container sets them itself. The API token stays out of the command line,
where any local user could read it with `ps`.

    --model PATH       the trained model (default models/current.tar.gz)
    --endpoints PATH   Rasa's endpoints file as it is (default: written from the settings to
                       var/endpoints-<RASA_PORT>.yml, passwords left in the environment)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import yaml

from integrations.rasa.engine.settings import EngineSettings, SettingsError, endpoints_config

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "models" / "current.tar.gz"
CREDENTIALS = ROOT / "credentials.yml"

log = logging.getLogger("rasa-server")


def write_endpoints(settings: EngineSettings) -> Path:
    """Writes var/endpoints-<port>.yml and puts the secrets it names into this process's
    environment, where Rasa (started next, in this process) reads them."""
    config, secrets = endpoints_config(settings)
    os.environ.update(secrets)
    path = ROOT / "var" / f"endpoints-{settings.rasa_port}.yml"  # one per server
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run(settings: EngineSettings, model: Path, endpoints: Path | None = None) -> None:
    import rasa.api  # heavy: TensorFlow
    from rasa.utils.common import configure_logging_and_warnings

    # `rasa run` configures its loggers in its CLI; rasa.api.run does not, and unconfigured
    # structlog prints every debug event (whole tracker states each turn): measured as a
    # large share of a turn's time and the main reason latency grew with a conversation.
    configure_logging_and_warnings(logging.getLevelName(settings.log_level.upper()))
    from integrations.rasa.engine import keyed_turns, log_privacy, server_tuning

    # Rasa's structlog (as Rasa's configure_structlog, minus locals and content), stdlib,
    # warnings and Sanic logs through our redaction (issue 13).
    log_privacy.apply(settings.log_level, settings.log_format)
    server_tuning.apply()
    keyed_turns.apply()
    if endpoints is None:
        endpoints = write_endpoints(settings)
    else:  # a file of the operator's: it may still name the internal token
        os.environ.update(endpoints_config(settings)[1])
    rasa.api.run(
        model=str(model),
        endpoints=str(endpoints),
        credentials=str(CREDENTIALS),
        interface=settings.bind_host,
        port=settings.rasa_port,
        enable_api=True,
        auth_token=settings.rasa_api_token,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m integrations.rasa.engine.server")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--endpoints", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        settings = EngineSettings.from_environment(os.environ)
    except SettingsError as exc:
        log.error("%s", exc)
        sys.exit(2)
    if not args.model.exists():
        log.error("no trained model at %s: run `make model` first", args.model)
        sys.exit(1)
    run(settings, args.model, args.endpoints)


if __name__ == "__main__":
    main()
