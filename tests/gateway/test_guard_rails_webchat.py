"""Secrets typed into the web chat never reach the dialogue engine; the resident is warned."""

from __future__ import annotations

import httpx
import pytest

from app.bootstrap import Container
from app.gateway.app import create_app
from tests.fakes import FakeDialogueEngine
from tests.gateway.conftest import BASE_URL, web_sender

pytestmark = pytest.mark.asyncio


async def say(container: Container, text: str) -> list[str]:
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(
            "/webchat/messages", json={"sender": web_sender("s-1"), "text": text}
        )
    assert response.status_code == 200
    return [m["text"] for m in response.json()["messages"]]


async def test_a_password_typed_in_the_web_chat_never_reaches_the_dialogue(
    container: Container, dialogue: FakeDialogueEngine
) -> None:
    texts = await say(container, "my password is Jaipur@2024")
    assert texts[0].startswith("For your safety")
    assert [text for _, text, _ in dialogue.turns] == ["my password is"]


async def test_a_card_number_alone_gets_the_warning_and_no_turn(
    container: Container, dialogue: FakeDialogueEngine
) -> None:
    texts = await say(container, "4111-1111-1111-1111")
    assert len(texts) == 1 and texts[0].startswith("For your safety")
    assert dialogue.turns == []


async def test_a_consumer_number_still_goes_through(
    container: Container, dialogue: FakeDialogueEngine
) -> None:
    # BESL's 710634567890 passes the Aadhaar check digit, and residents type it 4-4-4.
    assert await say(container, "7106 3456 7890") == ["[en] 7106 3456 7890"]
    assert await say(container, "210145678912") == ["[en] 210145678912"]
