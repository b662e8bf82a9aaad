"""SQL repositories for residents, conversations, link challenges, saved accounts and
webhook events. Payments are in `payment_repositories.py`, the outbox in `outbox.py`.

Each repository runs Core statements on the unit of work's connection and never commits:
the unit of work decides. Columns are named like the dataclass fields they hold, so rows
map to dataclasses by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.billing import SavedAccount, Utility
from bot.model.residents import Channel, Conversation, LinkChallenge, Resident
from integrations.db.crypto import hashed_values, without_hashes
from integrations.db.tables import (
    conversations,
    link_challenges,
    otp_sends,
    residents,
    saved_accounts,
    webhook_events,
)

T = TypeVar("T")


def from_row(factory: Callable[..., T], row: RowMapping | None) -> T | None:
    """The dataclass held by `row`, None for no row."""
    return None if row is None else factory(**without_hashes(row))


def upsert_insert(connection: AsyncConnection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT on the connection's database.

    Plain INSERT-then-catch-IntegrityError would abort a PostgreSQL transaction; ON
    CONFLICT settles races inside the database instead.
    """
    name = connection.sync_engine.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no ON CONFLICT insert for {name}")


class SqlResidentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, resident_id: str) -> Resident | None:
        return await self._one(residents.c.resident_id == resident_id)

    async def by_sso_id(self, sso_id: str) -> Resident | None:
        return await self._one(residents.c.sso_id_hash == sso_id)

    async def add(self, resident: Resident) -> None:
        await self._connection.execute(
            insert(residents).values(**hashed_values(residents, asdict(resident)))
        )

    async def update(self, resident: Resident) -> None:
        values = hashed_values(residents, asdict(resident))
        del values["resident_id"]
        await self._connection.execute(
            update(residents)
            .where(residents.c.resident_id == resident.resident_id)
            .values(**values)
        )

    async def _one(self, condition: Any) -> Resident | None:
        result = await self._connection.execute(select(residents).where(condition))
        return from_row(Resident, result.mappings().first())


class SqlConversationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, conversation_id: str) -> Conversation | None:
        return await self._one(conversations.c.conversation_id == conversation_id)

    async def find(self, channel: Channel, address: str) -> Conversation | None:
        return await self._one(
            (conversations.c.channel == channel) & (conversations.c.address_hash == address)
        )

    async def add(self, conversation: Conversation) -> None:
        await self._connection.execute(
            insert(conversations).values(**hashed_values(conversations, asdict(conversation)))
        )

    async def update(self, conversation: Conversation) -> None:
        values = hashed_values(conversations, asdict(conversation))
        del values["conversation_id"]
        await self._connection.execute(
            update(conversations)
            .where(conversations.c.conversation_id == conversation.conversation_id)
            .values(**values)
        )

    async def _one(self, condition: Any) -> Conversation | None:
        result = await self._connection.execute(select(conversations).where(condition))
        return from_row(Conversation, result.mappings().first())


class SqlChallengeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, conversation_id: str) -> LinkChallenge | None:
        result = await self._connection.execute(
            select(link_challenges).where(link_challenges.c.conversation_id == conversation_id)
        )
        return from_row(LinkChallenge, result.mappings().first())

    async def save(self, challenge: LinkChallenge) -> None:
        """Insert, or replace the conversation's earlier challenge, in one statement."""
        statement = upsert_insert(self._connection, link_challenges).values(
            **hashed_values(link_challenges, asdict(challenge))
        )
        replaced = {
            column.name: statement.excluded[column.name]
            for column in link_challenges.columns
            if column.name != "conversation_id"
        }
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=["conversation_id"], set_=replaced)
        )

    async def delete(self, conversation_id: str) -> None:
        await self._connection.execute(
            delete(link_challenges).where(link_challenges.c.conversation_id == conversation_id)
        )

    async def record_send(self, sso_id: str, sent_at: datetime, conversation_id: str) -> None:
        await self._connection.execute(
            insert(otp_sends).values(
                sso_id_hash=sso_id, sent_at=sent_at, conversation_id=conversation_id
            )
        )

    async def sends_since(
        self, sso_id: str, since: datetime, conversation_id: str | None = None
    ) -> int:
        statement = (
            select(func.count())
            .select_from(otp_sends)
            .where(otp_sends.c.sso_id_hash == sso_id, otp_sends.c.sent_at >= since)
        )
        if conversation_id is not None:
            statement = statement.where(otp_sends.c.conversation_id == conversation_id)
        result = await self._connection.execute(statement)
        return int(result.scalar_one())

    async def other_sso_ids_since(self, conversation_id: str, sso_id: str, since: datetime) -> int:
        result = await self._connection.execute(
            select(func.count(func.distinct(otp_sends.c.sso_id_hash))).where(
                otp_sends.c.conversation_id == conversation_id,
                otp_sends.c.sent_at >= since,
                otp_sends.c.sso_id_hash != sso_id,
            )
        )
        return int(result.scalar_one())


class SqlAccountRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def list_for(
        self, resident_id: str, utility: Utility | None = None
    ) -> list[SavedAccount]:
        """The resident's accounts in a stable order (biller, then number)."""
        statement = select(saved_accounts).where(saved_accounts.c.resident_id == resident_id)
        if utility is not None:
            statement = statement.where(saved_accounts.c.utility == utility)
        result = await self._connection.execute(statement)
        # Sorted here: the database only holds ciphertexts, whose order means nothing.
        accounts = [SavedAccount(**without_hashes(row)) for row in result.mappings()]
        return sorted(accounts, key=lambda a: (a.biller_id, a.consumer_number))

    async def find(
        self, resident_id: str, biller_id: str, consumer_number: str
    ) -> SavedAccount | None:
        result = await self._connection.execute(
            select(saved_accounts).where(
                saved_accounts.c.resident_id == resident_id,
                saved_accounts.c.biller_id == biller_id,
                saved_accounts.c.consumer_number_hash == consumer_number,
            )
        )
        return from_row(SavedAccount, result.mappings().first())

    async def add(self, account: SavedAccount) -> None:
        await self._connection.execute(
            insert(saved_accounts).values(**hashed_values(saved_accounts, asdict(account)))
        )


class SqlWebhookEventRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, source: str, event_id: str, received_at: datetime) -> bool:
        """True for the first sighting of (source, event_id). Of two concurrent deliveries
        the second waits for the first's transaction and then inserts nothing."""
        statement = (
            upsert_insert(self._connection, webhook_events)
            .values(source=source, event_id=event_id, received_at=received_at)
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
        )
        result = await self._connection.execute(statement)
        inserted: int = result.rowcount
        return inserted == 1
