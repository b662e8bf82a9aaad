"""The WebchatSessionStore port in SQL: a session is the SHA-256 of its id and two times.

Rows of expired sessions are kept: they are what makes an expired id refused rather than
taken as a new one (bot/services/webchat_sessions.py). They hold no personal data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.db.tables import UtcDateTime, metadata

webchat_sessions = Table(
    "webchat_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Index(None, "created_at"),
)


class SqlWebchatSessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, token_hash: str, created_at: datetime) -> None:
        # Here, not at the top: tables.py imports this module while repositories.py (which
        # imports tables.py) is still loading.
        from integrations.db.repositories import upsert_insert

        async with self._engine.begin() as connection:
            await connection.execute(
                upsert_insert(connection, webchat_sessions)
                .values(token_hash=token_hash, created_at=created_at, last_seen_at=created_at)
                .on_conflict_do_nothing(index_elements=["token_hash"])
            )

    async def get(self, token_hash: str) -> tuple[datetime, datetime] | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(webchat_sessions.c.created_at, webchat_sessions.c.last_seen_at).where(
                        webchat_sessions.c.token_hash == token_hash
                    )
                )
            ).first()
        return None if row is None else (row.created_at, row.last_seen_at)

    async def touch(self, token_hash: str, seen_at: datetime) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(webchat_sessions)
                .where(webchat_sessions.c.token_hash == token_hash)
                .values(last_seen_at=seen_at)
            )
