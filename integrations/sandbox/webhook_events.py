"""Razorpay webhook bodies, as the sandbox gateway sends them.

Shaped after Razorpay's published sample payloads (see integrations/payments/
razorpay_webhook.py for the fields the product reads), so that what the sandbox exercises
is what production receives.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import TYPE_CHECKING, Any

from integrations.payments.razorpay_webhook import link_payment_description

if TYPE_CHECKING:
    from integrations.sandbox.payments import SandboxLink

ACCOUNT_ID = "acc_Sandbox0000001"
_ALPHABET = string.ascii_letters + string.digits


def razorpay_id(prefix: str = "") -> str:
    """An id shaped like Razorpay's: a prefix and 14 base-62 characters."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def link_entity(link: SandboxLink, status: str, amount_paid: int, order_id: str) -> dict[str, Any]:
    return {
        "id": link.link_id,
        "entity": "payment_link",
        "accept_partial": False,
        "amount": link.amount_paise,
        "amount_paid": amount_paid,
        "currency": "INR",
        "customer": {"name": link.customer_name, "contact": link.customer_contact},
        "description": link.description,
        "expire_by": int(link.expire_by.timestamp()),
        "notes": {"reference_id": link.reference_id},
        "order_id": order_id,
        "reference_id": link.reference_id,
        "short_url": link.short_url,
        "status": status,
        "created_at": int(link.created_at.timestamp()),
    }


def payment_entity(
    link: SandboxLink, payment_id: str, order_id: str, failed: bool, now: datetime
) -> dict[str, Any]:
    return {
        "id": payment_id,
        "entity": "payment",
        "amount": link.amount_paise,
        "currency": "INR",
        "status": "failed" if failed else "captured",
        "order_id": order_id,
        "invoice_id": None,
        "international": False,
        "method": "upi",
        "amount_refunded": 0,
        "refund_status": None,
        "captured": not failed,
        # How Razorpay ties a link's payment to its link: "#" + the id without "plink_".
        "description": link_payment_description(link.link_id),
        "vpa": "resident@upi",
        "contact": link.customer_contact,
        "notes": [],
        "error_code": "BAD_REQUEST_ERROR" if failed else None,
        "error_description": "Payment failed" if failed else None,
        "error_source": "customer" if failed else None,
        "error_step": "payment_authorization" if failed else None,
        "error_reason": "payment_failed" if failed else None,
        "created_at": int(now.timestamp()),
    }


def order_entity(link: SandboxLink, order_id: str, paid: bool) -> dict[str, Any]:
    return {
        "id": order_id,
        "entity": "order",
        "amount": link.amount_paise,
        "amount_paid": link.amount_paise if paid else 0,
        "amount_due": 0 if paid else link.amount_paise,
        "currency": "INR",
        "receipt": link.reference_id,
        "notes": {"reference_id": link.reference_id},
        "status": "paid" if paid else "attempted",
    }


def event(name: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": name,
        "contains": list(payload),
        "payload": {key: {"entity": entity} for key, entity in payload.items()},
        "created_at": int(now.timestamp()),
    }


def paid(link: SandboxLink, payment_id: str, now: datetime) -> dict[str, Any]:
    order_id = razorpay_id("order_")
    return event(
        "payment_link.paid",
        {
            "payment_link": link_entity(link, "paid", link.amount_paise, order_id),
            "order": order_entity(link, order_id, paid=True),
            "payment": payment_entity(link, payment_id, order_id, failed=False, now=now),
        },
        now,
    )


def failed(link: SandboxLink, payment_id: str, now: datetime) -> dict[str, Any]:
    order_id = razorpay_id("order_")
    return event(
        "payment.failed", {"payment": payment_entity(link, payment_id, order_id, True, now)}, now
    )


def expired(link: SandboxLink, now: datetime) -> dict[str, Any]:
    return event("payment_link.expired", {"payment_link": link_entity(link, "expired", 0, "")}, now)
