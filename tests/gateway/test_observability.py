"""What operators see: Prometheus metrics, readiness, and JSON log lines without identifiers."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY

from app.bootstrap import Container
from app.gateway.app import create_app
from bot.errors import BillerUnavailable
from integrations.billers.metered import MeteredBillerDirectory
from integrations.db.engine import make_engine
from integrations.log_redaction import JsonFormatter, RedactingFilter
from integrations.rasa.client import RasaDialogueEngine
from tests.fakes import FakeBillerDirectory
from tests.gateway.conftest import BASE_URL, ContainerFactory, web_sender
from tests.gateway.rasa_double import RasaDouble


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_web_chat_turn_is_timed_per_channel(client: httpx.AsyncClient) -> None:
    before = sample("bot_turn_seconds_count", channel="webchat", outcome="ok")
    response = await client.post(
        "/webchat/messages", json={"sender": web_sender("metrics-1"), "text": "hi"}
    )
    assert response.status_code == 200

    scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert sample("bot_turn_seconds_count", channel="webchat", outcome="ok") == before + 1
    assert 'bot_turn_seconds_bucket{channel="webchat"' in scraped.text
    assert web_sender("metrics-1") not in scraped.text  # no resident identifier in any label


async def test_a_failed_turn_is_counted_as_an_error(
    make_container: ContainerFactory,
) -> None:
    container = await make_container()  # Rasa points at a closed port
    before = sample("bot_turn_seconds_count", channel="webchat", outcome="error")
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(
            "/webchat/messages", json={"sender": web_sender("m-2"), "text": "hi"}
        )
    assert response.status_code == 503
    assert sample("bot_turn_seconds_count", channel="webchat", outcome="error") == before + 1


async def test_queue_depths_are_reported_when_channels_run(
    make_container: ContainerFactory,
) -> None:
    container = await make_container()
    app = create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            scraped = await client.get("/metrics")
    assert 'bot_queue_depth{queue="inbox"} 0.0' in scraped.text
    assert 'bot_queue_depth{queue="outbox"} 0.0' in scraped.text


@pytest.fixture
async def ready_container(make_container: ContainerFactory) -> AsyncIterator[Container]:
    rasa = RasaDouble().start()
    container = await make_container()
    await container.dialogue.close()
    container.dialogue = RasaDialogueEngine(rasa.url, rasa.token, timeout_s=2.0)
    yield container
    rasa.stop()


async def test_ready_when_the_database_and_rasa_answer(ready_container: Container) -> None:
    transport = httpx.ASGITransport(app=create_app(ready_container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "rasa": "ok"}


async def test_rasa_down_is_degraded_but_ready_to_keep_channel_messages(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/readyz")  # Rasa points at a closed port
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["down"] == ["rasa"]


async def test_not_ready_without_its_database(ready_container: Container) -> None:
    await ready_container.engine.dispose()
    ready_container.engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    transport = httpx.ASGITransport(app=create_app(ready_container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


async def test_not_ready_while_shutting_down(ready_container: Container) -> None:
    app = create_app(ready_container)
    app.state.draining = True
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "draining"}


async def test_biller_calls_are_timed_by_outcome() -> None:
    inner = FakeBillerDirectory()
    billers = MeteredBillerDirectory(inner)
    biller = billers.billers()[0]
    ok_before = sample("bot_biller_seconds_count", operation="fetch_bill", outcome="ok")
    error_before = sample("bot_biller_seconds_count", operation="fetch_bill", outcome="error")
    inner.unavailable = True
    with pytest.raises(BillerUnavailable):
        await billers.fetch_bill(biller, "210145678912", "+919829100001")
    assert sample("bot_biller_seconds_count", operation="fetch_bill", outcome="error") == (
        error_before + 1
    )
    assert sample("bot_biller_seconds_count", operation="fetch_bill", outcome="ok") == ok_before


def test_json_log_lines_mask_identifiers_in_messages_and_tracebacks() -> None:
    try:
        raise RuntimeError("send to +919829100001 failed")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "channels", logging.ERROR, __file__, 1, "GET /x?sender=%s", ("abcdef123456",), exc_info
    )
    RedactingFilter().filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "channels"
    assert entry["message"] == "GET /x?sender=••••3456"
    assert "919829100001" not in line and "RuntimeError" in entry["exception"]
    assert entry["time"].endswith("+00:00")
