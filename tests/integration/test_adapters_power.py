"""The HTTP power supply desk against a real HTTP double: the contract in its docstring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
import pytest_asyncio

from bot.errors import SupplyDeskUnavailable, UnknownConnection
from bot.model.outages import OutageKind, SupplyTicketStatus
from integrations.billers.catalog import load_billers
from integrations.power.http import HttpPowerSupplyDesk
from tests.doubles.http_double import HttpDouble

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture
pytestmark = pytest.mark.asyncio

JVVNL = next(b for b in load_billers() if b.biller_id == "JVVNL0000RAJ01")
NOW = datetime(2026, 12, 15, 5, 30, tzinfo=timezone.utc)
BASE = "/v1/billers/JVVNL0000RAJ01"
TICKET = {
    "ticket_number": "JV/NS/26/004817",
    "consumer_number": "210145678912",
    "status": "assigned",
    "registered_at": "2026-12-15T10:40:00+05:30",
    "updated_at": "2026-12-15T11:05:00+05:30",
    "note": "Crew on the way",
}


def _outage(outage_id: str, starts: str, ends: str, **more: Any) -> dict[str, Any]:
    return {
        "outage_id": outage_id,
        "kind": "unplanned",
        "starts_at": starts,
        "ends_at": ends,
        "reason": "Transformer fault",
        "area": "Malviya Nagar",
        **more,
    }


@pytest_asyncio.fixture
async def desk(http_double: HttpDouble) -> AsyncIterator[HttpPowerSupplyDesk]:
    desk = HttpPowerSupplyDesk(http_double.base_url, "test-power-key", timeout_s=0.3)
    yield desk
    await desk.aclose()


async def test_outages_of_a_connection_are_read_sorted_and_ended_ones_dropped(
    desk: HttpPowerSupplyDesk, http_double: HttpDouble
) -> None:
    http_double.reply(
        "GET",
        f"{BASE}/connections/210145678912/outages",
        json_body={
            "outages": [
                _outage("later", "2026-12-17T10:00:00+05:30", "2026-12-17T14:00:00+05:30"),
                _outage("now", "2026-12-15T09:00:00+05:30", "2026-12-15T13:00:00+05:30"),
                _outage("ended", "2026-12-14T09:00:00+05:30", "2026-12-14T10:00:00+05:30"),
            ]
        },
    )

    outages = await desk.outages_for(JVVNL, "210145678912", NOW)

    assert [o.outage_id for o in outages] == ["now", "later"]
    assert outages[0].ends_at == datetime(2026, 12, 15, 7, 30, tzinfo=timezone.utc)
    assert outages[0].kind is OutageKind.UNPLANNED and outages[0].area == "Malviya Nagar"
    (request,) = http_double.received("GET", f"{BASE}/connections/210145678912/outages")
    assert request.headers["authorization"] == "Bearer test-power-key"


async def test_planned_outages_carry_their_connections(
    desk: HttpPowerSupplyDesk, http_double: HttpDouble
) -> None:
    planned = _outage(
        "p1",
        "2026-12-16T10:00:00+05:30",
        "2026-12-16T14:00:00+05:30",
        kind="planned",
        consumer_numbers=["210145678912", "210100000001"],
    )
    http_double.reply("GET", f"{BASE}/planned-outages", json_body={"outages": [planned]})

    (outage,) = await desk.planned_outages(JVVNL, NOW)

    assert outage.outage.kind is OutageKind.PLANNED
    assert outage.consumer_numbers == ("210145678912", "210100000001")


async def test_a_report_posts_the_complaint_and_reads_the_company_ticket(
    desk: HttpPowerSupplyDesk, http_double: HttpDouble
) -> None:
    http_double.reply("POST", f"{BASE}/supply-complaints", status=201, json_body=TICKET)

    ticket = await desk.report_no_supply(
        JVVNL, "210145678912", "+919829100001", "no power since morning"
    )

    assert (ticket.ticket_number, ticket.status) == ("JV/NS/26/004817", SupplyTicketStatus.ASSIGNED)
    assert ticket.note == "Crew on the way" and ticket.biller_id == JVVNL.biller_id
    (request,) = http_double.received("POST", f"{BASE}/supply-complaints")
    assert request.json() == {
        "consumer_number": "210145678912",
        "mobile": "+919829100001",
        "description": "no power since morning",
    }


async def test_a_ticket_number_is_escaped_in_the_path_and_an_unknown_one_is_none(
    desk: HttpPowerSupplyDesk, http_double: HttpDouble
) -> None:
    http_double.reply("GET", f"{BASE}/supply-complaints/JV%2FNS%2F26%2F004817", json_body=TICKET)
    http_double.reply(
        "GET", f"{BASE}/supply-complaints/JV-1", status=404, json_body={"error": "unknown_ticket"}
    )

    ticket = await desk.ticket(JVVNL, "JV/NS/26/004817")

    assert ticket is not None and ticket.status is SupplyTicketStatus.ASSIGNED
    assert await desk.ticket(JVVNL, "JV-1") is None


async def test_an_unknown_connection_needs_the_documented_404_body(
    desk: HttpPowerSupplyDesk, http_double: HttpDouble
) -> None:
    http_double.reply(
        "POST",
        f"{BASE}/supply-complaints",
        status=404,
        json_body={"error": "unknown_connection"},
    )
    with pytest.raises(UnknownConnection):
        await desk.report_no_supply(JVVNL, "210100000000", "+919829100001", "")
    # The double answers a bare 404 for an unscripted path (a wrong base URL): that is the
    # company's system being unreachable, not the resident's number being wrong.
    with pytest.raises(SupplyDeskUnavailable):
        await desk.outages_for(JVVNL, "210100000000", NOW)


@pytest.mark.parametrize(
    ("status", "body", "delay_s"),
    [
        (500, {"error": "boom"}, 0.0),
        (401, {"error": "bad key"}, 0.0),
        (200, {"outages": [{"outage_id": "x"}]}, 0.0),  # not the contract's shape
        (200, {"outages": [_outage("n", "2026-12-15T09:00:00", "2026-12-15T13:00:00")]}, 0.0),
        (200, {"outages": []}, 1.0),  # slower than the timeout
    ],
)
async def test_failures_timeouts_and_bad_bodies_are_unavailable(
    desk: HttpPowerSupplyDesk,
    http_double: HttpDouble,
    status: int,
    body: dict[str, Any],
    delay_s: float,
) -> None:
    http_double.reply(
        "GET",
        f"{BASE}/connections/210145678912/outages",
        status=status,
        json_body=body,
        delay_s=delay_s,
    )

    with pytest.raises(SupplyDeskUnavailable):
        await desk.outages_for(JVVNL, "210145678912", NOW)


async def test_a_ticket_in_an_unknown_status_is_unavailable_not_a_crash(
    desk: HttpPowerSupplyDesk, http_double: HttpDouble
) -> None:
    http_double.reply(
        "GET", f"{BASE}/supply-complaints/JV-2", json_body={**TICKET, "status": "pending"}
    )
    with pytest.raises(SupplyDeskUnavailable):
        await desk.ticket(JVVNL, "JV-2")
