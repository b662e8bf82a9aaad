"""The sandbox electricity company's outage and complaint system (the PowerSupplyDesk port).

It knows the seed's electricity connections; announced outages (POST /sandbox/outages)
and no-supply tickets live in `sandbox_*` tables so the gateway and the action server see
the same ones. A test or a developer moves a ticket on (POST /sandbox/supply-tickets/…)
the way the company's line crew would, so the status push can be seen end to end.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import (
    InvalidConsumerNumber,
    SupplyDeskUnavailable,
    UnknownBiller,
    UnknownConnection,
)
from bot.model.billing import Biller, Utility
from bot.model.outages import (
    MAX_REASON_CHARS,
    Outage,
    OutageKind,
    PlannedOutage,
    SupplyTicket,
    SupplyTicketStatus,
)
from bot.ports import Clock
from integrations.billers.catalog import BillerCatalog
from integrations.sandbox import tables
from integrations.sandbox.seeding import Seed

# Enough for a feeder's worth of connections in one announcement; more is a mistake.
MAX_CONNECTIONS = 1000
MAX_NOTE_CHARS = 200


class OutageRejected(ValueError):
    """An announcement or a ticket update the sandbox company refuses; the message says why."""


class UnknownTicket(LookupError):
    """No sandbox ticket by that number."""


@dataclass(frozen=True)
class Announcement:
    biller_id: str
    consumer_numbers: Sequence[str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    kind: OutageKind = OutageKind.PLANNED
    area: str = ""


class SandboxPowerSupplyDesk:
    def __init__(
        self,
        engine: AsyncEngine,
        billers: Sequence[Biller],
        seed: Seed,
        clock: Clock,
        timeout_delay_s: float = 0.2,
    ) -> None:
        self._engine = engine
        self._catalog = BillerCatalog(billers)
        self._accounts = {
            (a.biller_id, a.consumer_number): a
            for _, a in seed.accounts()
            if a.utility is Utility.ELECTRICITY
        }
        self._clock = clock
        self._timeout_delay_s = timeout_delay_s

    # --- the port -----------------------------------------------------------------------
    async def outages_for(
        self, biller: Biller, consumer_number: str, now: datetime
    ) -> list[Outage]:
        await self._connection(biller, consumer_number)
        o, c = tables.outages, tables.outage_connections
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(o)
                .join(c, c.c.outage_id == o.c.outage_id)
                .where(o.c.biller_id == biller.biller_id)
                .where(c.c.consumer_number == consumer_number)
                .where(o.c.ends_at > now)
                .order_by(o.c.starts_at, o.c.outage_id)
            )
            return [_outage(row) for row in rows]

    async def planned_outages(self, biller: Biller, now: datetime) -> list[PlannedOutage]:
        o, c = tables.outages, tables.outage_connections
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(o)
                    .where(o.c.biller_id == biller.biller_id)
                    .where(o.c.kind == OutageKind.PLANNED.value)
                    .where(o.c.ends_at > now)
                    .order_by(o.c.starts_at, o.c.outage_id)
                )
            ).all()
            planned = []
            for row in rows:
                numbers = await conn.scalars(
                    select(c.c.consumer_number)
                    .where(c.c.outage_id == row.outage_id)
                    .order_by(c.c.consumer_number)
                )
                planned.append(PlannedOutage(_outage(row), tuple(numbers)))
        return planned

    async def report_no_supply(
        self, biller: Biller, consumer_number: str, mobile: str, description: str
    ) -> SupplyTicket:
        await self._connection(biller, consumer_number)
        t = tables.supply_tickets
        now = self._clock.now()
        async with self._engine.begin() as conn:
            open_ticket = (
                await conn.execute(
                    select(t)
                    .where(t.c.biller_id == biller.biller_id)
                    .where(t.c.consumer_number == consumer_number)
                    .where(t.c.status.in_([s.value for s in SupplyTicketStatus if not s.final]))
                    .order_by(t.c.registered_at.desc())
                )
            ).first()
            if open_ticket is not None:
                return _ticket(open_ticket)
            number = _ticket_number(biller)
            await conn.execute(
                t.insert().values(
                    ticket_number=number,
                    biller_id=biller.biller_id,
                    consumer_number=consumer_number,
                    mobile=mobile,
                    description=description[:MAX_REASON_CHARS],
                    status=SupplyTicketStatus.REGISTERED.value,
                    note="",
                    registered_at=now,
                    updated_at=now,
                )
            )
            row = (await conn.execute(select(t).where(t.c.ticket_number == number))).one()
        return _ticket(row)

    async def ticket(self, biller: Biller, ticket_number: str) -> SupplyTicket | None:
        t = tables.supply_tickets
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(t)
                    .where(t.c.ticket_number == ticket_number.strip().upper())
                    .where(t.c.biller_id == biller.biller_id)
                )
            ).first()
        return _ticket(row) if row else None

    # --- what the sandbox's routes and seed do --------------------------------------------
    async def announce(self, announcement: Announcement) -> PlannedOutage:
        """Store an outage for the connections named; validated first, nothing stored on
        a refusal. Raises OutageRejected with a message fit for a 422's detail."""
        biller, numbers = self._validate(announcement)
        outage = Outage(
            outage_id="OUT" + secrets.token_hex(6).upper(),
            biller_id=biller.biller_id,
            kind=announcement.kind,
            starts_at=announcement.starts_at,
            ends_at=announcement.ends_at,
            reason=announcement.reason.strip(),
            area=announcement.area.strip(),
        )
        async with self._engine.begin() as conn:
            await _store(conn, outage, numbers, self._clock.now())
        return PlannedOutage(outage, numbers)

    async def move_ticket(
        self, ticket_number: str, status: SupplyTicketStatus, note: str = ""
    ) -> SupplyTicket:
        """Set a ticket's status (and the company's remark), as the line crew would.
        Raises UnknownTicket, OutageRejected for a note too long."""
        if len(note) > MAX_NOTE_CHARS:
            raise OutageRejected(f"note is longer than {MAX_NOTE_CHARS} characters")
        t = tables.supply_tickets
        number = ticket_number.strip().upper()
        async with self._engine.begin() as conn:
            changed = await conn.execute(
                update(t)
                .where(t.c.ticket_number == number)
                .values(status=status.value, note=note.strip(), updated_at=self._clock.now())
            )
            if not changed.rowcount:
                raise UnknownTicket(number)
            row = (await conn.execute(select(t).where(t.c.ticket_number == number))).one()
        return _ticket(row)

    async def tickets(self, consumer_number: str) -> list[SupplyTicket]:
        """Every sandbox ticket of a connection, newest first (for tests and demos)."""
        t = tables.supply_tickets
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(t)
                .where(t.c.consumer_number == consumer_number)
                .order_by(t.c.registered_at.desc())
            )
            return [_ticket(row) for row in rows]

    def _validate(self, announcement: Announcement) -> tuple[Biller, tuple[str, ...]]:
        try:
            biller = self._catalog.get(announcement.biller_id)
        except UnknownBiller:
            raise OutageRejected(f"unknown biller {announcement.biller_id!r}") from None
        if biller.utility is not Utility.ELECTRICITY:
            raise OutageRejected(f"{announcement.biller_id} is not an electricity company")
        if not announcement.consumer_numbers:
            raise OutageRejected("consumer_numbers is empty")
        if len(announcement.consumer_numbers) > MAX_CONNECTIONS:
            raise OutageRejected(f"more than {MAX_CONNECTIONS} consumer numbers")
        numbers: list[str] = []
        for typed in announcement.consumer_numbers:
            try:
                number = biller.normalise_consumer_number(typed)
            except InvalidConsumerNumber:
                raise OutageRejected(
                    f"consumer number {typed!r} is not {biller.describe_rule()} "
                    f"characters following {biller.short_name}'s rule"
                ) from None
            if number not in numbers:
                numbers.append(number)
        for name, moment in (
            ("starts_at", announcement.starts_at),
            ("ends_at", announcement.ends_at),
        ):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise OutageRejected(f"{name} has no time zone (add Z or +05:30)")
        if announcement.ends_at <= announcement.starts_at:
            raise OutageRejected("ends_at must be after starts_at")
        reason = announcement.reason.strip()
        if not reason or len(reason) > MAX_REASON_CHARS:
            raise OutageRejected(f"reason must be 1-{MAX_REASON_CHARS} characters")
        if len(announcement.area) > 128:
            raise OutageRejected("area is longer than 128 characters")
        return biller, tuple(numbers)

    async def _connection(self, biller: Biller, consumer_number: str) -> None:
        account = self._accounts.get((biller.biller_id, consumer_number))
        if account is None:
            raise UnknownConnection(consumer_number)
        if account.behaviour == "timeout":
            # The seed's "biller times out" account: the company's systems are down for it.
            await asyncio.sleep(self._timeout_delay_s)
            raise SupplyDeskUnavailable(biller.biller_id)


async def _store(
    conn: AsyncConnection, outage: Outage, numbers: Sequence[str], now: datetime
) -> None:
    await conn.execute(
        tables.outages.insert().values(
            outage_id=outage.outage_id,
            biller_id=outage.biller_id,
            kind=outage.kind.value,
            starts_at=outage.starts_at,
            ends_at=outage.ends_at,
            reason=outage.reason,
            area=outage.area,
            created_at=now,
        )
    )
    await conn.execute(
        tables.outage_connections.insert(),
        [{"outage_id": outage.outage_id, "consumer_number": n} for n in numbers],
    )


def _ticket_number(biller: Biller) -> str:
    # Company style, unlike our own "RJC…" complaint ids: the company's short name,
    # "NS" for no supply, and seven digits ("JVVNL-NS-4821390").
    digits = "".join(secrets.choice("0123456789") for _ in range(7))
    return f"{biller.short_name.upper()}-NS-{digits}"


def _outage(row: Any) -> Outage:
    return Outage(
        outage_id=row.outage_id,
        biller_id=row.biller_id,
        kind=OutageKind(row.kind),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        area=row.area or "",
    )


def _ticket(row: Any) -> SupplyTicket:
    return SupplyTicket(
        ticket_number=row.ticket_number,
        biller_id=row.biller_id,
        consumer_number=row.consumer_number,
        status=SupplyTicketStatus(row.status),
        registered_at=row.registered_at,
        updated_at=row.updated_at,
        note=row.note or "",
    )
