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

Duplicates are recognised by what the signature covers (event, entity id, entity status:
`dedupe_key`), not by `X-Razorpay-Event-Id`, which anyone holding one signed body can vary.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.errors import SignatureInvalid
from bot.model.payments import PaymentEvent, PaymentEventKind

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
LINK_ID_PREFIX = "plink_"
_LINK_DESCRIPTION = re.compile(r"#([A-Za-z0-9]{1,40})")
_ID = re.compile(r"[A-Za-z0-9_]{1,64}")
# Far above any utility bill (₹1 crore), far below where arithmetic or a BIGINT column fails.
MAX_PAISE = 10**9


def sign(raw_body: bytes, secret: str) -> str:
    """The signature Razorpay sends for `raw_body`."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def link_payment_description(link_id: str) -> str:
    """What Razorpay puts in the description of a payment made through `link_id`."""
    return "#" + link_id.removeprefix(LINK_ID_PREFIX)


def parse_webhook(raw_body: bytes, headers: Mapping[str, str], secret: str) -> PaymentEvent | None:
    """Verify a webhook and turn it into a PaymentEvent; None for events we do not act on.

    Raises SignatureInvalid when the signature is missing or wrong. An empty secret
    verifies nothing: anyone can compute an HMAC with an empty key. A genuine body we
    cannot read (a number beyond any amount, nesting past the parser's depth, an id no
    gateway makes) is None too: Razorpay retries any non-2xx for 24 hours and then
    disables the webhook, and a retry cannot make it readable.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not secret or not signature:
        raise SignatureInvalid("missing webhook signature or secret")
    if not hmac.compare_digest(sign(raw_body, secret), signature.strip()):
        raise SignatureInvalid("webhook signature does not match its body")
    try:
        body = json.loads(raw_body, parse_float=Decimal, parse_constant=_no_constant)
        return _event(body["event"], body.get("payload") or {})
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        # Genuine (signed) but not in the shape we know: acknowledge and move on. The
        # delivery id is the sender's to choose and not signed; only a short part is logged.
        delivery = str(lowered.get(EVENT_ID_HEADER.lower(), "-"))[:40]
        log.warning("unreadable Razorpay webhook ignored (delivery %s)", delivery)
        return None


def dedupe_key(name: str, entity_id: str, status: str) -> str:
    """What makes two deliveries the same news: the event, its entity and the entity's
    status, all inside the signed body. `X-Razorpay-Event-Id` is not signed, so a replay
    of a captured body under a new id must not count as new."""
    return hashlib.sha256(f"{name}\n{entity_id}\n{status}".encode()).hexdigest()


def _event(name: object, payload: dict[str, Any]) -> PaymentEvent | None:
    if name in ("payment_link.paid", "payment_link.expired"):
        link = payload["payment_link"]["entity"]
        payment = (payload.get("payment") or {}).get("entity") or {}
        paid = name == "payment_link.paid"
        link_id = _identifier(link["id"])
        return PaymentEvent(
            event_id=dedupe_key(str(name), link_id, str(link.get("status") or "")[:32]),
            kind=PaymentEventKind.PAID if paid else PaymentEventKind.EXPIRED,
            link_id=link_id,
            reference_id=_reference(link.get("reference_id")),
            gateway_payment_id=_identifier(payment["id"]) if paid else None,
            amount_paise=_paise(payment["amount"] if paid else link["amount"]),
        )
    if name in ("payment.failed", "payment.authorized"):
        payment = payload["payment"]["entity"]
        match = _LINK_DESCRIPTION.fullmatch(str(payment.get("description") or "")[:80])
        if match is None:
            return None
        notes = payment.get("notes")
        reference_id = notes.get("reference_id", "") if isinstance(notes, dict) else ""
        payment_id = _identifier(payment["id"])
        return PaymentEvent(
            event_id=dedupe_key(str(name), payment_id, str(payment.get("status") or "")[:32]),
            kind=PaymentEventKind.FAILED if name == "payment.failed" else PaymentEventKind.PENDING,
            link_id=_identifier(LINK_ID_PREFIX + match.group(1)),
            reference_id=_reference(reference_id),
            gateway_payment_id=payment_id,
            amount_paise=_paise(payment["amount"]),
        )
    return None


def _identifier(value: object) -> str:
    """A Razorpay id (`plink_…`, `pay_…`: a prefix and 14 base-62 characters)."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError("not a Razorpay id")
    return value


def _reference(value: object) -> str:
    """Our own payment id, echoed back; empty when the event carries none."""
    if value in (None, ""):
        return ""
    return _identifier(value)


def _paise(value: object) -> int:
    """Razorpay's amounts are whole paise: an int, never a float, bool or string."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAISE:
        raise ValueError("not an amount in paise")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
