"""The sandbox's pages through HTTP: the SMS inbox and the pay page with its Pay/Fail POST."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.gateway.sandbox import sandbox_router
from bot.ports import PaymentLinkRequest
from integrations.billers.catalog import load_billers
from integrations.db.engine import make_engine
from integrations.payments.razorpay_webhook import parse_webhook
from integrations.sandbox import Sandbox
from tests.doubles.http_double import HttpDouble
from tests.fakes import FakeClock

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture
pytestmark = pytest.mark.asyncio

SECRET = "test-webhook-secret"
NOW = datetime(2026, 12, 15, 5, 30, tzinfo=timezone.utc)


@pytest_asyncio.fixture
async def sandbox(tmp_path: Path, http_double: HttpDouble) -> AsyncIterator[Sandbox]:
    engine = make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    sandbox = Sandbox(
        engine=engine,
        billers=load_billers(),
        public_base_url="http://testserver",
        webhook_url=http_double.base_url + "/webhooks/payments",
        webhook_secret=SECRET,
        clock=FakeClock(NOW),
    )
    await sandbox.apply_seed()
    http_double.reply("POST", "/webhooks/payments", json_body={"status": "processed"})
    yield sandbox
    await engine.dispose()


@pytest_asyncio.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(sandbox_router(sandbox))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _link(sandbox: Sandbox) -> str:
    link = await sandbox.payments.create_link(
        PaymentLinkRequest(
            reference_id="pay_ref0000000001",
            amount_paise=310750,
            description="JVVNL bill JV2612-4567891",
            customer_name="Ramesh Kumar Sharma",
            customer_mobile="+919829100001",
            expire_by=NOW + timedelta(minutes=30),
            callback_url="http://testserver/payments/return",
        )
    )
    return link.link_id


@pytest.mark.parametrize("query", ["to=%2B919829100001", "to=+919829100001", "to=919829100001"])
async def test_the_sms_inbox_accepts_the_number_with_or_without_an_escaped_plus(
    sandbox: Sandbox, client: httpx.AsyncClient, query: str
) -> None:
    await sandbox.sms.send_sms("+919829100001", "Your code is 123456")

    response = await client.get(f"/sandbox/sms?{query}")

    assert response.status_code == 200
    assert [m["text"] for m in response.json()["messages"]] == ["Your code is 123456"]


async def test_the_pay_page_shows_the_amount_in_rupees_and_both_buttons(
    sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    link_id = await _link(sandbox)

    response = await client.get(f"/sandbox/pay/{link_id}")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    page = response.text
    assert "₹3,107.50" in page and "JVVNL bill JV2612-4567891" in page
    assert "Pay / भुगतान करें" in page and "Fail / असफल करें" in page
    assert "http://" not in page.replace("http://testserver", "")  # no external assets


async def test_paying_through_the_page_delivers_a_verifiable_webhook(
    sandbox: Sandbox, client: httpx.AsyncClient, http_double: HttpDouble
) -> None:
    link_id = await _link(sandbox)

    response = await client.post(f"/sandbox/pay/{link_id}", json={"outcome": "success"})

    assert response.status_code == 200
    assert response.json() == {"status": "paid", "webhook_status": 200}
    (delivery,) = http_double.received("POST", "/webhooks/payments")
    event = parse_webhook(delivery.body, delivery.headers, SECRET)
    assert event is not None and event.link_id == link_id
    page = await client.get(f"/sandbox/pay/{link_id}")
    assert "Pay / भुगतान करें" not in page.text  # a paid link offers no buttons


async def test_a_failed_attempt_is_reported_as_failed(
    sandbox: Sandbox, client: httpx.AsyncClient
) -> None:
    link_id = await _link(sandbox)

    response = await client.post(f"/sandbox/pay/{link_id}", json={"outcome": "failure"})

    assert response.json() == {"status": "failed", "webhook_status": 200}


async def test_settling_twice_is_a_conflict(sandbox: Sandbox, client: httpx.AsyncClient) -> None:
    link_id = await _link(sandbox)
    await client.post(f"/sandbox/pay/{link_id}", json={"outcome": "success"})

    response = await client.post(f"/sandbox/pay/{link_id}", json={"outcome": "success"})

    assert response.status_code == 409


async def test_unknown_links_and_outcomes_are_refused(
    sandbox: Sandbox, client: httpx.AsyncClient, http_double: HttpDouble
) -> None:
    link_id = await _link(sandbox)

    unknown_page = await client.get("/sandbox/pay/plink_NoSuchLink0000")
    unknown_link = await client.post(
        "/sandbox/pay/plink_NoSuchLink0000", json={"outcome": "success"}
    )
    bad_outcome = await client.post(f"/sandbox/pay/{link_id}", json={"outcome": "maybe"})

    assert (unknown_page.status_code, unknown_link.status_code) == (404, 404)
    assert bad_outcome.status_code == 422
    assert http_double.received("POST", "/webhooks/payments") == []
