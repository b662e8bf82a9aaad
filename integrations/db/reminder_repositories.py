"""SQL repositories of the reminder engine, and the unit of work that adds them.

Claims are one UPDATE over a sub-select: on PostgreSQL the sub-select takes `FOR UPDATE SKIP
LOCKED`, so concurrent workers each get different rows without waiting for each other; SQLite
has a single writer, so the UPDATE itself is the critical section. Everything is batched (one
statement per state per chunk) because a billing cycle means millions of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.billing import SavedAccount
from bot.model.payments import PaymentStatus
from bot.model.reminders import (
    AccountPolicy,
    NewReminder,
    Reminder,
    ReminderConsent,
    ReminderRecipient,
    ReminderState,
    kinds_text,
    parse_kinds,
)
from integrations.db.reminder_tables import (
    bill_checks,
    reminder_account_policies,
    reminder_consents,
    reminders,
)
from integrations.db.repositories import upsert_insert
from integrations.db.tables import (
    channel_states,
    conversations,
    payments,
    residents,
    saved_accounts,
)

# SQLite allows 32,766 bound parameters since 3.32, older builds 999: stay well under.
CHUNK = 400
ROWS_PER_INSERT = 200  # 12 columns each
_REMINDER_FIELDS = (
    "reminder_id resident_id account_id biller_id bill_number kind amount_paise "
    "consumer_hint due_on send_at state attempts"
).split()

T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _reminder(row: Any) -> Reminder:
    return Reminder(**{name: row[name] for name in _REMINDER_FIELDS})


class SqlReminderRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @property
    def _postgres(self) -> bool:
        return bool(self._connection.sync_engine.dialect.name == "postgresql")

    async def schedule(self, planned: Sequence[NewReminder], now: datetime) -> int:
        added = 0
        for start in range(0, len(planned), ROWS_PER_INSERT):
            chunk = planned[start : start + ROWS_PER_INSERT]
            rows = [
                {
                    "resident_id": p.resident_id,
                    "account_id": p.account_id,
                    "biller_id": p.biller_id,
                    "bill_number": p.bill_number,
                    "kind": p.kind,
                    "amount_paise": p.amount_paise,
                    "consumer_hint": p.consumer_hint,
                    "due_on": p.due_on,
                    "send_at": p.send_at,
                    "state": p.state,
                    "attempts": 0,
                    "updated_at": now,
                }
                for p in chunk
            ]
            # One multi-row INSERT: its rowcount is exact on both databases (an executemany's
            # is not on asyncpg).
            statement = (
                upsert_insert(self._connection, reminders)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["account_id", "bill_number", "kind"])
            )
            result = await self._connection.execute(statement)
            added += max(result.rowcount, 0)
        return added

    async def claim(
        self, now: datetime, limit: int, token: str, lease_until: datetime
    ) -> list[Reminder]:
        c = reminders.c
        due = (
            select(c.reminder_id)
            .where(
                or_(
                    and_(c.state == ReminderState.SCHEDULED, c.send_at <= now),
                    and_(c.state == ReminderState.CLAIMED, c.lease_until < now),
                )
            )
            .order_by(c.send_at)
            .limit(limit)
        )
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        await self._connection.execute(
            update(reminders)
            .where(c.reminder_id.in_(due.scalar_subquery()))
            .values(
                state=ReminderState.CLAIMED,
                claim_token=token,
                lease_until=lease_until,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        result = await self._connection.execute(
            select(reminders)
            .where(c.claim_token == token, c.state == ReminderState.CLAIMED)
            .order_by(c.send_at)
        )
        return [_reminder(row) for row in result.mappings()]

    async def start_sending(
        self, ids: Sequence[int], token: str, now: datetime, lease_until: datetime
    ) -> set[int]:
        c = reminders.c
        moved: set[int] = set()
        # Renew the lease of what this claim still holds, so a long batch is not taken over.
        await self._connection.execute(
            update(reminders)
            .where(c.claim_token == token, c.state == ReminderState.CLAIMED)
            .values(lease_until=lease_until)
        )
        for chunk in _chunks(ids):
            result = await self._connection.execute(
                update(reminders)
                .where(
                    c.reminder_id.in_(chunk),
                    c.claim_token == token,
                    c.state == ReminderState.CLAIMED,
                )
                .values(state=ReminderState.SENDING, updated_at=now)
            )
            if result.rowcount == len(chunk):
                moved.update(chunk)
                continue
            found = await self._connection.execute(
                select(c.reminder_id).where(
                    c.reminder_id.in_(chunk),
                    c.claim_token == token,
                    c.state == ReminderState.SENDING,
                )
            )
            moved.update(found.scalars())
        return moved

    async def settle(self, outcomes: Mapping[int, ReminderState], now: datetime) -> None:
        by_state: dict[ReminderState, list[int]] = defaultdict(list)
        for reminder_id, state in outcomes.items():
            by_state[state].append(reminder_id)
        for state, ids in by_state.items():
            tried = state in (ReminderState.SENT, ReminderState.FAILED, ReminderState.UNCERTAIN)
            for chunk in _chunks(sorted(ids)):
                await self._connection.execute(
                    update(reminders)
                    .where(reminders.c.reminder_id.in_(chunk))
                    .values(
                        state=state,
                        claim_token=None,
                        lease_until=None,
                        updated_at=now,
                        attempts=reminders.c.attempts + (1 if tried else 0),
                    )
                )

    async def retry(self, retry_at: Mapping[int, datetime], now: datetime) -> None:
        if not retry_at:
            return
        await self._connection.execute(
            update(reminders)
            .where(reminders.c.reminder_id == bindparam("rid"))
            .values(
                state=ReminderState.SCHEDULED,
                send_at=bindparam("at"),
                attempts=reminders.c.attempts + 1,
                claim_token=None,
                lease_until=None,
                updated_at=now,
            ),
            [{"rid": rid, "at": at} for rid, at in retry_at.items()],
        )

    async def release(self, token: str) -> int:
        result = await self._connection.execute(
            update(reminders)
            .where(reminders.c.claim_token == token, reminders.c.state == ReminderState.CLAIMED)
            .values(state=ReminderState.SCHEDULED, claim_token=None, lease_until=None)
        )
        return int(result.rowcount)

    async def expire_in_flight(self, now: datetime) -> int:
        result = await self._connection.execute(
            update(reminders)
            .where(reminders.c.state == ReminderState.SENDING, reminders.c.lease_until < now)
            .values(state=ReminderState.UNCERTAIN, claim_token=None, updated_at=now)
        )
        return int(result.rowcount)

    async def paid(self, claimed: Sequence[Reminder]) -> set[int]:
        found: set[int] = set()
        r, p = reminders.c, payments.c
        for chunk in _chunks([x.reminder_id for x in claimed]):
            result = await self._connection.execute(
                select(r.reminder_id)
                .join(
                    payments,
                    and_(
                        p.resident_id == r.resident_id,
                        p.biller_id == r.biller_id,
                        p.bill_number == r.bill_number,
                    ),
                )
                .where(r.reminder_id.in_(chunk), p.status == PaymentStatus.PAID)
            )
            found.update(result.scalars())
        return found

    async def recipients(self, resident_ids: Sequence[str]) -> dict[str, ReminderRecipient]:
        k, v, s = reminder_consents.c, conversations.c, channel_states.c
        found: dict[str, ReminderRecipient] = {}
        for chunk in _chunks(sorted(set(resident_ids))):
            result = await self._connection.execute(
                select(
                    k.resident_id,
                    k.conversation_id,
                    k.language,
                    k.enabled,
                    v.channel,
                    v.address,
                    s.opted_out,
                    s.last_inbound_at,
                    residents.c.email,
                )
                .join(conversations, v.conversation_id == k.conversation_id)
                .outerjoin(channel_states, s.conversation_id == k.conversation_id)
                .outerjoin(residents, residents.c.resident_id == k.resident_id)
                .where(k.resident_id.in_(chunk))
            )
            for row in result.mappings():
                found[row["resident_id"]] = ReminderRecipient(
                    resident_id=row["resident_id"],
                    conversation_id=row["conversation_id"],
                    channel=row["channel"],
                    address=row["address"],
                    language=row["language"],
                    enabled=bool(row["enabled"]),
                    opted_out=bool(row["opted_out"]),
                    last_inbound_at=row["last_inbound_at"],
                    email=row["email"],
                )
        return found

    async def pending(self, account_ids: Sequence[str]) -> list[Reminder]:
        c = reminders.c
        found: list[Reminder] = []
        states = [ReminderState.SCHEDULED, ReminderState.CLAIMED, ReminderState.TURNED_OFF]
        for chunk in _chunks(sorted(set(account_ids))):
            result = await self._connection.execute(
                select(reminders)
                .where(c.account_id.in_(chunk), c.state.in_(states))
                .order_by(c.send_at, c.reminder_id)
            )
            found.extend(_reminder(row) for row in result.mappings())
        return found

    async def reschedule(
        self, changes: Mapping[int, tuple[ReminderState, datetime]], now: datetime
    ) -> int:
        c = reminders.c
        moved = 0
        states = [ReminderState.SCHEDULED, ReminderState.CLAIMED, ReminderState.TURNED_OFF]
        for reminder_id, (state, send_at) in sorted(changes.items()):
            # Only rows still pending: one that went to SENDING meanwhile is left alone.
            result = await self._connection.execute(
                update(reminders)
                .where(c.reminder_id == reminder_id, c.state.in_(states))
                .values(
                    state=state,
                    send_at=send_at,
                    claim_token=None,
                    lease_until=None,
                    updated_at=now,
                )
            )
            moved += max(result.rowcount, 0)
        return moved

    async def cancel_bill(self, account_id: str, bill_number: str, now: datetime) -> int:
        result = await self._connection.execute(
            update(reminders)
            .where(
                reminders.c.account_id == account_id,
                reminders.c.bill_number == bill_number,
                reminders.c.state.in_(
                    [ReminderState.SCHEDULED, ReminderState.CLAIMED, ReminderState.TURNED_OFF]
                ),
            )
            .values(state=ReminderState.CANCELLED, claim_token=None, updated_at=now)
        )
        return int(result.rowcount)

    async def counts(self) -> dict[ReminderState, int]:
        result = await self._connection.execute(
            select(reminders.c.state, func.count()).group_by(reminders.c.state)
        )
        return {ReminderState(state): int(n) for state, n in result.all()}

    async def upcoming(self, limit: int) -> list[Reminder]:
        result = await self._connection.execute(
            select(reminders)
            .where(reminders.c.state == ReminderState.SCHEDULED)
            .order_by(reminders.c.send_at)
            .limit(limit)
        )
        return [_reminder(row) for row in result.mappings()]


class SqlConsentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, resident_id: str) -> ReminderConsent | None:
        result = await self._connection.execute(
            select(reminder_consents).where(reminder_consents.c.resident_id == resident_id)
        )
        row = result.mappings().first()
        if row is None:
            return None
        return ReminderConsent(**{**row, "kinds": parse_kinds(row["kinds"])})

    async def save(self, consent: ReminderConsent) -> None:
        values = {
            "resident_id": consent.resident_id,
            "conversation_id": consent.conversation_id,
            "language": consent.language,
            "enabled": consent.enabled,
            "consented_at": consent.consented_at,
            "changed_at": consent.changed_at,
            "days_before": consent.days_before,
            "kinds": kinds_text(consent.kinds),
        }
        statement = upsert_insert(self._connection, reminder_consents).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["resident_id"],
            set_={k: v for k, v in values.items() if k != "resident_id"},
        )
        await self._connection.execute(statement)

    async def account_policies(self, account_ids: Sequence[str]) -> dict[str, AccountPolicy]:
        p = reminder_account_policies.c
        found: dict[str, AccountPolicy] = {}
        for chunk in _chunks(sorted(set(account_ids))):
            result = await self._connection.execute(
                select(reminder_account_policies).where(p.account_id.in_(chunk))
            )
            for row in result.mappings():
                found[row["account_id"]] = AccountPolicy(
                    row["account_id"], row["days_before"], parse_kinds(row["kinds"])
                )
        return found

    async def save_account_policy(self, policy: AccountPolicy, now: datetime) -> None:
        values = {
            "account_id": policy.account_id,
            "days_before": policy.days_before,
            "kinds": kinds_text(policy.kinds),
            "changed_at": now,
        }
        statement = upsert_insert(self._connection, reminder_account_policies).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id"],
            set_={k: v for k, v in values.items() if k != "account_id"},
        )
        await self._connection.execute(statement)


class SqlBillCheckRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def due(self, now: datetime, limit: int) -> list[tuple[SavedAccount, str | None]]:
        a, k, b = saved_accounts.c, reminder_consents.c, bill_checks.c
        result = await self._connection.execute(
            select(saved_accounts, b.last_bill_number)
            .join(reminder_consents, and_(k.resident_id == a.resident_id, k.enabled.is_(True)))
            .outerjoin(bill_checks, b.account_id == a.account_id)
            .where(or_(b.next_check_at.is_(None), b.next_check_at <= now))
            .order_by(b.next_check_at.is_(None).desc(), b.next_check_at, a.account_id)
            .limit(limit)
        )
        found = []
        for row in result.mappings():
            account = SavedAccount(
                row["account_id"],
                row["resident_id"],
                row["utility"],
                row["biller_id"],
                row["consumer_number"],
            )
            found.append((account, row["last_bill_number"]))
        return found

    async def record(
        self, account_id: str, bill_number: str | None, checked_at: datetime, next_at: datetime
    ) -> None:
        values = {
            "account_id": account_id,
            "next_check_at": next_at,
            "last_bill_number": bill_number,
            "checked_at": checked_at,
        }
        statement = upsert_insert(self._connection, bill_checks).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id"],
            set_={k: v for k, v in values.items() if k != "account_id"},
        )
        await self._connection.execute(statement)
