"""The HTTP client our JSON adapters to outside systems share (SSO registry, the electricity
companies' outage and complaint desks): one base URL, a bearer API key, one timeout."""

from __future__ import annotations

import httpx


def bearer_json_client(
    base_url: str,
    api_key: str,
    timeout_s: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """`transport` lets tests put an HTTP double on 127.0.0.1 or a mock transport under it."""
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        timeout=timeout_s,
        transport=transport,
    )
