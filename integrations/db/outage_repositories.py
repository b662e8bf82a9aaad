"""SQL repository of planned-outage notices: the outages announced, and the matching of
their connections to saved accounts.

Saved accounts hold consumer numbers encrypted, so matching compares blind indexes: the
outage's numbers are bound to `consumer_number_hash` (BlindIndex hashes each bound value),
400 to a statement, instead of decrypting every saved account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.billing import SavedAccount
from bot.model.outages import Outage, OutageKind
from bot.model.reminders import ReminderKind, ReminderState
from integrations.db.crypto import without_hashes
from integrations.db.reminder_repositories import _chunks
from integrations.db.reminder_tables import planned_outages, reminder_consents, reminders
from integrations.db.repositories import upsert_insert
from integrations.db.tables import saved_accounts

_PENDING = [ReminderState.SCHEDULED, ReminderState.CLAIMED, ReminderState.TURNED_OFF]
# Never handed to a provider: a notice in one of these may still go out once when its
# outage changes (moved, announced again after a cancellation, no longer too late).
_NOT_SENT = [*_PENDING, ReminderState.CANCELLED, ReminderState.SKIPPED]


def _outage(row: Any) -> Outage:
    return Outage(
        outage_id=row["outage_id"],
        biller_id=row["biller_id"],
        kind=OutageKind.PLANNED,
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        reason=row["reason"],
        area=row["area"],
    )


class SqlOutageNoticeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def announced(self, biller_id: str) -> dict[str, Outage]:
        o = planned_outages.c
        result = await self._connection.execute(
            select(planned_outages).where(o.biller_id == biller_id, o.cancelled_at.is_(None))
        )
        return {row["outage_id"]: _outage(row) for row in result.mappings()}

    async def save(self, outages: Sequence[Outage], now: datetime) -> None:
        for outage in outages:
            values = {
                "biller_id": outage.biller_id,
                "outage_id": outage.outage_id,
                "starts_at": outage.starts_at,
                "ends_at": outage.ends_at,
                "reason": outage.reason,
                "area": outage.area,
                "announced_at": now,
                "cancelled_at": None,
            }
            changing = {k: v for k, v in values.items() if k not in ("biller_id", "outage_id")}
            changing.pop("announced_at")  # when it was first announced stays
            statement = upsert_insert(self._connection, planned_outages).values(**values)
            await self._connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["biller_id", "outage_id"], set_=changing
                )
            )

    async def cancel(self, biller_id: str, outage_ids: Sequence[str], now: datetime) -> int:
        o, r = planned_outages.c, reminders.c
        cancelled = 0
        for chunk in _chunks(sorted(outage_ids)):
            await self._connection.execute(
                update(planned_outages)
                .where(o.biller_id == biller_id, o.outage_id.in_(chunk))
                .values(cancelled_at=now)
            )
            result = await self._connection.execute(
                update(reminders)
                .where(
                    r.kind == ReminderKind.PLANNED_OUTAGE,
                    r.biller_id == biller_id,
                    r.bill_number.in_(chunk),
                    r.state.in_(_PENDING),
                )
                .values(
                    state=ReminderState.CANCELLED,
                    claim_token=None,
                    lease_until=None,
                    updated_at=now,
                )
            )
            cancelled += max(result.rowcount, 0)
        return cancelled

    async def get(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Outage]:
        o = planned_outages.c
        found: dict[tuple[str, str], Outage] = {}
        for chunk in _chunks(sorted(set(keys))):
            result = await self._connection.execute(
                select(planned_outages).where(
                    tuple_(o.biller_id, o.outage_id).in_(chunk), o.cancelled_at.is_(None)
                )
            )
            for row in result.mappings():
                found[(row["biller_id"], row["outage_id"])] = _outage(row)
        return found

    async def accounts_on(
        self, biller_id: str, consumer_numbers: Sequence[str]
    ) -> list[SavedAccount]:
        a, k = saved_accounts.c, reminder_consents.c
        found: list[SavedAccount] = []
        for chunk in _chunks(sorted(set(consumer_numbers))):
            result = await self._connection.execute(
                select(saved_accounts)
                .join(reminder_consents, and_(k.resident_id == a.resident_id, k.enabled.is_(True)))
                .where(a.biller_id == biller_id, a.consumer_number_hash.in_(chunk))
            )
            found.extend(SavedAccount(**without_hashes(row)) for row in result.mappings())
        return sorted(found, key=lambda account: account.account_id)

    async def replan(
        self, biller_id: str, outage_id: str, send_at: datetime | None, now: datetime
    ) -> int:
        r = reminders.c
        values: dict[str, Any] = {"claim_token": None, "lease_until": None, "updated_at": now}
        moving: ColumnElement[bool]
        if send_at is None:
            values["state"] = ReminderState.SKIPPED
            moving = r.state.in_(_PENDING)
        else:
            values.update(state=ReminderState.SCHEDULED, send_at=send_at)
            moving = and_(
                r.state.in_(_NOT_SENT),
                or_(r.state != ReminderState.SCHEDULED, r.send_at != send_at),
            )
        result = await self._connection.execute(
            update(reminders)
            .where(
                r.kind == ReminderKind.PLANNED_OUTAGE,
                r.biller_id == biller_id,
                r.bill_number == outage_id,
                moving,
            )
            .values(**values)
        )
        return int(max(result.rowcount, 0))
