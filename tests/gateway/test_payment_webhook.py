"""POST /webhooks/payments: only a genuine, first delivery changes anything."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx
import pytest

from app.bootstrap import Container
from app.gateway.app import create_app
from bot.model.payments import PaymentStatus
from integrations.billers.catalog import load_billers
from integrations.sandbox import Sandbox
from tests.gateway.conftest import BASE_URL, WEBHOOK_SECRET, OpenPayment, razorpay_event, signed

pytestmark = pytest.mark.asyncio


def paid_event(open_payment: OpenPayment) -> dict:
    payment = open_payment.payment
    assert payment.link_id
    return razorpay_event(
        "payment_link.paid", payment.link_id, payment.payment_id, payment.total_paise
    )


async def status_of(container: Container, open_payment: OpenPayment) -> PaymentStatus:
    async with container.uow() as tx:
        payment = await tx.payments.get(open_payment.payment.payment_id)
    assert payment is not None
    return payment.status


async def pushed(client: httpx.AsyncClient, sender: str) -> list[dict]:
    response = await client.get("/webchat/messages", params={"sender": sender})
    return response.json()["messages"]


async def test_a_paid_webhook_marks_the_payment_paid_and_pushes_one_receipt(
    client: httpx.AsyncClient, container: Container, open_payment: OpenPayment
) -> None:
    raw, headers = signed(paid_event(open_payment), event_id="evt_T3stEvent0001")

    response = await client.post("/webhooks/payments", content=raw, headers=headers)

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    assert await status_of(container, open_payment) is PaymentStatus.PAID
    [receipt] = await pushed(client, open_payment.sender)
    attachment = receipt["attachment"]
    assert attachment["mime"] == "application/pdf"
    assert attachment["filename"].endswith(".pdf")
    url = urlsplit(attachment["url"])
    assert f"{url.scheme}://{url.netloc}" == BASE_URL
    assert url.path.startswith("/receipts/") and "sig=" in url.query and "expires=" in url.query


async def test_a_replayed_or_repeated_webhook_changes_nothing(
    client: httpx.AsyncClient, container: Container, open_payment: OpenPayment
) -> None:
    raw, headers = signed(paid_event(open_payment), event_id="evt_T3stEvent0001")
    await client.post("/webhooks/payments", content=raw, headers=headers)

    replay = await client.post("/webhooks/payments", content=raw, headers=headers)
    raw2, headers2 = signed(paid_event(open_payment), event_id="evt_T3stEvent0002")
    same_news = await client.post("/webhooks/payments", content=raw2, headers=headers2)

    # 200, so the gateway stops retrying; one receipt only. The same signed news under
    # another delivery id is a duplicate too: the id header is not signed.
    assert (replay.status_code, replay.json()) == (200, {"status": "duplicate"})
    assert (same_news.status_code, same_news.json()) == (200, {"status": "duplicate"})
    assert len(await pushed(client, open_payment.sender)) == 1


async def test_a_forged_webhook_is_403_and_changes_nothing(
    client: httpx.AsyncClient,
    container: Container,
    open_payment: OpenPayment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw, headers = signed(paid_event(open_payment), "evt_F0rged", secret="not-the-secret")
    unsigned = {k: v for k, v in headers.items() if k != "X-Razorpay-Signature"}

    with caplog.at_level(logging.WARNING):
        forged = await client.post("/webhooks/payments", content=raw, headers=headers)
        missing = await client.post("/webhooks/payments", content=raw, headers=unsigned)

    assert forged.status_code == missing.status_code == 403
    assert await status_of(container, open_payment) is PaymentStatus.CREATED
    assert await pushed(client, open_payment.sender) == []
    warnings = [r for r in caplog.records if r.name == "app.gateway.payments"]
    assert len(warnings) == 2
    assert all(open_payment.payment.payment_id not in r.getMessage() for r in warnings)

    # The genuine delivery afterwards still counts: the forgery did not burn its event id.
    raw, headers = signed(paid_event(open_payment), "evt_F0rged")
    assert (await client.post("/webhooks/payments", content=raw, headers=headers)).json() == {
        "status": "processed"
    }


async def test_an_event_for_an_unknown_link_is_200_and_changes_nothing(
    client: httpx.AsyncClient, container: Container, open_payment: OpenPayment
) -> None:
    body = razorpay_event("payment_link.paid", "plink_N0tOurs000001", "pay_unknown", 10000)
    raw, headers = signed(body, "evt_Unknown0001")

    response = await client.post("/webhooks/payments", content=raw, headers=headers)

    assert (response.status_code, response.json()) == (200, {"status": "unknown_link"})
    assert await status_of(container, open_payment) is PaymentStatus.CREATED
    assert await pushed(client, open_payment.sender) == []


async def test_an_event_we_do_not_act_on_is_ignored(client: httpx.AsyncClient) -> None:
    raw, headers = signed({"entity": "event", "event": "refund.created", "payload": {}}, "evt_R1")
    response = await client.post("/webhooks/payments", content=raw, headers=headers)
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})


async def test_the_browser_return_page_changes_nothing(
    client: httpx.AsyncClient, container: Container, open_payment: OpenPayment
) -> None:
    forged_redirect = {
        "razorpay_payment_id": "pay_Forged",
        "razorpay_payment_link_id": open_payment.payment.link_id,
        "razorpay_payment_link_reference_id": open_payment.payment.payment_id,
        "razorpay_payment_link_status": "paid",
        "razorpay_signature": "0" * 64,
    }

    response = await client.get("/payments/return", params=forged_redirect)

    assert response.status_code == 200
    assert "your receipt will arrive in the chat" in response.text
    assert "रसीद चैट में आएगी" in response.text
    assert await status_of(container, open_payment) is PaymentStatus.CREATED


async def test_the_sandbox_pay_button_reaches_the_webhook_and_pays(
    client: httpx.AsyncClient, container: Container, open_payment: OpenPayment
) -> None:
    """The sandbox signs and delivers as Razorpay does; the gateway accepts it."""
    app = create_app(container)
    settings = container.settings
    cashier = Sandbox(
        engine=container.engine,
        billers=load_billers(),
        public_base_url=settings.public_base_url,
        webhook_url=f"{BASE_URL}/webhooks/payments",
        webhook_secret=WEBHOOK_SECRET,
        clock=container.clock,
        webhook_transport=httpx.ASGITransport(app=app),
    )
    assert open_payment.payment.link_id

    webhook_status = await cashier.settle(open_payment.payment.link_id, "success")

    assert webhook_status == 200
    assert await status_of(container, open_payment) is PaymentStatus.PAID
    assert len(await pushed(client, open_payment.sender)) == 1
