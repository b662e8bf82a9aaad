"""`python -m app.gateway`: serve the gateway on GATEWAY_HOST:GATEWAY_PORT."""

from __future__ import annotations

import uvicorn

from app.gateway.app import create_app
from app.settings import load_settings
from integrations.log_redaction import configure_logging


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings=settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,  # keep ours: it masks identifiers and secrets in access logs
        server_header=False,
    )


if __name__ == "__main__":
    main()
