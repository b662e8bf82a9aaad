"""The sandbox seed: reading `seed.yml` and loading its bills into the sandbox tables.

Residents and accounts are static and read from the file by every process; bills go to
the database because paying one must show in every process. The command that runs it is
`python -m app.cli.seed [--reset]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import InvalidConsumerNumber, UnknownBiller
from bot.model.billing import Biller, Utility
from bot.model.identifiers import normalise_sso_id
from bot.model.residents import Language
from integrations.billers.catalog import BillerCatalog
from integrations.sandbox import tables

SEED_PATH = Path(__file__).with_name("seed.yml")
BEHAVIOURS = (None, "timeout")
BILL_STATUSES = ("unpaid", "paid")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


@dataclass(frozen=True)
class SeedBill:
    bill_number: str
    bill_date: date
    due_date: date
    amount_paise: int
    status: str


@dataclass(frozen=True)
class SeedOutage:
    """A fault on an electricity account, current whenever the seed is applied (times are
    relative to then, so `make run` always shows one)."""

    reason: str
    area: str
    started_hours_ago: float
    restores_in_hours: float

    def outage_id(self, consumer_number: str) -> str:
        return f"SEED-{consumer_number}"


@dataclass(frozen=True)
class SeedAccount:
    utility: Utility
    biller_id: str
    consumer_number: str
    behaviour: str | None
    bills: tuple[SeedBill, ...]
    outage: SeedOutage | None = None


@dataclass(frozen=True)
class SeedResident:
    sso_id: str
    name: str
    mobile: str
    language: Language
    accounts: tuple[SeedAccount, ...]


@dataclass(frozen=True)
class Seed:
    residents: tuple[SeedResident, ...]

    def accounts(self) -> Iterator[tuple[SeedResident, SeedAccount]]:
        for resident in self.residents:
            for account in resident.accounts:
                yield resident, account


def load_seed(path: Path | None = None, billers: Sequence[Biller] = ()) -> Seed:
    """The seed file, checked: a typo in it should fail at start-up, not mid-demo.

    With `billers`, every account must name one of them and hold a consumer number valid
    for it. Raises ValueError.
    """
    raw = yaml.safe_load((path or SEED_PATH).read_text(encoding="utf-8"))
    try:
        seed = Seed(residents=tuple(_resident(entry) for entry in raw["residents"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"bad sandbox seed: {exc}") from exc
    _check(seed, billers)
    return seed


def _resident(entry: dict[str, Any]) -> SeedResident:
    sso_id = normalise_sso_id(str(entry["sso_id"]))
    mobile = str(entry["mobile"])
    if sso_id is None or not _E164.fullmatch(mobile):
        raise ValueError(f"resident {entry['sso_id']!r}: bad SSO ID or mobile")
    return SeedResident(
        sso_id=sso_id,
        name=str(entry["name"]),
        mobile=mobile,
        language=Language(entry["language"]),
        accounts=tuple(_account(account) for account in entry["accounts"]),
    )


def _account(entry: dict[str, Any]) -> SeedAccount:
    behaviour = entry.get("behaviour")
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}")
    return SeedAccount(
        utility=Utility(entry["utility"]),
        biller_id=str(entry["biller_id"]),
        consumer_number=str(entry["consumer_number"]),
        behaviour=behaviour,
        bills=tuple(_bill(bill) for bill in entry["bills"]),
        outage=_outage(entry["outage"]) if entry.get("outage") else None,
    )


def _outage(entry: dict[str, Any]) -> SeedOutage:
    outage = SeedOutage(
        reason=str(entry["reason"]),
        area=str(entry.get("area", "")),
        started_hours_ago=float(entry["started_hours_ago"]),
        restores_in_hours=float(entry["restores_in_hours"]),
    )
    if outage.started_hours_ago < 0 or outage.restores_in_hours <= 0 or not outage.reason:
        raise ValueError("an outage needs a reason, started_hours_ago >= 0, restores_in_hours > 0")
    return outage


def _bill(entry: dict[str, Any]) -> SeedBill:
    bill = SeedBill(
        bill_number=str(entry["bill_number"]),
        bill_date=entry["bill_date"],
        due_date=entry["due_date"],
        amount_paise=int(entry["amount_paise"]),
        status=str(entry["status"]),
    )
    if not isinstance(bill.bill_date, date) or not isinstance(bill.due_date, date):
        raise ValueError(f"bill {bill.bill_number}: dates must be YYYY-MM-DD")
    if bill.status not in BILL_STATUSES or bill.amount_paise <= 0:
        raise ValueError(f"bill {bill.bill_number}: bad status or amount")
    return bill


def _check(seed: Seed, billers: Sequence[Biller]) -> None:
    sso_ids = [resident.sso_id for resident in seed.residents]
    keys = [(a.biller_id, a.consumer_number) for _, a in seed.accounts()]
    if len(set(sso_ids)) != len(sso_ids) or len(set(keys)) != len(keys):
        raise ValueError("bad sandbox seed: an SSO ID or an account appears twice")
    if not billers:
        return
    catalog = BillerCatalog(billers)
    for _, account in seed.accounts():
        try:
            biller = catalog.get(account.biller_id)
            valid = biller.normalise_consumer_number(account.consumer_number)
        except (UnknownBiller, InvalidConsumerNumber) as exc:
            raise ValueError(f"bad sandbox account {account.consumer_number}") from exc
        if biller.utility is not account.utility or valid != account.consumer_number:
            raise ValueError(f"bad sandbox account {account.consumer_number}")
        if account.outage and account.utility is not Utility.ELECTRICITY:
            raise ValueError(f"outage on non-electricity account {account.consumer_number}")


async def apply_seed(
    engine: AsyncEngine, seed: Seed, reset: bool = False, now: datetime | None = None
) -> None:
    """Create the sandbox tables and load the seed's bills, idempotently.

    Bills already in the database keep their status (a bill paid in the sandbox stays
    paid across restarts) unless `reset`, which also forgets SMS, links, postings,
    announced outages and supply tickets. The seed's outages start afresh relative to `now`.
    """
    now = now or datetime.now(timezone.utc)
    async with engine.begin() as conn:
        await conn.run_sync(tables.metadata.create_all)
        if reset:
            for table in reversed(tables.metadata.sorted_tables):
                await conn.execute(delete(table))
        bills = tables.bills
        stored = await conn.execute(
            select(bills.c.biller_id, bills.c.consumer_number, bills.c.bill_number)
        )
        existing = {tuple(row) for row in stored}
        for _, account in seed.accounts():
            for bill in account.bills:
                key = (account.biller_id, account.consumer_number, bill.bill_number)
                values = {
                    "bill_date": bill.bill_date,
                    "due_date": bill.due_date,
                    "amount_paise": bill.amount_paise,
                }
                if key in existing:
                    await conn.execute(
                        update(bills)
                        .where(bills.c.biller_id == key[0])
                        .where(bills.c.consumer_number == key[1])
                        .where(bills.c.bill_number == key[2])
                        .values(**values)
                    )
                else:
                    await conn.execute(
                        bills.insert().values(
                            biller_id=key[0],
                            consumer_number=key[1],
                            bill_number=key[2],
                            status=bill.status,
                            **values,
                        )
                    )
        await _seed_outages(conn, seed, now)


async def _seed_outages(conn: AsyncConnection, seed: Seed, now: datetime) -> None:
    outages, connections = tables.outages, tables.outage_connections
    for _, account in seed.accounts():
        if account.outage is None:
            continue
        outage_id = account.outage.outage_id(account.consumer_number)
        await conn.execute(delete(connections).where(connections.c.outage_id == outage_id))
        await conn.execute(delete(outages).where(outages.c.outage_id == outage_id))
        await conn.execute(
            outages.insert().values(
                outage_id=outage_id,
                biller_id=account.biller_id,
                kind="unplanned",
                starts_at=now - timedelta(hours=account.outage.started_hours_ago),
                ends_at=now + timedelta(hours=account.outage.restores_in_hours),
                reason=account.outage.reason,
                area=account.outage.area,
                created_at=now,
            )
        )
        await conn.execute(
            connections.insert().values(
                outage_id=outage_id, consumer_number=account.consumer_number
            )
        )
