"""The embedded sandbox: stand-ins for the SSO registry, the billers, the payment gateway,
the SMS provider, the mail server and the electricity companies' outage and complaint
system, so the whole bot runs with no outside account.

Residents and accounts come from `seed.yml`; what changes (bill status, SMS sent, payment
links, payments posted to billers) lives in `sandbox_*` tables of the product's database,
so the gateway and the action server, two processes, see the same sandbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.model.billing import Biller
from bot.model.outages import SupplyTicketStatus
from bot.ports import Clock
from integrations.sandbox.billers import SandboxBillerDirectory
from integrations.sandbox.email import SandboxEmailSender
from integrations.sandbox.outages import (
    Announcement,
    OutageRejected,
    SandboxPowerSupplyDesk,
    UnknownTicket,
)
from integrations.sandbox.payments import LinkClosedError, SandboxPaymentGateway
from integrations.sandbox.seeding import Seed, apply_seed, load_seed
from integrations.sandbox.sms import SandboxSmsSender
from integrations.sandbox.sso import SandboxSsoRegistry

__all__ = [
    "Announcement",
    "LinkClosedError",
    "OutageRejected",
    "Sandbox",
    "Seed",
    "UnknownTicket",
    "apply_seed",
    "load_seed",
]


class Sandbox:
    def __init__(
        self,
        engine: AsyncEngine,
        billers: Sequence[Biller],
        public_base_url: str,
        webhook_url: str,
        webhook_secret: str,
        clock: Clock,
        seed_path: Path | None = None,
        timeout_delay_s: float = 0.2,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._engine = engine
        self.seed = load_seed(seed_path, billers)
        self.sso = SandboxSsoRegistry(self.seed)
        self.billers = SandboxBillerDirectory(engine, billers, self.seed, clock, timeout_delay_s)
        self.payments = SandboxPaymentGateway(
            engine, public_base_url, webhook_url, webhook_secret, clock, webhook_transport
        )
        self.sms = SandboxSmsSender(engine, clock)
        self.email = SandboxEmailSender(engine, clock)
        self.power = SandboxPowerSupplyDesk(engine, billers, self.seed, clock, timeout_delay_s)
        self._clock = clock

    async def apply_seed(self, reset: bool = False) -> None:
        """Create the sandbox tables and load the seed (see `seeding.apply_seed`)."""
        await apply_seed(self._engine, self.seed, reset=reset, now=self._clock.now())

    async def sms_outbox(self, to: str) -> list[dict[str, str]]:
        """SMS "sent" to `to` (E.164), oldest first: {to, text, sent_at (ISO 8601)}."""
        return await self.sms.outbox(to)

    async def email_outbox(self, to: str) -> list[dict[str, Any]]:
        """Mail "sent" to `to`, oldest first: {to, subject, text, attachments (file names),
        sent_at (ISO 8601)}."""
        return await self.email.outbox(to)

    async def link(self, link_id: str) -> dict[str, Any] | None:
        """A payment link as stored: id, short_url, reference_id, amount_paise,
        description, customer, status (created | paid | failed | expired), expire_by."""
        link = await self.payments.link(link_id)
        return link.as_dict() if link else None

    async def settle(self, link_id: str, outcome: str) -> int:
        """Pay ("success") or fail ("failure") a link and deliver the signed webhook.

        Returns the webhook's HTTP status (0 when it could not be delivered). Raises
        ValueError, UnknownPaymentLink, LinkClosedError (already paid or expired).
        """
        return await self.payments.settle(link_id, outcome)

    async def expire(self, link_id: str) -> int:
        """Expire a link now and deliver `payment_link.expired`; as `settle`."""
        return await self.payments.expire(link_id)

    async def announce_outage(self, announcement: Announcement) -> dict[str, Any]:
        """Store an outage the sandbox electricity company announces (POST /sandbox/outages).
        Raises OutageRejected, storing nothing."""
        planned = await self.power.announce(announcement)
        outage = planned.outage
        return {
            "outage_id": outage.outage_id,
            "biller_id": outage.biller_id,
            "kind": outage.kind.value,
            "consumer_numbers": list(planned.consumer_numbers),
            "starts_at": outage.starts_at.isoformat(),
            "ends_at": outage.ends_at.isoformat(),
            "reason": outage.reason,
        }

    async def move_supply_ticket(
        self, ticket_number: str, status: SupplyTicketStatus, note: str = ""
    ) -> dict[str, Any]:
        """Move a no-supply ticket on, as the company's crew would. Raises UnknownTicket,
        OutageRejected."""
        ticket = await self.power.move_ticket(ticket_number, status, note)
        return {
            "ticket_number": ticket.ticket_number,
            "biller_id": ticket.biller_id,
            "status": ticket.status.value,
            "note": ticket.note,
            "updated_at": ticket.updated_at.isoformat(),
        }
