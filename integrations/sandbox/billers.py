"""The sandbox billers: BBPS bill fetch and payment posting against the seed's accounts."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import BillerUnavailable, ConsumerNotFound
from bot.model.billing import Bill, Biller, Utility
from bot.ports import Clock
from integrations.billers.catalog import BillerCatalog
from integrations.sandbox import tables
from integrations.sandbox.seeding import Seed, SeedAccount, SeedResident

log = logging.getLogger(__name__)


class SandboxBillerDirectory:
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
        self._accounts = {(a.biller_id, a.consumer_number): (r, a) for r, a in seed.accounts()}
        self._clock = clock
        # A real timeout takes the whole integration timeout; a demo needs only the outcome.
        self._timeout_delay_s = timeout_delay_s

    def billers(self, utility: Utility | None = None) -> Sequence[Biller]:
        return self._catalog.billers(utility)

    def get(self, biller_id: str) -> Biller:
        return self._catalog.get(biller_id)

    async def fetch_bill(self, biller: Biller, consumer_number: str, mobile: str) -> Bill:
        """The latest unpaid bill with everything unpaid as outstanding; with nothing
        unpaid, the latest bill and nothing outstanding."""
        resident, _ = await self._account(biller, consumer_number)
        bills = tables.bills
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(bills)
                    .where(bills.c.biller_id == biller.biller_id)
                    .where(bills.c.consumer_number == consumer_number)
                    .order_by(bills.c.bill_date.desc(), bills.c.bill_number.desc())
                )
            ).all()
        if not rows:
            log.error("sandbox has no bills: run `python -m app.cli.seed`")
            raise BillerUnavailable(biller.biller_id)
        unpaid = [row for row in rows if row.status == "unpaid"]
        shown = unpaid[0] if unpaid else rows[0]
        return Bill(
            biller_id=biller.biller_id,
            consumer_number=consumer_number,
            customer_name=resident.name,
            bill_number=shown.bill_number,
            bill_date=shown.bill_date,
            due_on=shown.due_date,
            amount_paise=shown.amount_paise,
            outstanding_paise=sum(row.amount_paise for row in unpaid),
        )

    async def post_payment(
        self,
        biller: Biller,
        consumer_number: str,
        bill_number: str,
        amount_paise: int,
        reference_id: str,
    ) -> str:
        """Mark the account's unpaid bills paid. Idempotent on `reference_id`: a repeat
        returns the first posting's transaction reference and changes nothing."""
        try:
            await self._account(biller, consumer_number)
        except ConsumerNotFound as exc:
            raise BillerUnavailable(biller.biller_id) from exc
        previous = await self._posted(reference_id)
        if previous:
            return previous
        transaction = "SB" + secrets.token_hex(9).upper()
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    tables.postings.insert().values(
                        reference_id=reference_id,
                        biller_id=biller.biller_id,
                        consumer_number=consumer_number,
                        bill_number=bill_number,
                        amount_paise=amount_paise,
                        transaction_reference=transaction,
                        posted_at=self._clock.now(),
                    )
                )
                await self._settle_bills(conn, biller.biller_id, consumer_number, reference_id)
        except IntegrityError:
            # The same reference posted concurrently: the other posting won.
            return await self._posted(reference_id) or transaction
        return transaction

    async def _account(
        self, biller: Biller, consumer_number: str
    ) -> tuple[SeedResident, SeedAccount]:
        found = self._accounts.get((biller.biller_id, consumer_number))
        if found is None:
            raise ConsumerNotFound(consumer_number)
        if found[1].behaviour == "timeout":
            await asyncio.sleep(self._timeout_delay_s)
            raise BillerUnavailable(biller.biller_id)
        return found

    async def _posted(self, reference_id: str) -> str | None:
        postings = tables.postings
        async with self._engine.connect() as conn:
            transaction: str | None = await conn.scalar(
                select(postings.c.transaction_reference).where(
                    postings.c.reference_id == reference_id
                )
            )
        return transaction

    @staticmethod
    async def _settle_bills(
        conn: AsyncConnection, biller_id: str, consumer_number: str, reference_id: str
    ) -> None:
        bills = tables.bills
        await conn.execute(
            update(bills)
            .where(bills.c.biller_id == biller_id)
            .where(bills.c.consumer_number == consumer_number)
            .where(bills.c.status == "unpaid")
            .values(status="paid", paid_by_reference=reference_id)
        )
