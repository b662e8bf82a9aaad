"""GET /receipts/{number}.pdf: the signed link is the only key."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from app.bootstrap import Container
from bot.model.residents import Language
from tests.fakes import FakeClock
from tests.gateway.conftest import OpenPayment, razorpay_event, signed

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def receipt_url(client: httpx.AsyncClient, open_payment: OpenPayment) -> str:
    payment = open_payment.payment
    assert payment.link_id
    body = razorpay_event(
        "payment_link.paid", payment.link_id, payment.payment_id, payment.total_paise
    )
    raw, headers = signed(body, "evt_Receipt0001")
    assert (
        await client.post("/webhooks/payments", content=raw, headers=headers)
    ).status_code == 200
    messages = (
        await client.get("/webchat/messages", params={"sender": open_payment.sender})
    ).json()
    return str(messages["messages"][0]["attachment"]["url"])


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    path = changes.pop("path", parts.path)
    query.pop("path", None)
    return f"{path}?{urlencode(query)}"


async def test_the_pushed_link_downloads_the_pdf(
    client: httpx.AsyncClient, receipt_url: str
) -> None:
    response = await client.get(receipt_url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    number = urlsplit(receipt_url).path.removeprefix("/receipts/").removesuffix(".pdf")
    assert f'filename="receipt-{number}.pdf"' in response.headers["content-disposition"]
    assert "no-store" in response.headers["cache-control"]
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    "change",
    [
        {"sig": "0" * 64},
        {"sig": "é" * 64},
        {"expires": "²"},
        {"lang": "hi"},  # the resident's link is English
        {"expires": "9999999999"},
        {"expires": "99999999999999999"},  # past the year 9999
        {"path": "/receipts/RJB000000DEADBEEF.pdf"},
    ],
)
async def test_a_tampered_link_is_403(
    client: httpx.AsyncClient, receipt_url: str, change: dict[str, str]
) -> None:
    response = await client.get(tampered(receipt_url, **change))
    assert response.status_code == 403


async def test_a_link_without_its_signature_is_403(
    client: httpx.AsyncClient, receipt_url: str
) -> None:
    path = urlsplit(receipt_url).path
    assert (await client.get(path)).status_code == 403


async def test_an_expired_link_is_403(
    client: httpx.AsyncClient, receipt_url: str, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=24, minutes=1))
    assert (await client.get(receipt_url)).status_code == 403


async def test_a_genuine_link_to_a_receipt_that_does_not_exist_is_404(
    client: httpx.AsyncClient, container: Container
) -> None:
    url = container.receipt_links.url_for("RJB000000NOTPAID", Language.EN)
    assert (await client.get(url)).status_code == 404
