"""The sandbox payment gateway: hosted links on our own /sandbox/pay page, settled by a
click, reported by webhooks signed and shaped exactly as Razorpay's."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import PaymentGatewayUnavailable, UnknownPaymentLink
from bot.model.payments import PaymentEvent, PaymentLink
from bot.ports import Clock, PaymentLinkRequest
from integrations.payments import razorpay_webhook
from integrations.sandbox import tables, webhook_events

log = logging.getLogger(__name__)

OUTCOMES = ("success", "failure")
# Razorpay lets a customer retry after a failed attempt; only these states are final.
FINAL_STATUSES = ("paid", "expired")


# Built once: a client per webhook would otherwise load the CA bundle each time (~4 ms of
# the gateway's CPU per payment under `make bench`).
_TLS_CONTEXT = httpx.create_ssl_context()


class LinkClosedError(Exception):
    """The link can no longer be paid: it is paid or expired."""

    def __init__(self, status: str) -> None:
        super().__init__(f"payment link is {status}")
        self.status = status


@dataclass(frozen=True)
class SandboxLink:
    link_id: str
    short_url: str
    reference_id: str
    amount_paise: int
    description: str
    customer_name: str
    customer_contact: str
    status: str
    expire_by: datetime
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        fields = asdict(self)
        fields["expire_by"] = self.expire_by.isoformat()
        fields["created_at"] = self.created_at.isoformat()
        return fields


class SandboxPaymentGateway:
    def __init__(
        self,
        engine: AsyncEngine,
        public_base_url: str,
        webhook_url: str,
        webhook_secret: str,
        clock: Clock,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._engine = engine
        self._public_base_url = public_base_url.rstrip("/")
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._clock = clock
        self._webhook_transport = webhook_transport

    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        link_id = webhook_events.razorpay_id("plink_")
        now = self._clock.now()
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    tables.payment_links.insert().values(
                        link_id=link_id,
                        reference_id=request.reference_id,
                        amount_paise=request.amount_paise,
                        description=request.description,
                        customer_name=request.customer_name,
                        customer_contact=request.customer_mobile,
                        callback_url=request.callback_url,
                        status="created",
                        expire_by=request.expire_by,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError as exc:
            # Razorpay refuses a second link with the same reference_id; so do we.
            raise PaymentGatewayUnavailable("reference_id already used") from exc
        return PaymentLink(link_id=link_id, short_url=self._short_url(link_id))

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        return razorpay_webhook.parse_webhook(raw_body, headers, self._webhook_secret)

    async def link(self, link_id: str) -> SandboxLink | None:
        links = tables.payment_links
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(links).where(links.c.link_id == link_id))).first()
        if row is None:
            return None
        return SandboxLink(
            link_id=row.link_id,
            short_url=self._short_url(row.link_id),
            reference_id=row.reference_id,
            amount_paise=row.amount_paise,
            description=row.description,
            customer_name=row.customer_name,
            customer_contact=row.customer_contact,
            status=row.status,
            expire_by=row.expire_by,
            created_at=row.created_at,
        )

    async def settle(self, link_id: str, outcome: str) -> int:
        """Pay (`success`) or fail (`failure`) a link as the resident would on Razorpay's
        page, then deliver the webhook. Returns the webhook's HTTP status, 0 if undelivered.

        Raises ValueError for another outcome, UnknownPaymentLink, LinkClosedError.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        link = await self._open_link(link_id)
        status = "paid" if outcome == "success" else "failed"
        payment_id = webhook_events.razorpay_id("pay_")
        await self._move(link, status, payment_id)
        now = self._clock.now()
        if status == "paid":
            return await self._deliver(webhook_events.paid(link, payment_id, now))
        return await self._deliver(webhook_events.failed(link, payment_id, now))

    async def expire(self, link_id: str) -> int:
        """Expire a link now, as Razorpay does at `expire_by`, and deliver the webhook."""
        link = await self._open_link(link_id, allow_past_expiry=True)
        await self._move(link, "expired", None)
        return await self._deliver(webhook_events.expired(link, self._clock.now()))

    async def _open_link(self, link_id: str, allow_past_expiry: bool = False) -> SandboxLink:
        link = await self.link(link_id)
        if link is None:
            raise UnknownPaymentLink(link_id)
        if link.status in FINAL_STATUSES:
            raise LinkClosedError(link.status)
        if not allow_past_expiry and self._clock.now() >= link.expire_by:
            raise LinkClosedError("expired")
        return link

    async def _move(self, link: SandboxLink, status: str, payment_id: str | None) -> None:
        """Compare-and-set, so two clicks on Pay cannot both succeed."""
        links = tables.payment_links
        async with self._engine.begin() as conn:
            moved = await conn.execute(
                update(links)
                .where(links.c.link_id == link.link_id)
                .where(links.c.status == link.status)
                .values(status=status, gateway_payment_id=payment_id, updated_at=self._clock.now())
            )
        if moved.rowcount != 1:
            current = await self.link(link.link_id)
            raise LinkClosedError(current.status if current else "gone")

    async def _deliver(self, body: dict[str, Any]) -> int:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            razorpay_webhook.SIGNATURE_HEADER: razorpay_webhook.sign(raw, self._webhook_secret),
            razorpay_webhook.EVENT_ID_HEADER: webhook_events.razorpay_id(),
        }
        try:
            async with httpx.AsyncClient(
                timeout=10.0, transport=self._webhook_transport, verify=_TLS_CONTEXT
            ) as client:
                response = await client.post(self._webhook_url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("sandbox webhook %s not delivered: %s", body["event"], type(exc).__name__)
            return 0
        return response.status_code

    def _short_url(self, link_id: str) -> str:
        return f"{self._public_base_url}/sandbox/pay/{link_id}"
