"""An electricity company's outage and complaint system reached over HTTP: the contract.

The distribution companies publish no common API for this, so the project defines the one
it needs (README, "Power cuts") and a company's integration or a proxy implements it:

    Authorization: Bearer {api_key}; JSON bodies; times ISO 8601 with an offset.

    GET  {base_url}/v1/billers/{biller_id}/connections/{consumer_number}/outages
        200 {"outages": [Outage, ...]}   outages affecting that connection
        404 {"error": "unknown_connection"}
    GET  {base_url}/v1/billers/{biller_id}/planned-outages
        200 {"outages": [Outage + {"consumer_numbers": [str, ...]}, ...]}
    POST {base_url}/v1/billers/{biller_id}/supply-complaints
        {"consumer_number": str, "mobile": "+91…", "description": str}
        200/201 Ticket   (an open ticket of that connection is returned again, not doubled)
        404 {"error": "unknown_connection"}
    GET  {base_url}/v1/billers/{biller_id}/supply-complaints/{ticket_number}
        200 Ticket;  404 {"error": "unknown_ticket"}

    Outage = {"outage_id": str, "kind": "planned" | "unplanned", "starts_at": str,
              "ends_at": str (expected restoration), "reason": str, "area": str (optional)}
    Ticket = {"ticket_number": str, "consumer_number": str,
              "status": "registered" | "assigned" | "resolved" | "closed",
              "registered_at": str, "updated_at": str, "note": str (optional)}

A 404 counts as "unknown" only with the `error` body above: a 404 from a wrong base URL or
a proxy must not tell a resident their connection does not exist. Any other status, a
timeout, or a body not of these shapes is SupplyDeskUnavailable. Outages that have ended
are dropped and the rest sorted soonest first here, whatever order the company sends.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.errors import SupplyDeskUnavailable, UnknownConnection
from bot.model.billing import Biller
from bot.model.outages import (
    MAX_REASON_CHARS,
    Outage,
    OutageKind,
    PlannedOutage,
    SupplyTicket,
    SupplyTicketStatus,
)
from integrations.http_clients import bearer_json_client

log = logging.getLogger(__name__)

_ERRORS = (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError)


class HttpPowerSupplyDesk:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_s: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = bearer_json_client(base_url, api_key, timeout_s, transport)

    async def outages_for(
        self, biller: Biller, consumer_number: str, now: datetime
    ) -> list[Outage]:
        path = f"{_biller_path(biller)}/connections/{quote(consumer_number, safe='')}/outages"
        body = await self._call("GET", path, unknown="unknown_connection")
        if body is None:
            raise UnknownConnection(consumer_number)
        try:
            outages = [_outage(biller, entry) for entry in body["outages"]]
        except _ERRORS as exc:
            raise _unavailable(biller, exc) from exc
        return sorted((o for o in outages if o.ends_at > now), key=lambda o: o.starts_at)

    async def planned_outages(self, biller: Biller, now: datetime) -> list[PlannedOutage]:
        body = await self._call("GET", f"{_biller_path(biller)}/planned-outages")
        try:
            planned = [
                PlannedOutage(
                    _outage(biller, entry),
                    tuple(str(n) for n in entry["consumer_numbers"]),
                )
                for entry in (body or {})["outages"]
            ]
        except _ERRORS as exc:
            raise _unavailable(biller, exc) from exc
        return sorted(
            (p for p in planned if p.outage.kind is OutageKind.PLANNED and p.outage.ends_at > now),
            key=lambda p: p.outage.starts_at,
        )

    async def report_no_supply(
        self, biller: Biller, consumer_number: str, mobile: str, description: str
    ) -> SupplyTicket:
        body = await self._call(
            "POST",
            f"{_biller_path(biller)}/supply-complaints",
            unknown="unknown_connection",
            json={
                "consumer_number": consumer_number,
                "mobile": mobile,
                "description": description[:MAX_REASON_CHARS],
            },
        )
        if body is None:
            raise UnknownConnection(consumer_number)
        return self._ticket(biller, body)

    async def ticket(self, biller: Biller, ticket_number: str) -> SupplyTicket | None:
        path = f"{_biller_path(biller)}/supply-complaints/{quote(ticket_number, safe='')}"
        body = await self._call("GET", path, unknown="unknown_ticket")
        return None if body is None else self._ticket(biller, body)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self, method: str, path: str, unknown: str = "", json: Any = None
    ) -> Any | None:
        """The JSON body, or None for the documented 404 named `unknown`."""
        try:
            response = await self._client.request(method, path, json=json)
            if response.status_code == 404 and unknown:
                try:
                    error = response.json().get("error")
                except ValueError:
                    error = None
                if error == unknown:
                    return None
            response.raise_for_status()
            return response.json()
        except _ERRORS as exc:
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
            log.warning("power desk did not answer (HTTP %s, %s)", status, type(exc).__name__)
            raise SupplyDeskUnavailable("power supply desk unavailable") from exc

    @staticmethod
    def _ticket(biller: Biller, body: Any) -> SupplyTicket:
        try:
            return SupplyTicket(
                ticket_number=str(body["ticket_number"]),
                biller_id=biller.biller_id,
                consumer_number=str(body["consumer_number"]),
                status=SupplyTicketStatus(body["status"]),
                registered_at=_aware(body["registered_at"]),
                updated_at=_aware(body["updated_at"]),
                note=str(body.get("note") or "")[:MAX_REASON_CHARS],
            )
        except _ERRORS as exc:
            raise _unavailable(biller, exc) from exc


def _biller_path(biller: Biller) -> str:
    return f"/v1/billers/{quote(biller.biller_id, safe='')}"


def _outage(biller: Biller, entry: Any) -> Outage:
    return Outage(
        outage_id=str(entry["outage_id"]),
        biller_id=biller.biller_id,
        kind=OutageKind(entry["kind"]),
        starts_at=_aware(entry["starts_at"]),
        ends_at=_aware(entry["ends_at"]),
        reason=str(entry["reason"])[:MAX_REASON_CHARS],
        area=str(entry.get("area") or ""),
    )


def _aware(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None or moment.utcoffset() is None:
        # Guessing the zone of a restoration time is how "back at 5" becomes 10:30.
        raise ValueError(f"time without an offset: {text!r}")
    return moment


def _unavailable(biller: Biller, exc: Exception) -> SupplyDeskUnavailable:
    log.warning(
        "power desk of %s answered an unreadable body (%s)", biller.short_name, type(exc).__name__
    )
    return SupplyDeskUnavailable("power supply desk answered an unreadable body")
