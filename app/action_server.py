"""The rasa-sdk action server (`python -m app.stack actions`): our actions behind the shared
secret, spoken to by the Rasa server of the other runtime (Rasa 3.6, Python 3.10).

rasa-sdk here is 3.21 (Python 3.12); what it changed that Rasa 3.6 does not know is undone:
- a call without a domain is answered, not refused: Rasa 3.6 sends the domain only to the
  actions that read it (integrations/rasa/server_tuning.py, selective domain) and knows
  nothing of the domain digest and the 449 "send the domain" answer of rasa-sdk 3.8+;
- Sanic 25 runs one worker in this process (single process), as Sanic 21 did: the
  supervisor's signals reach the server itself, and the metrics this process serves
  (ACTION_SERVER_METRICS_PORT) are those of the process that runs the actions.
"""

from __future__ import annotations

import warnings
from typing import Any

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic
from sanic.worker.loader import AppLoader

import actions.runtime
from app.bootstrap import action_services, bootstrap
from app.settings import Settings, load_settings
from integrations.rasa import internal_auth

ACTIONS_PACKAGE = "actions"


class Rasa36ActionExecutor(ActionExecutor):  # type: ignore[misc]  # rasa-sdk is untyped
    def update_and_return_domain(
        self, payload: dict[str, Any], action_name: str
    ) -> dict[str, Any] | None:
        if "domain" not in payload and "domain_digest" not in payload:
            return {}  # what rasa-sdk 3.6 handed an action called without one
        domain: dict[str, Any] | None = super().update_and_return_domain(payload, action_name)
        return domain


def action_server_app(settings: Settings) -> Any:
    """rasa-sdk's Sanic app serving our actions, every route but /health behind the secret."""
    # The actions get their services from here, built on the first action (in the server's
    # event loop, which the database pool belongs to), never at import; in each worker
    # process Sanic spawns, since this runs there.
    actions.runtime.install(lambda: action_services(bootstrap(settings)))
    executor = Rasa36ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    # As rasa_sdk.endpoint.create_app_for_serve, without its tracing, which reads an
    # endpoints.yml of its own (and logs an error when there is none).
    app = create_app(executor, cors_origins="*")
    internal_auth.protect_action_server(app, settings.internal_token_value)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def run(settings: Settings) -> None:
    """Serve on BIND_HOST:ACTION_SERVER_PORT until SIGINT or SIGTERM."""
    configure_logging(settings)
    if settings.action_server_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.action_server_metrics_port, addr=settings.bind_host)
    workers = utils.number_of_sanic_workers()  # ACTION_SERVER_SANIC_WORKERS, default 1
    if workers == 1:
        app = action_server_app(settings)
        app.prepare(host=settings.bind_host, port=settings.action_server_port, single_process=True)
        Sanic.serve_single(primary=app)
        return
    # Several workers: Sanic spawns processes and builds the app again in each of them.
    loader = AppLoader(factory=_worker_app)
    app = loader.load()
    app.prepare(host=settings.bind_host, port=settings.action_server_port, workers=workers)
    Sanic.serve(primary=app, app_loader=loader)


def _worker_app() -> Any:
    """action_server_app in a process Sanic spawned: its settings read and logging set up."""
    settings = load_settings()
    configure_logging(settings)
    return action_server_app(settings)


def configure_logging(settings: Settings) -> None:
    # rasa-sdk leaves logging alone: ours masks identifiers in action failures' tracebacks.
    from integrations.log_redaction import configure_logging as redacting_logging
    from integrations.log_redaction import mask_quoted_texts

    redacting_logging(settings.log_level, settings.log_format)
    mask_quoted_texts()
    # The two runtimes differ on purpose (Rasa 3.6 and rasa-sdk 3.21); the calls between
    # them are tested (tests/integration/test_action_server.py), not matched by version.
    warnings.filterwarnings("ignore", message="Your versions of rasa and rasa_sdk")
