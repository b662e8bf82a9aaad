"""Razorpay webhooks: the signature and the event format, in one place.

Both the real gateway adapter and the sandbox gateway use this module, so the sandbox
signs and shapes its webhooks exactly as Razorpay does and the verifying code under test
is the code that runs in production.

Signature: `X-Razorpay-Signature` is the hex HMAC-SHA256 of the raw request body keyed with
the webhook secret. Events we act on:

- `payment_link.paid`: `payload.payment_link.entity` (id, reference_id, amount_paid) and
  `payload.payment.entity` (id `pay_…`, amount, status `captured`).
- `payment_link.expired`: `payload.payment_link.entity` only.
- `payment.authorized` (the bank said yes, capture pending) is shaped like `payment.failed`
  and read the same way: the resident hears "pending", then the outcome.
- `payment.failed`: only `payload.payment.entity`; it names no payment link. Razorpay's own
  sample payloads show that a payment made through a link carries the link id, minus its
  `plink_` prefix, as its description (`"#FOGqq3O6E5bkml"` for `plink_FOGqq3O6E5bkml`), and
  `notes` as `[]`: the link's notes (where we put our reference id) reach the order, not the
  payment. So the link id comes from the description and the reference id from the
  payment's notes when present, else it is empty. A failed payment that names no link
  belongs to another Razorpay product and is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from bot.errors import SignatureInvalid
from bot.model.payments import PaymentEvent, PaymentEventKind

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
LINK_ID_PREFIX = "plink_"
_LINK_DESCRIPTION = re.compile(r"#([A-Za-z0-9]+)")


def sign(raw_body: bytes, secret: str) -> str:
    """The signature Razorpay sends for `raw_body`."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def link_payment_description(link_id: str) -> str:
    """What Razorpay puts in the description of a payment made through `link_id`."""
    return "#" + link_id.removeprefix(LINK_ID_PREFIX)


def parse_webhook(raw_body: bytes, headers: Mapping[str, str], secret: str) -> PaymentEvent | None:
    """Verify a webhook and turn it into a PaymentEvent; None for events we do not act on.

    Raises SignatureInvalid when the signature is missing or wrong. An empty secret
    verifies nothing: anyone can compute an HMAC with an empty key.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not secret or not signature:
        raise SignatureInvalid("missing webhook signature or secret")
    if not hmac.compare_digest(sign(raw_body, secret), signature.strip()):
        raise SignatureInvalid("webhook signature does not match its body")
    event_id = lowered.get(EVENT_ID_HEADER.lower()) or hashlib.sha256(raw_body).hexdigest()
    try:
        body = json.loads(raw_body)
        return _event(event_id, body["event"], body.get("payload") or {})
    except (ValueError, KeyError, TypeError, AttributeError):
        # Genuine (signed) but not in the shape we know: acknowledge and move on, since
        # Razorpay would otherwise retry it for a day.
        log.warning("unreadable Razorpay webhook %s ignored", event_id)
        return None


def _event(event_id: str, name: str, payload: dict[str, Any]) -> PaymentEvent | None:
    if name in ("payment_link.paid", "payment_link.expired"):
        link = payload["payment_link"]["entity"]
        payment = (payload.get("payment") or {}).get("entity") or {}
        paid = name == "payment_link.paid"
        return PaymentEvent(
            event_id=event_id,
            kind=PaymentEventKind.PAID if paid else PaymentEventKind.EXPIRED,
            link_id=str(link["id"]),
            reference_id=str(link.get("reference_id") or ""),
            gateway_payment_id=str(payment["id"]) if paid else None,
            amount_paise=int(payment["amount"] if paid else link["amount"]),
        )
    if name in ("payment.failed", "payment.authorized"):
        payment = payload["payment"]["entity"]
        match = _LINK_DESCRIPTION.fullmatch(str(payment.get("description") or ""))
        if match is None:
            return None
        notes = payment.get("notes")
        reference_id = notes.get("reference_id", "") if isinstance(notes, dict) else ""
        return PaymentEvent(
            event_id=event_id,
            kind=PaymentEventKind.FAILED if name == "payment.failed" else PaymentEventKind.PENDING,
            link_id=LINK_ID_PREFIX + match.group(1),
            reference_id=str(reference_id),
            gateway_payment_id=str(payment["id"]),
            amount_paise=int(payment["amount"]),
        )
    return None
