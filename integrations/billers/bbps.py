"""Bill fetch and payment posting through a Bharat Connect (BBPS) agent institution's API.

The JSON shape follows the BBPS bill fetch/payment messages (domain reference); an agent
institution's API, or a proxy in front of it, must answer:

    POST {base_url}/bbps/v1/bill/fetch            Authorization: Bearer {api_key}
    {"billerId": "JVVNL0000RAJ01",
     "customerParams": [{"name": "K Number", "value": "210145678912"}],
     "customerMobile": "9829100001"}                 (10 digits; omitted when unknown)
    200 {"responseCode": "000",
         "billerResponse": {"customerName": "...", "billAmount": "186200",   (paise)
                            "billDate": "2026-12-05", "billNumber": "...",
                            "billPeriod": "NOV-2026", "dueDate": "2026-12-20"},
         "additionalInfo": {...}}                    (optional, echoed back on payment)
    200 {"responseCode": "<anything but 000>"}       no such consumer / no bill

    POST {base_url}/bbps/v1/bill/pay
    {"billerId": ..., "refId": "<our reference id>", "customerParams": [...],
     "billerResponse": {...}, "additionalInfo": {...},  (as fetched, or null)
     "amountInfo": {"amount": "186200", "currency": "356", "custConvFee": "0"},
     "paymentMethod": {"paymentMode": "Payment Gateway", "quickPay": "N", "splitPay": "N"}}
    200 {"responseCode": "000", "txnRefId": "...", "approvalRefNumber": "..."}

The server must be idempotent on `refId`: paying again with the same refId returns the
first transaction. Any HTTP error, timeout or unreadable body is BillerUnavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx

from bot.errors import BillerUnavailable, ConsumerNotFound
from bot.model.billing import Bill, Biller, Utility
from integrations.billers.catalog import BillerCatalog

log = logging.getLogger(__name__)

SUCCESS = "000"
INR = "356"  # ISO 4217 numeric code, as BBPS expects


class BbpsBillerDirectory:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        billers: Sequence[Biller],
        timeout_s: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._catalog = BillerCatalog(billers)
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            transport=transport,
        )

    def billers(self, utility: Utility | None = None) -> Sequence[Biller]:
        return self._catalog.billers(utility)

    def get(self, biller_id: str) -> Biller:
        return self._catalog.get(biller_id)

    async def fetch_bill(self, biller: Biller, consumer_number: str, mobile: str) -> Bill:
        answer = await self._fetch(biller, consumer_number, mobile)
        if answer.get("responseCode") != SUCCESS:
            raise ConsumerNotFound(consumer_number)
        try:
            fetched = answer["billerResponse"]
            amount_paise = int(fetched["billAmount"])
            return Bill(
                biller_id=biller.biller_id,
                consumer_number=consumer_number,
                customer_name=str(fetched["customerName"]),
                bill_number=str(fetched["billNumber"]),
                bill_date=date.fromisoformat(fetched["billDate"]),
                due_on=date.fromisoformat(fetched["dueDate"]),
                amount_paise=amount_paise,
                outstanding_paise=amount_paise,
            )
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("unreadable BBPS bill from %s", biller.biller_id)
            raise BillerUnavailable(biller.biller_id) from exc

    async def post_payment(
        self,
        biller: Biller,
        consumer_number: str,
        bill_number: str,
        amount_paise: int,
        reference_id: str,
    ) -> str:
        # A payment echoes the biller's fetch response. The fetch may have happened in
        # another process (the action server) long before the webhook reached this one, so
        # fetch again rather than trust a cache. If nothing is due any more (this is a
        # retry), pay without the echo: BBPS dedupes on refId and returns the first payment.
        fetched = await self._fetch(biller, consumer_number, mobile=None)
        found = fetched.get("responseCode") == SUCCESS and isinstance(
            fetched.get("billerResponse"), dict
        )
        answer = await self._post(
            "/bbps/v1/bill/pay",
            {
                "billerId": biller.biller_id,
                "refId": reference_id,
                "customerParams": _customer_params(biller, consumer_number),
                "billerResponse": fetched.get("billerResponse") if found else None,
                "additionalInfo": fetched.get("additionalInfo") if found else None,
                "amountInfo": {
                    "amount": str(amount_paise),
                    "currency": INR,
                    "custConvFee": str(biller.convenience_fee_paise),
                },
                "paymentMethod": {
                    "paymentMode": "Payment Gateway",
                    "quickPay": "N",
                    "splitPay": "N",
                },
            },
        )
        if answer.get("responseCode") != SUCCESS or not answer.get("txnRefId"):
            log.warning(
                "BBPS refused payment %s (code %s)", reference_id, answer.get("responseCode")
            )
            raise BillerUnavailable(biller.biller_id)
        return str(answer["txnRefId"])

    async def _fetch(
        self, biller: Biller, consumer_number: str, mobile: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "billerId": biller.biller_id,
            "customerParams": _customer_params(biller, consumer_number),
        }
        if mobile:
            body["customerMobile"] = _ten_digits(mobile)
        return await self._post("/bbps/v1/bill/fetch", body)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(path, json=body)
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
            log.warning("BBPS %s failed (HTTP %s, %s)", path, status, type(exc).__name__)
            raise BillerUnavailable(body["billerId"]) from exc
        if not isinstance(answer, dict):
            raise BillerUnavailable(body["billerId"])
        return answer

    async def aclose(self) -> None:
        await self._client.aclose()


def _customer_params(biller: Biller, consumer_number: str) -> list[dict[str, str]]:
    return [{"name": biller.param_name, "value": consumer_number}]


def _ten_digits(mobile: str) -> str:
    """BBPS takes the 10-digit Indian mobile number, without +91."""
    digits = "".join(c for c in mobile if c.isdigit())
    return digits[-10:]
