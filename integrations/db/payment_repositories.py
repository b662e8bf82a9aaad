"""SQL repository for payments, with a compare-and-set update for webhook races."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.payments import Payment, PaymentStatus
from integrations.db.crypto import without_hashes
from integrations.db.repositories import from_row
from integrations.db.tables import payments


class SqlPaymentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, payment_id: str) -> Payment | None:
        return await self._one(payments.c.payment_id == payment_id)

    async def by_link_id(self, link_id: str) -> Payment | None:
        return await self._one(payments.c.link_id == link_id)

    async def by_receipt_number(self, receipt_number: str) -> Payment | None:
        return await self._one(payments.c.receipt_number == receipt_number)

    async def open_for_bill(
        self, resident_id: str, biller_id: str, bill_number: str
    ) -> Payment | None:
        result = await self._connection.execute(
            select(payments)
            .where(
                payments.c.resident_id == resident_id,
                payments.c.biller_id == biller_id,
                payments.c.bill_number == bill_number,
                payments.c.status.in_([PaymentStatus.CREATED, PaymentStatus.FAILED]),
            )
            .order_by(payments.c.created_at.desc(), payments.c.payment_id.desc())
            .limit(1)
        )
        return from_row(Payment, result.mappings().first())

    async def recent_for(self, resident_id: str, limit: int) -> list[Payment]:
        result = await self._connection.execute(
            select(payments)
            .where(payments.c.resident_id == resident_id)
            .order_by(payments.c.created_at.desc(), payments.c.payment_id.desc())
            .limit(limit)
        )
        return [Payment(**without_hashes(row)) for row in result.mappings()]

    async def add(self, payment: Payment) -> None:
        await self._connection.execute(insert(payments).values(**asdict(payment)))

    async def update(self, payment: Payment, expected_status: PaymentStatus) -> bool:
        """One conditional UPDATE, so the database settles the race: on PostgreSQL the
        loser waits for the winner's row lock, re-reads the status and matches no row; on
        SQLite writers are serialised by the database lock."""
        values = asdict(payment)
        del values["payment_id"]
        result = await self._connection.execute(
            update(payments)
            .where(
                payments.c.payment_id == payment.payment_id,
                payments.c.status == expected_status,
            )
            .values(**values)
        )
        updated: int = result.rowcount
        return updated == 1

    async def _one(self, condition: Any) -> Payment | None:
        result = await self._connection.execute(select(payments).where(condition))
        return from_row(Payment, result.mappings().first())
