"""The sandbox electricity company on a real SQLite file, through its HTTP routes: outages
announced with POST /sandbox/outages (validated, nothing stored on a refusal), the seed's
fault, no-supply tickets and POST /sandbox/supply-tickets/<number>."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.gateway.sandbox import sandbox_router
from bot.errors import SupplyDeskUnavailable, UnknownConnection
from bot.model.outages import OutageKind, SupplyTicketStatus
from integrations.billers.catalog import load_billers
from integrations.db.engine import make_engine
from integrations.sandbox import Sandbox
from tests.fakes import FakeClock

pytestmark = pytest.mark.asyncio

NOW = datetime(2026, 12, 15, 5, 30, tzinfo=timezone.utc)
BILLERS = {b.biller_id: b for b in load_billers()}
JVVNL = BILLERS["JVVNL0000RAJ01"]
AVVNL = BILLERS["AVVNL0000RAJ01"]


@pytest_asyncio.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    engine = make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    sandbox = Sandbox(
        engine=engine,
        billers=list(BILLERS.values()),
        public_base_url="http://testserver",
        webhook_url="http://127.0.0.1:9/webhooks/payments",
        webhook_secret="secret",
        clock=FakeClock(NOW),
        timeout_delay_s=0.0,
    )
    await sandbox.apply_seed()
    yield sandbox
    await engine.dispose()


@pytest_asyncio.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(sandbox_router(sandbox))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _announcement(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "biller_id": "JVVNL0000RAJ01",
        "consumer_numbers": ["2101 4567 8912", "210199999999"],
        "starts_at": "2026-12-16T10:00:00+05:30",
        "ends_at": "2026-12-16T14:00:00+05:30",
        "reason": "Line maintenance",
    }
    body.update(changes)
    return body


async def test_an_announced_outage_is_served_to_the_connections_it_names(
    sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    response = await client.post("/sandbox/outages", json=_announcement())

    assert response.status_code == 201
    assert response.json()["consumer_numbers"] == ["210145678912", "210199999999"]
    outages = await sandbox.power.outages_for(JVVNL, "210145678912", NOW)
    assert [(o.kind, o.reason) for o in outages] == [(OutageKind.PLANNED, "Line maintenance")]
    assert outages[0].starts_at == datetime(2026, 12, 16, 4, 30, tzinfo=timezone.utc)
    planned = await sandbox.power.planned_outages(JVVNL, NOW)
    assert [p.consumer_numbers for p in planned] == [("210145678912", "210199999999")]
    # Another company's list and another connection see nothing of it.
    assert await sandbox.power.planned_outages(AVVNL, NOW) == []
    assert await sandbox.power.outages_for(BILLERS["BESLOB000RAJ02"], "710634567890", NOW) == []


async def test_an_outage_that_has_ended_is_no_longer_served(
    sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    await client.post("/sandbox/outages", json=_announcement())
    after = datetime(2026, 12, 16, 9, 0, tzinfo=timezone.utc)

    assert await sandbox.power.outages_for(JVVNL, "210145678912", after) == []
    assert await sandbox.power.planned_outages(JVVNL, after) == []


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"biller_id": "NOPE"}, "unknown biller"),
        ({"biller_id": "PHED00000RAJ01"}, "not an electricity company"),
        ({"consumer_numbers": ["12"]}, "consumer number '12'"),
        ({"consumer_numbers": []}, "empty"),
        ({"consumer_numbers": ["210145678912"] * 1001}, "more than 1000"),
        ({"ends_at": "2026-12-16T10:00:00+05:30"}, "ends_at must be after starts_at"),
        ({"ends_at": "2026-12-16T09:00:00+05:30"}, "ends_at must be after starts_at"),
        ({"starts_at": "2026-12-16T10:00:00"}, "time zone"),
        ({"reason": "x" * 201}, "reason"),
        ({"reason": "  "}, "reason"),
    ],
)
async def test_a_bad_announcement_is_refused_with_a_clear_detail_and_stores_nothing(
    sandbox: Sandbox, client: httpx.AsyncClient, changes: dict[str, Any], detail: str
) -> None:
    response = await client.post("/sandbox/outages", json=_announcement(**changes))

    assert response.status_code == 422
    assert detail in response.json()["detail"]
    assert await sandbox.power.planned_outages(JVVNL, NOW) == []
    assert await sandbox.power.outages_for(JVVNL, "210145678912", NOW) == []


async def test_a_malformed_body_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/sandbox/outages", json={"biller_id": "JVVNL0000RAJ01"})
    assert response.status_code == 422
    response = await client.post("/sandbox/outages", json=_announcement(starts_at="tomorrow"))
    assert response.status_code == 422


async def test_the_seed_has_a_current_fault_on_one_account(sandbox: Sandbox) -> None:
    outages = await sandbox.power.outages_for(AVVNL, "310267894501", NOW)

    assert [(o.kind, o.area) for o in outages] == [(OutageKind.UNPLANNED, "Vaishali Nagar feeder")]
    assert outages[0].current(NOW)
    assert outages[0].ends_at == NOW + timedelta(hours=3)
    # Faults are not announcements: the planned list leaves them out.
    assert await sandbox.power.planned_outages(AVVNL, NOW) == []
    # Seeding again refreshes it rather than adding a second one.
    await sandbox.apply_seed()
    assert len(await sandbox.power.outages_for(AVVNL, "310267894501", NOW)) == 1


async def test_a_no_supply_report_gets_a_company_ticket_and_a_repeat_gets_the_same_one(
    sandbox: Sandbox,
) -> None:
    ticket = await sandbox.power.report_no_supply(
        JVVNL, "210145678912", "+919829100001", "no power since morning"
    )
    again = await sandbox.power.report_no_supply(
        JVVNL, "210145678912", "+919829100001", "still no power"
    )

    assert ticket.ticket_number.startswith("JVVNL-NS-")
    assert ticket.status is SupplyTicketStatus.REGISTERED
    assert again == ticket
    assert await sandbox.power.ticket(JVVNL, ticket.ticket_number) == ticket
    assert await sandbox.power.ticket(AVVNL, ticket.ticket_number) is None
    assert await sandbox.power.ticket(JVVNL, "JVVNL-NS-0000000") is None


async def test_moving_a_ticket_through_the_route_changes_its_status(
    sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    ticket = await sandbox.power.report_no_supply(JVVNL, "210145678912", "+919829100001", "")

    response = await client.post(
        f"/sandbox/supply-tickets/{ticket.ticket_number}",
        json={"status": "resolved", "note": "Fuse replaced"},
    )

    assert response.status_code == 200
    moved = await sandbox.power.ticket(JVVNL, ticket.ticket_number)
    assert moved is not None
    assert (moved.status, moved.note) == (SupplyTicketStatus.RESOLVED, "Fuse replaced")
    # Resolved: a new report opens a new ticket.
    fresh = await sandbox.power.report_no_supply(JVVNL, "210145678912", "+919829100001", "")
    assert fresh.ticket_number != ticket.ticket_number


async def test_moving_an_unknown_ticket_or_to_an_unknown_status_is_refused(
    sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    ticket = await sandbox.power.report_no_supply(JVVNL, "210145678912", "+919829100001", "")

    unknown = await client.post(
        "/sandbox/supply-tickets/JVVNL-NS-0000000", json={"status": "resolved"}
    )
    bad_status = await client.post(
        f"/sandbox/supply-tickets/{ticket.ticket_number}", json={"status": "fixed"}
    )

    assert (unknown.status_code, bad_status.status_code) == (404, 422)
    assert (await sandbox.power.ticket(JVVNL, ticket.ticket_number)) == ticket


async def test_unknown_connections_and_a_company_that_times_out(sandbox: Sandbox) -> None:
    with pytest.raises(UnknownConnection):
        await sandbox.power.report_no_supply(JVVNL, "210100000000", "+919829100001", "")
    with pytest.raises(SupplyDeskUnavailable):
        await sandbox.power.outages_for(JVVNL, "210199999999", NOW)
    assert await sandbox.power.tickets("210100000000") == []
