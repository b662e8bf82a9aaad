"""POST /webhooks/payments with genuine signatures over bodies an attacker captured or a
broken sender shaped (issue 13, findings 7 and 8): a replay under another delivery id does
nothing new, and no signed body gets a 5xx (Razorpay retries those for 24 hours and then
disables the webhook)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from app.bootstrap import Container
from bot.model.payments import PaymentStatus
from integrations.payments.razorpay_webhook import parse_webhook
from tests.gateway.conftest import WEBHOOK_SECRET, OpenPayment, razorpay_event, signed
from tests.gateway.test_payment_webhook import paid_event, pushed, status_of

pytestmark = pytest.mark.asyncio


def authorized_event(open_payment: OpenPayment) -> dict[str, Any]:
    """`payment.authorized` for a payment through the link, as Razorpay shapes it."""
    link_id = open_payment.payment.link_id
    assert link_id
    entity = {
        "id": "pay_AuTh0r1zed0001",
        "entity": "payment",
        "amount": open_payment.payment.total_paise,
        "status": "authorized",
        "description": "#" + link_id.removeprefix("plink_"),
        "notes": [],
    }
    return {
        "entity": "event",
        "event": "payment.authorized",
        "payload": {"payment": {"entity": entity}},
    }


def signed_raw(raw: bytes, event_id: str = "evt_Patholog1cal") -> dict[str, str]:
    signature = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": signature,
        "X-Razorpay-Event-Id": event_id,
    }


async def test_one_signed_event_under_three_delivery_ids_pushes_one_message(
    client: httpx.AsyncClient, open_payment: OpenPayment
) -> None:
    answers = []
    for event_id in ("evt_F1rst000001", "evt_Sec0nd00002", "evt_Th1rd000003"):
        raw, headers = signed(authorized_event(open_payment), event_id=event_id)
        response = await client.post("/webhooks/payments", content=raw, headers=headers)
        answers.append((response.status_code, response.json()["status"]))

    assert answers == [(200, "processed"), (200, "duplicate"), (200, "duplicate")]
    [pending] = await pushed(client, open_payment.sender)
    assert "being processed" in pending["text"] or "प्रक्रिया" in pending["text"]


def _paid_raw(open_payment: OpenPayment) -> str:
    return json.dumps(paid_event(open_payment), separators=(",", ":"))


def _with_amount(open_payment: OpenPayment, amount: str) -> bytes:
    total = str(open_payment.payment.total_paise)
    return _paid_raw(open_payment).replace(f'"amount":{total}', f'"amount":{amount}').encode()


PATHOLOGICAL = {
    "amount-1e400": lambda p: _with_amount(p, "1e400"),
    "amount-NaN": lambda p: _with_amount(p, "NaN"),
    "amount-Infinity": lambda p: _with_amount(p, "-Infinity"),
    "amount-10^30": lambda p: _with_amount(p, "1" + "0" * 30),
    "amount-5000-digits": lambda p: _with_amount(p, "9" * 5000),
    "amount-string": lambda p: _with_amount(p, '"310750"'),
    "amount-true": lambda p: _with_amount(p, "true"),
    "nesting-10000-deep": lambda p: (
        '{"event":"payment_link.paid","payload":' + "[" * 10_000 + "]" * 10_000 + "}"
    ).encode(),
    "link-id-300-chars": lambda p: (
        _paid_raw(p).replace(str(p.payment.link_id), "plink_" + "A" * 300).encode()
    ),
    "not-an-object": lambda p: b"[1,2,3]",
    "not-json": lambda p: b"\xff\xfe{",
}


@pytest.mark.parametrize("shape", sorted(PATHOLOGICAL))
async def test_a_signed_pathological_body_is_acknowledged_and_changes_nothing(
    client: httpx.AsyncClient, container: Container, open_payment: OpenPayment, shape: str
) -> None:
    raw = PATHOLOGICAL[shape](open_payment)

    response = await client.post("/webhooks/payments", content=raw, headers=signed_raw(raw))

    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert await status_of(container, open_payment) is PaymentStatus.CREATED
    assert await pushed(client, open_payment.sender) == []


async def test_a_300_character_delivery_id_is_no_error(
    client: httpx.AsyncClient, container: Container, open_payment: OpenPayment
) -> None:
    raw, headers = signed(paid_event(open_payment), event_id="evt_" + "x" * 296)

    response = await client.post("/webhooks/payments", content=raw, headers=headers)

    assert (response.status_code, response.json()) == (200, {"status": "processed"})
    assert await status_of(container, open_payment) is PaymentStatus.PAID
    # What is stored to recognise the news again is bounded and does not come from the
    # header (a VARCHAR(255) on PostgreSQL refused the 300 characters with a 503).
    event = parse_webhook(raw, headers, WEBHOOK_SECRET)
    assert event is not None and len(event.event_id) == 64
    assert "x" * 20 not in event.event_id


async def test_different_news_about_one_link_is_still_news(
    client: httpx.AsyncClient, open_payment: OpenPayment
) -> None:
    raw, headers = signed(authorized_event(open_payment), event_id="evt_A")
    assert (await client.post("/webhooks/payments", content=raw, headers=headers)).json() == {
        "status": "processed"
    }
    payment = open_payment.payment
    assert payment.link_id
    paid = razorpay_event(
        "payment_link.paid", payment.link_id, payment.payment_id, payment.total_paise
    )
    raw, headers = signed(paid, event_id="evt_A")  # even under the same delivery id
    assert (await client.post("/webhooks/payments", content=raw, headers=headers)).json() == {
        "status": "processed"
    }
    assert len(await pushed(client, open_payment.sender)) == 2
