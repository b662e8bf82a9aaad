"""Razorpay Payment Links: link creation against a real HTTP double, and webhook
verification and parsing on bodies shaped like Razorpay's published samples."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest
import pytest_asyncio

from bot.errors import PaymentGatewayUnavailable, SignatureInvalid
from bot.model.payments import PaymentEventKind
from bot.ports import PaymentLinkRequest
from integrations.payments.razorpay import RazorpayGateway
from integrations.payments.razorpay_webhook import dedupe_key, sign
from tests.doubles.http_double import HttpDouble

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture

SECRET = "test-webhook-secret"
REQUEST = PaymentLinkRequest(
    reference_id="pay_0123456789abcdef",
    amount_paise=310750,
    description="JVVNL bill JV2612-4567891",
    customer_name="Ramesh Kumar Sharma",
    customer_mobile="+919829100001",
    expire_by=datetime(2026, 12, 15, 10, 30, tzinfo=timezone.utc),
    callback_url="https://bills.example.in/payments/return",
)


@pytest_asyncio.fixture
async def gateway(http_double: HttpDouble) -> AsyncIterator[RazorpayGateway]:
    gateway = RazorpayGateway("rzp_key_fake", "test-key-secret", SECRET, http_double.base_url, 0.3)
    yield gateway
    await gateway.aclose()


@pytest.mark.asyncio
async def test_create_link_sends_our_reference_with_basic_auth(
    gateway: RazorpayGateway, http_double: HttpDouble
) -> None:
    http_double.reply(
        "POST",
        "/v1/payment_links",
        json_body={
            "id": "plink_FOGqq3O6E5bkml",
            "short_url": "https://rzp.io/i/nxrHnLJ",
            "status": "created",
        },
    )

    link = await gateway.create_link(REQUEST)

    assert (link.link_id, link.short_url) == ("plink_FOGqq3O6E5bkml", "https://rzp.io/i/nxrHnLJ")
    (request,) = http_double.received("POST", "/v1/payment_links")
    expected_auth = base64.b64encode(b"rzp_key_fake:test-key-secret").decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    sent = request.json()
    assert sent["amount"] == 310750 and sent["currency"] == "INR"
    assert sent["reference_id"] == sent["notes"]["reference_id"] == "pay_0123456789abcdef"
    assert sent["customer"] == {"name": "Ramesh Kumar Sharma", "contact": "+919829100001"}
    assert sent["expire_by"] == int(REQUEST.expire_by.timestamp())
    assert (sent["callback_url"], sent["callback_method"]) == (REQUEST.callback_url, "get")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "body", "delay_s"),
    [
        (400, {"error": {"description": "reference_id already exists"}}, 0.0),
        (502, {}, 0.0),
        (200, {"id": "plink_x"}, 0.0),  # no short_url
        (200, {}, 2.0),
    ],
    ids=["rejected", "server-error", "bad-body", "timeout"],
)
async def test_a_link_razorpay_does_not_create_is_gateway_unavailable(
    gateway: RazorpayGateway,
    http_double: HttpDouble,
    status: int,
    body: dict[str, Any],
    delay_s: float,
) -> None:
    http_double.reply("POST", "/v1/payment_links", status, json_body=body, delay_s=delay_s)

    with pytest.raises(PaymentGatewayUnavailable) as raised:
        await gateway.create_link(REQUEST)
    assert "reference_id" not in str(raised.value)


# --- webhooks --------------------------------------------------------------------------------
def _paid_body() -> bytes:
    """Razorpay's payment_link.paid sample, trimmed, for our link."""
    return json.dumps(
        {
            "entity": "event",
            "account_id": "acc_DKoeHMNpi0nC7k",
            "event": "payment_link.paid",
            "contains": ["payment_link", "order", "payment"],
            "payload": {
                "payment_link": {
                    "entity": {
                        "id": "plink_FOGqq3O6E5bkml",
                        "amount": 310750,
                        "amount_paid": 310750,
                        "reference_id": "pay_0123456789abcdef",
                        "status": "paid",
                    }
                },
                "order": {"entity": {"id": "order_FOGs9Hz3ZaAjsm", "status": "paid"}},
                "payment": {
                    "entity": {
                        "id": "pay_FOGsH8uHkF2FbR",
                        "amount": 310750,
                        "status": "captured",
                        "order_id": "order_FOGs9Hz3ZaAjsm",
                        "description": "#FOGqq3O6E5bkml",
                        "notes": [],
                    }
                },
            },
            "created_at": 1596890208,
        }
    ).encode()


def test_a_correctly_signed_payment_link_paid_is_a_paid_event(gateway: RazorpayGateway) -> None:
    body = _paid_body()

    event = gateway.parse_webhook(
        body, {"X-Razorpay-Signature": sign(body, SECRET), "X-Razorpay-Event-Id": "KsnJ8r3c0ZKcJQ"}
    )

    assert event is not None
    assert event.kind is PaymentEventKind.PAID
    assert (event.link_id, event.reference_id) == ("plink_FOGqq3O6E5bkml", "pay_0123456789abcdef")
    assert (event.gateway_payment_id, event.amount_paise) == ("pay_FOGsH8uHkF2FbR", 310750)
    # Deduplicated on what the signature covers, not on the (unsigned) delivery id.
    assert event.event_id == dedupe_key("payment_link.paid", "plink_FOGqq3O6E5bkml", "paid")


def test_header_names_are_case_insensitive_and_event_id_falls_back_to_the_body(
    gateway: RazorpayGateway,
) -> None:
    body = _paid_body()

    first = gateway.parse_webhook(body, {"x-razorpay-signature": sign(body, SECRET)})
    again = gateway.parse_webhook(body, {"X-RAZORPAY-SIGNATURE": sign(body, SECRET)})

    assert first is not None and again is not None
    # A redelivery of the same body is recognisably the same event.
    assert first.event_id == again.event_id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Razorpay-Signature": ""},
        {"X-Razorpay-Signature": sign(_paid_body(), "someone-elses-secret")},
        {"X-Razorpay-Signature": sign(_paid_body().replace(b"310750", b"100"), SECRET)},
    ],
    ids=["missing", "empty", "wrong-secret", "other-body"],
)
def test_a_missing_or_forged_signature_is_rejected(
    gateway: RazorpayGateway, headers: dict[str, str]
) -> None:
    with pytest.raises(SignatureInvalid):
        gateway.parse_webhook(_paid_body(), headers)


def test_no_secret_verifies_nothing() -> None:
    unconfigured = RazorpayGateway("rzp_key_fake", "test-key-secret", "", "http://127.0.0.1:9")
    body = _paid_body()

    with pytest.raises(SignatureInvalid):
        unconfigured.parse_webhook(body, {"X-Razorpay-Signature": sign(body, "")})


def _signed(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"X-Razorpay-Signature": sign(body, SECRET)}


def test_a_failed_link_payment_names_its_link_through_the_description(
    gateway: RazorpayGateway,
) -> None:
    body, headers = _signed(
        {
            "event": "payment.failed",
            "payload": {
                "payment": {
                    "entity": {
                        "id": "pay_DEAU825sJlCbGa",
                        "amount": 310750,
                        "status": "failed",
                        "order_id": "order_DEATVTRRctwEGb",
                        "description": "#FOGqq3O6E5bkml",
                        "notes": [],
                        "error_code": "BAD_REQUEST_ERROR",
                    }
                }
            },
        }
    )

    event = gateway.parse_webhook(body, headers)

    assert event is not None and event.kind is PaymentEventKind.FAILED
    assert (event.link_id, event.gateway_payment_id) == (
        "plink_FOGqq3O6E5bkml",
        "pay_DEAU825sJlCbGa",
    )


def test_an_expired_link_is_an_expired_event(gateway: RazorpayGateway) -> None:
    body, headers = _signed(
        {
            "event": "payment_link.expired",
            "payload": {
                "payment_link": {
                    "entity": {
                        "id": "plink_FOGqq3O6E5bkml",
                        "amount": 310750,
                        "reference_id": "pay_0123456789abcdef",
                        "status": "expired",
                    }
                }
            },
        }
    )

    event = gateway.parse_webhook(body, headers)

    assert event is not None and event.kind is PaymentEventKind.EXPIRED
    assert (event.link_id, event.reference_id) == ("plink_FOGqq3O6E5bkml", "pay_0123456789abcdef")


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_1"}}}},
        # A failed payment from checkout, not from a payment link.
        {
            "event": "payment.failed",
            "payload": {"payment": {"entity": {"id": "pay_1", "amount": 1, "description": None}}},
        },
        {"event": "payment_link.paid", "payload": {}},  # genuine but unreadable
    ],
    ids=["other-event", "failed-checkout-payment", "malformed"],
)
def test_genuine_events_we_do_not_act_on_are_none(
    gateway: RazorpayGateway, payload: dict[str, Any]
) -> None:
    body, headers = _signed(payload)

    assert gateway.parse_webhook(body, headers) is None


def test_an_authorized_link_payment_is_pending_news(gateway: RazorpayGateway) -> None:
    body, headers = _signed(
        {
            "event": "payment.authorized",
            "payload": {
                "payment": {
                    "entity": {
                        "id": "pay_DEAU825sJlCbGb",
                        "amount": 310750,
                        "status": "authorized",
                        "description": "#FOGqq3O6E5bkml",
                        "notes": [],
                    }
                }
            },
        }
    )

    event = gateway.parse_webhook(body, headers)

    assert event is not None and event.kind is PaymentEventKind.PENDING
    assert event.link_id == "plink_FOGqq3O6E5bkml"
