"""The EffectLedger port in SQL: one row per (message, effect), claimed by an INSERT ... ON
CONFLICT DO NOTHING, so of two concurrent claims exactly one wins (bot/services/effects.py).

Rows hold the gateway's message key, the effect's name and a short outcome (an id or masked
values), never personal data; they are pruned after two days.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ColumnElement, Index, String, Table, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.db.repositories import upsert_insert
from integrations.db.tables import UtcDateTime, metadata

turn_effects = Table(
    "turn_effects",
    metadata,
    Column("message_key", String(200), primary_key=True),
    Column("effect", String(40), primary_key=True),
    Column("outcome", Text, nullable=True),  # None while the effect is under way
    Column("claimed_at", UtcDateTime(), nullable=False),
    Index(None, "claimed_at"),
)


class SqlEffectLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, message_key: str, effect: str, at: datetime) -> bool:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                upsert_insert(connection, turn_effects)
                .values(message_key=message_key, effect=effect, outcome=None, claimed_at=at)
                .on_conflict_do_nothing(index_elements=["message_key", "effect"])
            )
            claimed: int = result.rowcount
        return claimed == 1

    async def outcome(self, message_key: str, effect: str) -> tuple[bool, str | None]:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(turn_effects.c.outcome).where(*self._row(message_key, effect))
                )
            ).first()
        return (False, None) if row is None else (True, row.outcome)

    async def record(self, message_key: str, effect: str, outcome: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(turn_effects).where(*self._row(message_key, effect)).values(outcome=outcome)
            )

    async def release(self, message_key: str, effect: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(turn_effects).where(*self._row(message_key, effect)))

    async def prune(self, before: datetime) -> int:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(turn_effects).where(turn_effects.c.claimed_at < before)
            )
            pruned: int = result.rowcount
        return pruned

    @staticmethod
    def _row(message_key: str, effect: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (turn_effects.c.message_key == message_key, turn_effects.c.effect == effect)
