"""The sandbox's pages: the SMS and email inboxes, the hosted payment page that stands in
for Razorpay's, and the electricity company's outage announcements and ticket updates.
Mounted only outside production (see app.py)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.errors import UnknownPaymentLink
from bot.model.money import format_rupees
from bot.model.outages import OutageKind, SupplyTicketStatus
from integrations.sandbox import (
    Announcement,
    LinkClosedError,
    OutageRejected,
    Sandbox,
    UnknownTicket,
)


class Settlement(BaseModel):
    outcome: Literal["success", "failure"]


class OutageAnnouncement(BaseModel):
    """POST /sandbox/outages (CONTRACTS.md). Lengths are checked by the sandbox company
    itself (`OutageRejected`), so the route and a direct call refuse the same things."""

    model_config = ConfigDict(extra="forbid")
    biller_id: str = Field(max_length=64)
    consumer_numbers: list[str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    kind: Literal["planned", "unplanned"] = "planned"
    area: str = ""


class TicketUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: SupplyTicketStatus
    note: str = ""


def sandbox_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix="/sandbox", include_in_schema=False)

    @router.get("/sms")
    async def sms_inbox(to: str) -> dict[str, Any]:
        # An unescaped "+" in a query string arrives as a space: "?to=+9198…" is " 9198…".
        number = "+" + to.strip().lstrip("+")
        return {"messages": await sandbox.sms_outbox(number)}

    @router.get("/email")
    async def email_inbox(to: str) -> dict[str, Any]:
        return {"messages": await sandbox.email_outbox(to)}

    @router.get("/pay/{link_id}", response_class=HTMLResponse)
    async def payment_page(link_id: str) -> HTMLResponse:
        link = await sandbox.link(link_id)
        if link is None:
            return HTMLResponse(_page("Payment link not found / भुगतान लिंक नहीं मिला", ""), 404)
        return HTMLResponse(_payment_page(link))

    @router.post("/pay/{link_id}")
    async def settle(link_id: str, settlement: Settlement) -> dict[str, Any]:
        try:
            webhook_status = await sandbox.settle(link_id, settlement.outcome)
        except UnknownPaymentLink:
            raise HTTPException(404, "unknown payment link") from None
        except LinkClosedError as exc:
            raise HTTPException(409, f"payment link is already {exc.status}") from None
        status = "paid" if settlement.outcome == "success" else "failed"
        return {"status": status, "webhook_status": webhook_status}

    @router.post("/outages", status_code=201)
    async def announce_outage(body: OutageAnnouncement) -> dict[str, Any]:
        try:
            return await sandbox.announce_outage(
                Announcement(
                    biller_id=body.biller_id,
                    consumer_numbers=body.consumer_numbers,
                    starts_at=body.starts_at,
                    ends_at=body.ends_at,
                    reason=body.reason,
                    kind=OutageKind(body.kind),
                    area=body.area,
                )
            )
        except OutageRejected as exc:
            raise HTTPException(422, str(exc)) from None

    @router.post("/supply-tickets/{ticket_number}")
    async def move_supply_ticket(ticket_number: str, body: TicketUpdate) -> dict[str, Any]:
        try:
            return await sandbox.move_supply_ticket(ticket_number, body.status, body.note)
        except UnknownTicket:
            raise HTTPException(404, "unknown supply ticket") from None
        except OutageRejected as exc:
            raise HTTPException(422, str(exc)) from None

    return router


def _payment_page(link: dict[str, Any]) -> str:
    payable = link["status"] in ("created", "failed")
    details = (
        f'<p class="amount">{escape(format_rupees(link["amount_paise"]))}</p>'
        f"<p>{escape(link['description'])}</p>"
        f'<p class="muted">{escape(link["customer_name"])} · {escape(link["link_id"])}</p>'
    )
    if not payable:
        status = escape(link["status"])
        return _page("Sandbox payment / सैंडबॉक्स भुगतान", details + f"<p>Status: {status}</p>")
    buttons = """
<p><button id="pay" onclick="settle('success')">Pay / भुगतान करें</button>
<button id="fail" class="fail" onclick="settle('failure')">Fail / असफल करें</button></p>
<p id="result" role="status"></p>
<script>
async function settle(outcome) {
  document.getElementById("pay").disabled = true;
  document.getElementById("fail").disabled = true;
  const response = await fetch(window.location.pathname, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({outcome: outcome}),
  });
  const result = await response.json();
  document.getElementById("result").textContent = response.ok
    ? (result.status === "paid"
        ? "Paid. You can return to the chat. / भुगतान हो गया। चैट पर लौटें।"
        : "Payment failed. / भुगतान असफल रहा।")
    : "Could not settle: " + (result.detail || response.status);
}
</script>"""
    notice = '<p class="muted">Sandbox: no money moves. / सैंडबॉक्स: कोई पैसा नहीं कटेगा।</p>'
    return _page("Sandbox payment / सैंडबॉक्स भुगतान", details + notice + buttons)


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 28rem; margin: 2rem auto; padding: 0 1rem; }}
.amount {{ font-size: 2rem; font-weight: bold; margin: 0.5rem 0; }}
.muted {{ color: #555; font-size: 0.9rem; }}
button {{ font-size: 1rem; padding: 0.6rem 1.2rem; margin-right: 0.5rem; border: 0;
  border-radius: 0.3rem; background: #1a7f37; color: #fff; cursor: pointer; }}
button.fail {{ background: #b42318; }}
button:disabled {{ opacity: 0.5; }}
</style></head>
<body><h1>{escape(title)}</h1>{body}</body></html>"""
