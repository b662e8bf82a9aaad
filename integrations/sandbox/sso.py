"""The sandbox SSO registry: the seed's residents are the SSO holders."""

from __future__ import annotations

from bot.ports import SsoHolder
from integrations.sandbox.seeding import Seed


class SandboxSsoRegistry:
    def __init__(self, seed: Seed) -> None:
        self._holders = {
            resident.sso_id: SsoHolder(
                sso_id=resident.sso_id,
                name=resident.name,
                mobile=resident.mobile,
                language=resident.language,
            )
            for resident in seed.residents
        }

    async def lookup(self, sso_id: str) -> SsoHolder | None:
        # SSO IDs are case-insensitive (domain reference); the seed holds them lower-cased.
        return self._holders.get(sso_id.strip().lower())
