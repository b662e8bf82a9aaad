"""GET /healthz: 200 only when Rasa has a model loaded and the action server answers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.gateway.app import create_app
from tests.gateway.conftest import BASE_URL, ContainerFactory
from tests.gateway.rasa_double import RasaDouble

pytestmark = pytest.mark.asyncio


@pytest.fixture
def rasa() -> Iterator[RasaDouble]:
    double = RasaDouble(token="rasa-test-token").start()
    yield double
    double.stop()


async def healthz(make_container: ContainerFactory, **ports: int) -> httpx.Response:
    app = create_app(await make_container(**ports))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as client:
        return await client.get("/healthz")


async def test_healthy_when_rasa_has_a_model_and_actions_answer(
    make_container: ContainerFactory, rasa: RasaDouble
) -> None:
    # One double serves both Rasa's /status and the action server's /health.
    response = await healthz(make_container, rasa_port=rasa.port, action_server_port=rasa.port)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "gateway": "ok", "rasa": "ok", "actions": "ok"}


async def test_503_naming_rasa_and_actions_when_both_are_down(
    make_container: ContainerFactory,
) -> None:
    response = await healthz(make_container)  # both on closed ports

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["rasa", "actions"]


async def test_rasa_without_a_model_counts_as_down(
    make_container: ContainerFactory, rasa: RasaDouble
) -> None:
    rasa.status_body = {"model_id": None, "model_file": None}

    response = await healthz(make_container, rasa_port=rasa.port, action_server_port=rasa.port)

    assert response.status_code == 503
    assert response.json()["down"] == ["rasa"]
