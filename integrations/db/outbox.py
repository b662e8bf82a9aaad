"""SQL repository for the outbox: messages pushed to a conversation outside a turn.

A message is stored as JSON in the web chat's `Msg` shape (CONTRACTS.md): `{"text": str,
"buttons": [{"title", "payload"}], "attachment": null | {"url", "filename", "mime"}}`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.outbound import Attachment, Button, OutboundMessage, PushedMessage
from integrations.db.tables import outbox


def encode_message(message: OutboundMessage) -> str:
    attachment = message.attachment
    return json.dumps(
        {
            "text": message.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
            "attachment": None
            if attachment is None
            else {"url": attachment.url, "filename": attachment.filename, "mime": attachment.mime},
        },
        ensure_ascii=False,
    )


def decode_message(stored: str) -> OutboundMessage:
    data: dict[str, Any] = json.loads(stored)
    attachment = data.get("attachment")
    return OutboundMessage(
        text=data["text"],
        buttons=tuple(Button(b["title"], b["payload"]) for b in data.get("buttons", ())),
        attachment=None if attachment is None else Attachment(**attachment),
    )


class SqlOutboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def push(
        self, conversation_id: str, message: OutboundMessage, created_at: datetime
    ) -> int:
        if self._connection.sync_engine.dialect.name == "postgresql":
            # The sequence is a cursor: a reader that has seen 6 never looks at 5 again.
            # PostgreSQL hands out sequence numbers at insert, not at commit, so two open
            # transactions could commit 6 before 5. Holding a per-conversation lock until
            # commit keeps one conversation's numbers committing in order. (SQLite
            # serialises all writers already.)
            await self._connection.execute(
                select(func.pg_advisory_xact_lock(func.hashtext("outbox:" + conversation_id)))
            )
        result = await self._connection.execute(
            insert(outbox).values(
                conversation_id=conversation_id,
                message=encode_message(message),
                created_at=created_at,
            )
        )
        key = result.inserted_primary_key  # None only for a statement that is no INSERT
        assert key is not None
        return int(key[0])

    async def after(
        self, conversation_id: str, after_sequence: int, limit: int = 50
    ) -> list[PushedMessage]:
        result = await self._connection.execute(
            select(outbox)
            .where(outbox.c.conversation_id == conversation_id, outbox.c.sequence > after_sequence)
            .order_by(outbox.c.sequence)
            .limit(limit)
        )
        return [
            PushedMessage(
                sequence=row["sequence"],
                conversation_id=row["conversation_id"],
                message=decode_message(row["message"]),
                created_at=row["created_at"],
            )
            for row in result.mappings()
        ]
