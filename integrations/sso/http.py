"""An SSO registry reached over HTTP: the contract a registry service must meet.

Rajasthan's SSO portal publishes no API to look up an SSO ID's holder, so the project
defines the one it needs and any service (a DoIT&C integration, a proxy) can implement it:

    GET {base_url}/v1/sso-ids/{sso_id}
    Authorization: Bearer {api_key}
    Accept: application/json

    200 {"sso_id": "ramesh.kumar", "name": "Ramesh Kumar Sharma",
         "mobile": "+919829100001", "language": "en"}
        the holder; `mobile` is the number registered with the SSO ID, in E.164;
        `language` is "en" or "hi" (anything else is read as "en").
    404 the SSO ID does not exist.

`sso_id` is sent in canonical form (lower case). Any other status, a timeout or a body
not of that shape means the registry cannot answer now (SsoUnavailable).
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

from bot.errors import SsoUnavailable
from bot.model.residents import Language
from bot.ports import SsoHolder
from integrations.http_clients import bearer_json_client

log = logging.getLogger(__name__)


class HttpSsoRegistry:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_s: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = bearer_json_client(base_url, api_key, timeout_s, transport)

    async def lookup(self, sso_id: str) -> SsoHolder | None:
        try:
            response = await self._client.get(f"/v1/sso-ids/{quote(sso_id, safe='')}")
            if response.status_code == 404:
                return None
            response.raise_for_status()
            holder = response.json()
            language = Language.HI if holder.get("language") == "hi" else Language.EN
            return SsoHolder(
                sso_id=str(holder["sso_id"]).lower(),
                name=str(holder["name"]),
                mobile=str(holder["mobile"]),
                language=language,
            )
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
            log.warning("SSO registry did not answer (HTTP %s, %s)", status, type(exc).__name__)
            raise SsoUnavailable("SSO registry unavailable") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
