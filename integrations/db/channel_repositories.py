"""SQL repositories for the messaging channels: the inbox and channel state (deliveries:
integrations/db/delivery_repository.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.channels import (
    ChannelState,
    InboundKind,
    InboundMessage,
    InboxEntry,
)
from bot.model.outbound import Button
from bot.model.residents import Channel, Language
from integrations.db.repositories import upsert_insert
from integrations.db.tables import (
    channel_states,
    inbox,
)


class SqlInboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, message: InboundMessage) -> int | None:
        statement = (
            upsert_insert(self._connection, inbox)
            .values(
                channel=message.channel,
                external_id=message.external_id,
                address=message.address,
                address_hash=message.address,
                kind=message.kind,
                text=message.text,
                received_at=message.received_at,
                attempts=0,
                language_hint=message.language_hint.value if message.language_hint else None,
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
        result = await self._connection.execute(statement)
        if result.rowcount != 1:
            return None
        key = result.inserted_primary_key  # None only for a statement that is no INSERT
        assert key is not None
        return int(key[0])

    async def pending(self, limit: int = 100) -> list[InboxEntry]:
        result = await self._connection.execute(
            select(inbox)
            .where(inbox.c.processed_at.is_(None))
            .order_by(inbox.c.entry_id)
            .limit(limit)
        )
        return [_entry(row) for row in result.mappings()]

    async def pending_for(self, channel: Channel, address: str) -> list[InboxEntry]:
        result = await self._connection.execute(
            select(inbox)
            .where(
                inbox.c.processed_at.is_(None),
                inbox.c.channel == channel,
                inbox.c.address_hash == address,
            )
            .order_by(inbox.c.entry_id)
        )
        return [_entry(row) for row in result.mappings()]

    async def mark_processed(self, entry_id: int, processed_at: datetime) -> None:
        await self._connection.execute(
            update(inbox).where(inbox.c.entry_id == entry_id).values(processed_at=processed_at)
        )

    async def count_attempt(self, entry_id: int) -> int:
        await self._connection.execute(
            update(inbox).where(inbox.c.entry_id == entry_id).values(attempts=inbox.c.attempts + 1)
        )
        result = await self._connection.execute(
            select(inbox.c.attempts).where(inbox.c.entry_id == entry_id)
        )
        return int(result.scalar_one())


def _entry(row: RowMapping) -> InboxEntry:
    return InboxEntry(
        entry_id=row["entry_id"],
        message=InboundMessage(
            channel=Channel(row["channel"]),
            external_id=row["external_id"],
            address=row["address"],
            kind=InboundKind(row["kind"]),
            text=row["text"],
            received_at=row["received_at"],
            language_hint=Language(row["language_hint"]) if row["language_hint"] else None,
        ),
        attempts=row["attempts"],
        processed_at=row["processed_at"],
    )


class SqlChannelStateRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, conversation_id: str) -> ChannelState | None:
        result = await self._connection.execute(
            select(channel_states).where(channel_states.c.conversation_id == conversation_id)
        )
        row = result.mappings().first()
        if row is None:
            return None
        return ChannelState(
            conversation_id=row["conversation_id"],
            opted_out=bool(row["opted_out"]),
            last_inbound_at=row["last_inbound_at"],
            options=_decode_options(row["options"]),
        )

    async def save(self, state: ChannelState) -> None:
        values: dict[str, Any] = {
            "conversation_id": state.conversation_id,
            "opted_out": state.opted_out,
            "last_inbound_at": state.last_inbound_at,
            "options": _encode_options(state.options),
        }
        statement = upsert_insert(self._connection, channel_states).values(**values)
        del values["conversation_id"]
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=["conversation_id"], set_=values)
        )

    async def remember_options(
        self, conversation_ids: Sequence[str], options: tuple[Button, ...]
    ) -> None:
        if not conversation_ids:
            return
        encoded = _encode_options(options)
        rows = [
            {
                "conversation_id": cid,
                "opted_out": False,
                "last_inbound_at": None,
                "options": encoded,
            }
            for cid in dict.fromkeys(conversation_ids)
        ]
        statement = upsert_insert(self._connection, channel_states).values(rows)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=["conversation_id"], set_={"options": statement.excluded.options}
            )
        )


def _encode_options(options: tuple[Button, ...]) -> str:
    return json.dumps(
        [{"title": b.title, "payload": b.payload} for b in options], ensure_ascii=False
    )


def _decode_options(stored: str) -> tuple[Button, ...]:
    return tuple(Button(o["title"], o["payload"]) for o in json.loads(stored or "[]"))
