"""SQL repository of email confirmation codes and the log of codes sent (issue 16)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.email import EmailChallenge
from integrations.db.repositories import from_row, upsert_insert
from integrations.db.tables import email_challenges, email_code_sends


class SqlEmailChallengeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, conversation_id: str) -> EmailChallenge | None:
        result = await self._connection.execute(
            select(email_challenges).where(email_challenges.c.conversation_id == conversation_id)
        )
        return from_row(EmailChallenge, result.mappings().first())

    async def save(self, challenge: EmailChallenge) -> None:
        statement = upsert_insert(self._connection, email_challenges).values(**asdict(challenge))
        replaced = {
            column.name: statement.excluded[column.name]
            for column in email_challenges.columns
            if column.name != "conversation_id"
        }
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=["conversation_id"], set_=replaced)
        )

    async def delete(self, conversation_id: str) -> None:
        await self._connection.execute(
            delete(email_challenges).where(email_challenges.c.conversation_id == conversation_id)
        )

    async def record_send(self, resident_id: str, address: str, sent_at: datetime) -> None:
        await self._connection.execute(
            insert(email_code_sends).values(
                resident_id=resident_id, address_hash=address, sent_at=sent_at
            )
        )

    async def sends_since(
        self, since: datetime, *, resident_id: str | None = None, address: str | None = None
    ) -> int:
        sends = email_code_sends.c
        statement = select(func.count()).select_from(email_code_sends).where(sends.sent_at >= since)
        if resident_id is not None:
            statement = statement.where(sends.resident_id == resident_id)
        if address is not None:
            statement = statement.where(sends.address_hash == address)
        result = await self._connection.execute(statement)
        return int(result.scalar_one())
