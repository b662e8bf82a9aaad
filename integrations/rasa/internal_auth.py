"""The shared secret of the private hops: gateway → Rasa's channel, Rasa → action server.

Without it, anything that reached the private network could talk to Rasa or the action
server directly, past the gateway's screening, rate limits and handoff (and run
`action_my_data` for any conversation id). Each server checks `Authorization: Bearer
<INTERNAL_TOKEN>` and refuses with 401 otherwise; the action server's /health stays open
(it says nothing) for the gateway's /healthz.

The secret reaches the Rasa server in BOT_INTERNAL_TOKEN (set by its entry point,
integrations/rasa/engine/server.py, from INTERNAL_TOKEN or APP_SECRET_KEY); Rasa's
endpoints.yml refers to it as ${BOT_INTERNAL_TOKEN} in the action endpoint's headers, so it
is never written to a file. The action server (app/stack.py) gets it from the app's settings.

Both runtimes load this module (README, "Runtimes"): plain Python, Sanic imported only by the
action server's check.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

TOKEN_ENV = "BOT_INTERNAL_TOKEN"
HEADER = "Authorization"
OPEN_PATHS = frozenset({"/health"})


def internal_token(given: str, app_secret: str) -> str:
    """INTERNAL_TOKEN when given, else derived from APP_SECRET_KEY: the one rule both
    runtimes follow, so the gateway, Rasa and the action server agree without a file."""
    if given:
        return given
    return hmac.new(app_secret.encode(), b"internal-token", hashlib.sha256).hexdigest()


def token_from_env() -> str:
    return os.environ.get(TOKEN_ENV, "")


def bearer(token: str) -> dict[str, str]:
    """The header a caller sends."""
    return {HEADER: f"Bearer {token}"}


def authorised(header: str | None, token: str) -> bool:
    """True when `header` carries `token`. An empty token refuses everything (fails closed)."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())


def protect_action_server(app: Any, token: str) -> None:
    """Refuse every request to rasa-sdk's Sanic app without the secret, except /health."""
    from sanic import response
    from sanic.request import Request

    async def check(request: Request) -> Any:
        if request.path in OPEN_PATHS or authorised(request.headers.get(HEADER), token):
            return None
        return response.json({"detail": "unauthorised"}, status=401)

    app.register_middleware(check, "request")
