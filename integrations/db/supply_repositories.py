"""SQL repository of residents' power complaints."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.outages import SupplyComplaint, SupplyTicketStatus
from integrations.db.repositories import from_row
from integrations.db.supply_tables import supply_complaints as table

_OPEN = [s for s in SupplyTicketStatus if not s.final]


class SqlSupplyComplaintRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, biller_id: str, ticket_number: str) -> SupplyComplaint | None:
        result = await self._connection.execute(
            select(table)
            .where(table.c.biller_id == biller_id)
            .where(table.c.ticket_number == ticket_number)
        )
        return from_row(SupplyComplaint, result.mappings().first())

    async def add(self, complaint: SupplyComplaint) -> None:
        await self._connection.execute(insert(table).values(**asdict(complaint)))

    async def update(self, complaint: SupplyComplaint, expected_status: SupplyTicketStatus) -> bool:
        result = await self._connection.execute(
            update(table)
            .where(table.c.biller_id == complaint.biller_id)
            .where(table.c.ticket_number == complaint.ticket_number)
            .where(table.c.status == expected_status)
            .values(status=complaint.status, note=complaint.note, checked_at=complaint.checked_at)
        )
        return bool(result.rowcount)

    async def for_resident(self, resident_id: str) -> list[SupplyComplaint]:
        result = await self._connection.execute(
            select(table)
            .where(table.c.resident_id == resident_id)
            .order_by(table.c.registered_at.desc(), table.c.ticket_number)
        )
        return [SupplyComplaint(**row) for row in result.mappings()]

    async def open_checked_before(self, moment: datetime, limit: int) -> list[SupplyComplaint]:
        result = await self._connection.execute(
            select(table)
            .where(table.c.status.in_(_OPEN))
            .where(table.c.checked_at < moment)
            .order_by(table.c.checked_at)
            .limit(limit)
        )
        return [SupplyComplaint(**row) for row in result.mappings()]

    async def delete_for_resident(self, resident_id: str) -> int:
        result = await self._connection.execute(
            delete(table).where(table.c.resident_id == resident_id)
        )
        return int(result.rowcount or 0)
