"""The sandbox SMS provider: messages are kept for GET /sandbox/sms instead of sent."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import SmsUnavailable
from bot.ports import Clock
from integrations.sandbox import tables

# A real provider refuses what is not an E.164 number; so does the sandbox, so the
# mistake shows in development rather than on the first real send.
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


class SandboxSmsSender:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def send_sms(self, to: str, text: str) -> None:
        if not _E164.fullmatch(to):
            raise SmsUnavailable("not an E.164 number")
        async with self._engine.begin() as conn:
            await conn.execute(
                tables.sms_outbox.insert().values(
                    to_number=to, text=text, sent_at=self._clock.now()
                )
            )

    async def outbox(self, to: str) -> list[dict[str, str]]:
        """Messages sent to `to`, oldest first."""
        sms = tables.sms_outbox
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(sms).where(sms.c.to_number == to).order_by(sms.c.id))
            return [
                {"to": row.to_number, "text": row.text, "sent_at": row.sent_at.isoformat()}
                for row in rows
            ]
