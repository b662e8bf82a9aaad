"""Redis or PostgreSQL down: the resident is told to try again shortly, nothing runs half-way,
and the gateway never answers with a bare 500."""

from __future__ import annotations

import httpx

from app.gateway.app import create_app
from bot.services.turns import TurnService
from channels.webchat import UNAVAILABLE_TEXT
from integrations.cache.turn_locks import RedisConversationLocks
from tests.fakes import FakeDialogueEngine
from tests.gateway.conftest import BASE_URL, ContainerFactory, web_sender
from tests.gateway.rasa_double import free_port

CLOSED_REDIS = f"redis://127.0.0.1:{free_port()}/0"


async def test_redis_down_the_web_chat_says_try_again_and_runs_no_turn(
    make_container: ContainerFactory, dialogue: FakeDialogueEngine
) -> None:
    container = await make_container()
    container.turns = TurnService(container.uow, container.clock, dialogue)
    app = create_app(container)
    app.state.turn_locks = RedisConversationLocks.from_url(CLOSED_REDIS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(
            "/webchat/messages", json={"sender": web_sender("r-1"), "text": "hi"}
        )
    await app.state.turn_locks.close()

    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert response.json()["messages"][0]["text"] == UNAVAILABLE_TEXT
    assert dialogue.turns == []  # no turn ran without its lock


async def test_postgresql_down_is_try_again_not_a_500(make_container: ContainerFactory) -> None:
    container = await make_container(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    )
    transport = httpx.ASGITransport(app=create_app(container), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(
            "/webchat/messages", json={"sender": web_sender("p-1"), "text": "hi"}
        )
        polled = await client.get("/webchat/messages", params={"sender": web_sender("p-1")})

    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert response.json()["messages"][0]["text"] == UNAVAILABLE_TEXT
    assert polled.status_code == 503
