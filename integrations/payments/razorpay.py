"""Razorpay Payment Links: the real PaymentGateway.

The resident pays on Razorpay's hosted page, so card and UPI data never reach us (PCI DSS
SAQ A). We only create links and read the signed webhooks that report their fate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from bot.errors import PaymentGatewayUnavailable
from bot.model.payments import PaymentEvent, PaymentLink
from bot.ports import PaymentLinkRequest
from integrations.payments import razorpay_webhook

log = logging.getLogger(__name__)


class RazorpayGateway:
    def __init__(
        self,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        base_url: str = "https://api.razorpay.com",
        timeout_s: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            auth=(key_id, key_secret),
            timeout=timeout_s,
            transport=transport,
        )

    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        body = {
            "amount": request.amount_paise,
            "currency": "INR",
            "accept_partial": False,
            "reference_id": request.reference_id,
            "description": request.description,
            "customer": {"name": request.customer_name, "contact": request.customer_mobile},
            # We send the link ourselves, in the resident's chat and language.
            "notify": {"sms": False, "email": False},
            "expire_by": int(request.expire_by.timestamp()),
            "callback_url": request.callback_url,
            "callback_method": "get",
            # Notes are copied to the order Razorpay makes for the link: our reference id
            # then shows in events and dashboards that do not carry the link entity.
            "notes": {"reference_id": request.reference_id},
        }
        try:
            response = await self._client.post("/v1/payment_links", json=body)
            response.raise_for_status()
            created = response.json()
            return PaymentLink(link_id=str(created["id"]), short_url=str(created["short_url"]))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            # Razorpay's error text may echo request data: log the status only.
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
            log.warning("Razorpay payment link not created (HTTP %s)", status)
            raise PaymentGatewayUnavailable("payment link not created") from exc

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        return razorpay_webhook.parse_webhook(raw_body, headers, self._webhook_secret)

    async def aclose(self) -> None:
        await self._client.aclose()
