"""GET /bills/<resident>/<account>.pdf: the signed link a resident gets for "bill ki copy
bhejo", with the bill fetched through the real BBPS adapter from an HTTP double on 127.0.0.1
when the link is opened; a company that is down, a tampered or stale link, an account that is
gone: a plain answer, and nothing changes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from app.bootstrap import Container
from app.gateway.app import create_app
from bot.model.residents import Language
from tests.doubles.http_double import HttpDouble
from tests.fakes import FakeClock
from tests.gateway.conftest import (
    BASE_URL,
    JVVNL,
    RAMESH_NUMBER,
    ContainerFactory,
    link_webchat,
    web_sender,
)

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture
pytestmark = pytest.mark.asyncio

FETCH = "/bbps/v1/bill/fetch"
BILL = {
    "responseCode": "000",
    "billerResponse": {
        "customerName": "Ramesh Kumar Sharma",
        "billAmount": "310750",
        "billDate": "2026-12-05",
        "billNumber": "JV2612-4567891",
        "billPeriod": "NOV-2026",
        "dueDate": "2026-12-20",
    },
}


@pytest.fixture
async def bbps_container(make_container: ContainerFactory, http_double: HttpDouble) -> Container:
    return await make_container(
        biller_backend="bbps",
        bbps_api_base_url=http_double.base_url + "/",
        bbps_api_key=SecretStr("test-bbps-key"),
        integration_timeout_s=0.5,
    )


@pytest.fixture
async def client(bbps_container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(bbps_container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


async def link_of(container: Container, http_double: HttpDouble, language: Language) -> str:
    """Ramesh's chat, his JVVNL bill looked at once (the account saved), and his link."""
    http_double.reply("POST", FETCH, json_body=BILL)
    chat = await link_webchat(container, web_sender("bill-copy-ramesh"), "ramesh.kumar")
    await container.billing.fetch(chat, JVVNL, RAMESH_NUMBER)
    url = await container.bill_copies.link_for(chat, JVVNL, RAMESH_NUMBER, language)
    assert url.startswith(f"{BASE_URL}/bills/")
    return url.removeprefix(BASE_URL)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext missing (poppler-utils): run scripts/install-system-deps.sh")
    (tmp_path / "bill.pdf").write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "bill.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.mark.parametrize(
    ("language", "title"), [(Language.EN, "Bill copy"), (Language.HI, "बिल की प्रति")]
)
async def test_the_link_downloads_the_bill_as_the_company_reports_it_now(
    client: httpx.AsyncClient,
    bbps_container: Container,
    http_double: HttpDouble,
    language: Language,
    title: str,
    tmp_path: Path,
) -> None:
    url = await link_of(bbps_container, http_double, language)
    fetches = len(http_double.received("POST", FETCH))

    response = await client.get(url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="bill-JVVNL-8912.pdf"' in response.headers["content-disposition"]
    assert "no-store" in response.headers["cache-control"]
    assert len(http_double.received("POST", FETCH)) == fetches + 1  # fetched when opened
    # Without spaces: pdftotext puts one after a Hindi i-matra (test_pdf_receipts.py, xfail).
    text = "".join(pdf_text(response.content, tmp_path).split())
    for value in (title, "JV2612-4567891", "₹3,107.50", "••••8912", "Ra***Ku***Sh***"):
        assert "".join(value.split()) in text
    assert RAMESH_NUMBER not in text and RAMESH_NUMBER not in url


@pytest.mark.parametrize(
    ("status", "body"), [(503, {"error": "maintenance"}), (200, {"responseCode": "999x"})]
)
async def test_a_company_that_is_down_gets_a_plain_answer_in_the_links_language(
    client: httpx.AsyncClient,
    bbps_container: Container,
    http_double: HttpDouble,
    status: int,
    body: dict,
) -> None:
    url = await link_of(bbps_container, http_double, Language.HI)
    http_double.reply("POST", FETCH, status=status, json_body=body)

    response = await client.get(url)

    if status == 503:
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert "कंपनी अभी जवाब नहीं दे रही" in response.text
    else:  # the company no longer knows the number
        assert response.status_code == 404
        assert "उपलब्ध नहीं" in response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert "Traceback" not in response.text and "maintenance" not in response.text


async def test_nothing_is_saved_or_changed_by_a_failed_download(
    client: httpx.AsyncClient, bbps_container: Container, http_double: HttpDouble
) -> None:
    url = await link_of(bbps_container, http_double, Language.EN)
    http_double.reply("POST", FETCH, status=503, json_body={})
    async with bbps_container.uow() as tx:
        before = await tx.accounts.list_for("resident-ramesh.kumar")

    assert (await client.get(url)).status_code == 503

    async with bbps_container.uow() as tx:
        assert await tx.accounts.list_for("resident-ramesh.kumar") == before


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    path = changes.pop("path", parts.path)
    return f"{path}?{urlencode(query | changes)}"


@pytest.mark.parametrize(
    "change",
    [
        {"sig": "0" * 32},
        {"sig": "é" * 32},
        {"sig": ""},
        {"expires": "²"},
        {"lang": "hi"},  # the resident's link is English
        {"lang": "fr"},
        {"expires": "9999999999"},
        {"path": "/bills/resident-ramesh.kumar/0000000000000000.pdf"},
        {"path": "/bills/resident-sunita/0000000000000000.pdf"},
    ],
)
async def test_a_tampered_link_is_403_in_both_languages(
    client: httpx.AsyncClient,
    bbps_container: Container,
    http_double: HttpDouble,
    change: dict[str, str],
) -> None:
    url = await link_of(bbps_container, http_double, Language.EN)
    fetches = len(http_double.requests)

    response = await client.get(tampered(url, **change))

    assert response.status_code == 403
    assert "not valid or has expired" in response.text and "पुराना हो गया" in response.text
    assert len(http_double.requests) == fetches  # nothing was fetched for it


async def test_a_link_opened_after_a_day_is_403(
    client: httpx.AsyncClient, bbps_container: Container, http_double: HttpDouble
) -> None:
    url = await link_of(bbps_container, http_double, Language.EN)
    clock = bbps_container.clock
    assert isinstance(clock, FakeClock)

    clock.advance(timedelta(hours=24, seconds=1))

    assert (await client.get(url)).status_code == 403


async def test_a_genuine_link_to_an_account_that_is_gone_is_404(
    client: httpx.AsyncClient, bbps_container: Container, http_double: HttpDouble
) -> None:
    await link_of(bbps_container, http_double, Language.EN)
    url = bbps_container.bill_copy_links.url_for(
        "resident-ramesh.kumar", "not-an-account", Language.EN
    )

    response = await client.get(url.removeprefix(BASE_URL))

    assert response.status_code == 404
    assert "no longer available" in response.text
