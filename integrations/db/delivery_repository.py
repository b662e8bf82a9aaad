"""SQL repository of outbox deliveries: which outbox message went to which channel, claimed
once, in order per conversation, and reconciled after a crash (bot/services/delivery.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from bot.model.channels import Delivery, DeliveryKind, DeliveryState
from bot.model.residents import Channel, Language
from integrations.db.outbox import decode_message
from integrations.db.repositories import upsert_insert
from integrations.db.tables import (
    channel_states,
    conversations,
    outbox,
    outbox_deliveries,
    residents,
)

# The delivery loop does not dig up pushes older than this: news two days late is noise, and
# the window keeps its query on the recent end of the outbox.
DELIVERY_HORIZON = timedelta(days=2)
CHANNELS = (Channel.WHATSAPP, Channel.SMS, Channel.TELEGRAM)


class SqlDeliveryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def due(
        self,
        now: datetime,
        limit: int = 100,
        *,
        retries_by: datetime | None = None,
        in_order: bool = False,
    ) -> list[Delivery]:
        d = outbox_deliveries
        waiting = or_(
            d.c.sequence.is_(None),
            and_(
                d.c.state == DeliveryState.PENDING,
                d.c.next_attempt_at <= (retries_by or now),
            ),
        )
        conditions = [
            conversations.c.channel.in_(CHANNELS),
            outbox.c.created_at >= now - DELIVERY_HORIZON,
            waiting,
        ]
        if in_order:
            conditions.append(~self._held_up(now))
        result = await self._connection.execute(
            self._select().where(*conditions).order_by(outbox.c.sequence).limit(limit)
        )
        return [_delivery(row) for row in result.mappings()]

    @staticmethod
    def _held_up(now: datetime) -> Any:
        """An earlier message of the same conversation must go first: it waits out a
        back-off after a 429/5xx, is being sent, or waits for its provider to be asked."""
        earlier, blocking = aliased(outbox), aliased(outbox_deliveries)
        return exists(
            select(blocking.c.sequence)
            .select_from(earlier.join(blocking, blocking.c.sequence == earlier.c.sequence))
            .where(
                earlier.c.conversation_id == outbox.c.conversation_id,
                earlier.c.sequence < outbox.c.sequence,
                earlier.c.created_at >= now - DELIVERY_HORIZON,
                or_(
                    blocking.c.state == DeliveryState.SENDING,
                    and_(
                        blocking.c.state == DeliveryState.PENDING,
                        blocking.c.next_attempt_at > now,
                    ),
                    and_(
                        blocking.c.state == DeliveryState.UNCERTAIN,
                        blocking.c.next_attempt_at.is_not(None),
                    ),
                ),
            )
        )

    async def to_reconcile(
        self, now: datetime, sending_since: datetime, limit: int = 100
    ) -> list[Delivery]:
        d = outbox_deliveries
        statement = (
            self._select()
            .where(
                conversations.c.channel.in_(CHANNELS),
                or_(
                    and_(d.c.state == DeliveryState.SENDING, d.c.updated_at < sending_since),
                    and_(d.c.state == DeliveryState.UNCERTAIN, d.c.next_attempt_at <= now),
                ),
            )
            .order_by(outbox.c.sequence)
            .limit(limit)
        )
        result = await self._connection.execute(statement)
        return [_delivery(row) for row in result.mappings()]

    async def reclaim(self, delivery: Delivery, now: datetime) -> bool:
        d = outbox_deliveries
        result = await self._connection.execute(
            update(d)
            .where(
                d.c.sequence == delivery.sequence,
                d.c.state == delivery.state,
                d.c.updated_at == delivery.updated_at,
            )
            .values(state=DeliveryState.SENDING, updated_at=now)
        )
        taken: int = result.rowcount
        return taken == 1

    @staticmethod
    def _select() -> Any:
        d = outbox_deliveries
        return select(
            outbox.c.sequence,
            outbox.c.conversation_id,
            outbox.c.message,
            outbox.c.created_at,
            conversations.c.channel,
            conversations.c.address,
            conversations.c.language.label("conversation_language"),
            residents.c.language.label("resident_language"),
            d.c.kind,
            d.c.attempts,
            d.c.state,
            d.c.updated_at,
            channel_states.c.opted_out,
            channel_states.c.last_inbound_at,
        ).select_from(
            outbox.join(conversations, conversations.c.conversation_id == outbox.c.conversation_id)
            .outerjoin(residents, residents.c.resident_id == conversations.c.resident_id)
            .outerjoin(d, d.c.sequence == outbox.c.sequence)
            .outerjoin(
                channel_states,
                channel_states.c.conversation_id == outbox.c.conversation_id,
            )
        )

    async def queue(self, sequence: int, kind: DeliveryKind, now: datetime) -> None:
        await self._connection.execute(
            insert(outbox_deliveries).values(
                sequence=sequence,
                kind=kind,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                updated_at=now,
            )
        )

    async def claim(self, delivery: Delivery, now: datetime) -> bool:
        d = outbox_deliveries
        if delivery.attempts == 0 and delivery.kind is DeliveryKind.PUSH:
            # A push nobody has touched: the insert itself is the claim (one row per sequence).
            statement = (
                upsert_insert(self._connection, d)
                .values(
                    sequence=delivery.sequence,
                    kind=delivery.kind,
                    state=DeliveryState.SENDING,
                    attempts=1,
                    next_attempt_at=None,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["sequence"])
            )
            result = await self._connection.execute(statement)
            if result.rowcount == 1:
                return True
        # A queued reply or a retry: compare-and-set on the state and the attempt count.
        result = await self._connection.execute(
            update(d)
            .where(
                d.c.sequence == delivery.sequence,
                d.c.state == DeliveryState.PENDING,
                d.c.attempts == delivery.attempts,
            )
            .values(state=DeliveryState.SENDING, attempts=d.c.attempts + 1, updated_at=now)
        )
        claimed: int = result.rowcount
        return claimed == 1

    async def settle(
        self,
        sequence: int,
        state: DeliveryState,
        now: datetime,
        next_attempt_at: datetime | None = None,
    ) -> None:
        await self._connection.execute(
            update(outbox_deliveries)
            .where(outbox_deliveries.c.sequence == sequence)
            .values(state=state, next_attempt_at=next_attempt_at, updated_at=now)
        )


def _delivery(row: RowMapping) -> Delivery:
    language = row["resident_language"] or row["conversation_language"] or Language.EN
    return Delivery(
        sequence=row["sequence"],
        conversation_id=row["conversation_id"],
        channel=Channel(row["channel"]),
        address=row["address"],
        message=decode_message(row["message"]),
        language=Language(language),
        kind=DeliveryKind(row["kind"] or DeliveryKind.PUSH),
        attempts=row["attempts"] or 0,
        opted_out=bool(row["opted_out"]),
        last_inbound_at=row["last_inbound_at"],
        state=DeliveryState(row["state"]) if row["state"] else None,
        updated_at=row["updated_at"],
        queued_at=row["created_at"],
    )
