"""Erasure with Rasa's SQL tracker store: the sender's rows leave the `events` table.

Rasa's own PUT .../tracker/events only appends to an SQL store, so without this the
"deleted" history would stay in PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import DialogueUnavailable
from integrations.rasa.tracker_history import SqlTrackerHistory
from tests.integration.conftest import PostgresSchema

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres]


class RecordingRasa:
    def __init__(self, fail: bool = False) -> None:
        self.erased: list[str] = []
        self.fail = fail

    async def erase_history(self, conversation_id: str) -> None:
        if self.fail:
            raise DialogueUnavailable("Rasa down")
        self.erased.append(conversation_id)


async def _events_table(engine: AsyncEngine) -> None:
    # The columns Rasa 3.6's SQLTrackerStore creates.
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE events (id serial PRIMARY KEY, sender_id varchar(255) NOT NULL,"
                " type_name varchar(255) NOT NULL, timestamp float, intent_name varchar(255),"
                " action_name varchar(255), data text)"
            )
        )
        for sender, data in (("c-erase", "my number 210145678912"), ("c-keep", "hello")):
            await connection.execute(
                text("INSERT INTO events (sender_id, type_name, data) VALUES (:s, 'user', :d)"),
                {"s": sender, "d": data},
            )


async def _senders(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT sender_id FROM events ORDER BY id"))
        return [row[0] for row in rows]


async def test_erasing_removes_only_that_conversation_s_rows(
    postgres_schema: PostgresSchema,
) -> None:
    engine = postgres_schema.async_engine()
    try:
        await _events_table(engine)
        rasa = RecordingRasa()
        await SqlTrackerHistory(rasa, engine).erase_history("c-erase")
        assert rasa.erased == ["c-erase"]
        assert await _senders(engine) == ["c-keep"]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS events"))
        await engine.dispose()


async def test_rasa_unreachable_leaves_the_rows_for_the_retry(
    postgres_schema: PostgresSchema,
) -> None:
    engine = postgres_schema.async_engine()
    try:
        await _events_table(engine)
        with pytest.raises(DialogueUnavailable):
            await SqlTrackerHistory(RecordingRasa(fail=True), engine).erase_history("c-erase")
        # Nothing deleted yet: the privacy service keeps the erasure pending and tries again.
        assert await _senders(engine) == ["c-erase", "c-keep"]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS events"))
        await engine.dispose()
