"""Erasing a conversation's history when Rasa keeps trackers in an SQL tracker store.

Rasa's `PUT /conversations/<id>/tracker/events` replaces the events of an in-memory
tracker, but its SQL tracker store only ever appends: the old rows would stay in its
`events` table. So with RASA_TRACKER_STORE_URL set, the erasure also deletes the sender's
rows there, after Rasa has been told (so it holds nothing newer in a session it saves later).
"""

from __future__ import annotations

from sqlalchemy import column, delete, table
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import DialogueUnavailable
from bot.ports import ConversationHistory
from integrations.db.engine import async_url

# Rasa 3.6 SQLTrackerStore: table "events", one row per event, keyed by sender_id.
_events = table("events", column("sender_id"))


class SqlTrackerHistory:
    """ConversationHistory for Rasa servers that share an SQL tracker store."""

    def __init__(self, rasa: ConversationHistory, engine: AsyncEngine) -> None:
        self._rasa = rasa
        self._engine = engine

    @classmethod
    def from_url(cls, rasa: ConversationHistory, tracker_store_url: str) -> SqlTrackerHistory:
        return cls(rasa, create_async_engine(async_url(tracker_store_url), pool_pre_ping=True))

    async def erase_history(self, conversation_id: str) -> None:
        await self._rasa.erase_history(conversation_id)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    delete(_events).where(_events.c.sender_id == conversation_id)
                )
        except Exception as exc:  # driver errors differ; the caller retries later either way
            raise DialogueUnavailable(f"tracker store unreachable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        await self._engine.dispose()
