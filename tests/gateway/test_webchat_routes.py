"""The web chat endpoints of CONTRACTS.md: one turn per POST, pushed messages by polling."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import pytest

from app.bootstrap import Container
from bot.model.outbound import Attachment, Button, OutboundMessage
from bot.model.residents import Channel, Language
from bot.services.turns import TurnService
from tests.fakes import FakeDialogueEngine
from tests.gateway.conftest import GatedDialogue, web_sender

pytestmark = pytest.mark.asyncio

MSG_KEYS = {"text", "buttons", "attachment"}


async def test_a_turn_returns_the_replies_as_contract_messages(
    client: httpx.AsyncClient, dialogue: FakeDialogueEngine
) -> None:
    dialogue.replies = [
        OutboundMessage(
            text="Which bill?",
            buttons=(Button("Electricity", '/inform{"utility":"electricity"}'),),
        ),
        OutboundMessage(
            text="Receipt",
            attachment=Attachment(
                "http://gateway.test/receipts/R1.pdf?sig=x", "receipt-R1.pdf", "application/pdf"
            ),
        ),
    ]

    response = await client.post(
        "/webchat/messages", json={"sender": web_sender("abc123"), "text": "check bill"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "messages": [
            {
                "text": "Which bill?",
                "buttons": [
                    {"title": "Electricity", "payload": '/inform{"utility":"electricity"}'}
                ],
                "attachment": None,
            },
            {
                "text": "Receipt",
                "buttons": [],
                "attachment": {
                    "url": "http://gateway.test/receipts/R1.pdf?sig=x",
                    "filename": "receipt-R1.pdf",
                    "mime": "application/pdf",
                },
            },
        ]
    }


async def test_the_dialogue_sees_an_opaque_conversation_id_and_the_language(
    client: httpx.AsyncClient, dialogue: FakeDialogueEngine, container: Container
) -> None:
    await client.post(
        "/webchat/messages", json={"sender": web_sender("abc123"), "text": "मेरा बिजली का बिल"}
    )
    await client.post(
        "/webchat/messages", json={"sender": web_sender("abc123"), "text": "/payment_history"}
    )

    conversation = await container.conversations.open(Channel.WEBCHAT, web_sender("abc123"))
    assert [(c, lang) for c, _, lang in dialogue.turns] == [
        (conversation.conversation_id, Language.HI),
        (conversation.conversation_id, Language.HI),
    ]
    assert conversation.conversation_id != web_sender("abc123")
    # A button's payload typed as text reaches the dialogue unchanged (CONTRACTS.md).
    assert dialogue.turns[1][1] == "/payment_history"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"sender": "", "text": "hi"}, "sender", "sender must be 1-64 characters"),
        ({"sender": "x" * 65, "text": "hi"}, "sender", "sender must be 1-64 characters"),
        ({"sender": "<script>", "text": "hi"}, "sender", "sender must be 1-64 characters"),
        ({"sender": web_sender("abc"), "text": ""}, "text", "text must not be empty"),
        ({"sender": web_sender("abc"), "text": "   \n "}, "text", "text must not be empty"),
        (
            {"sender": web_sender("abc"), "text": "x" * 1001},
            "text",
            "text must be at most 1000 characters",
        ),
        ({"sender": web_sender("abc"), "text": 42}, "text", "str"),
        ({"sender": web_sender("abc")}, "text", "Field required"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: httpx.AsyncClient, dialogue: FakeDialogueEngine, body: dict, field: str, message: str
) -> None:
    response = await client.post("/webchat/messages", json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == field
    assert message in error["msg"]
    assert dialogue.turns == []


async def test_a_dialogue_outage_is_503_with_a_bilingual_message(
    client: httpx.AsyncClient, dialogue: FakeDialogueEngine
) -> None:
    dialogue.unavailable = True

    response = await client.post(
        "/webchat/messages", json={"sender": web_sender("abc"), "text": "hi"}
    )

    assert response.status_code == 503
    [message] = response.json()["messages"]
    assert set(message) == MSG_KEYS
    assert "try again" in message["text"]
    assert "कृपया" in message["text"]


async def test_turns_of_one_conversation_never_overlap_but_conversations_do(
    client: httpx.AsyncClient, container: Container
) -> None:
    gated = GatedDialogue()
    container.turns = TurnService(container.uow, container.clock, gated)
    # Open both conversations first, so the test measures the turns, not their creation.
    for sender in (web_sender("alice"), web_sender("bob")):
        await client.post("/webchat/messages", json={"sender": sender, "text": "hello"})
    gated.max_per_conversation = gated.max_overall = 0

    await asyncio.gather(
        *(
            client.post("/webchat/messages", json={"sender": sender, "text": f"message {i}"})
            for i in range(4)
            for sender in (web_sender("alice"), web_sender("bob"))
        )
    )

    assert gated.max_per_conversation == 1
    assert gated.max_overall == 2


# --- pushed messages -------------------------------------------------------------------------
async def push(container: Container, sender: str, text: str) -> int:
    await container.webchat_sessions.resolve(
        sender, from_contract=True
    )  # the sender's session, as a turn would
    conversation = await container.conversations.open(Channel.WEBCHAT, sender)
    async with container.uow() as tx:
        sequence = await tx.outbox.push(
            conversation.conversation_id, OutboundMessage(text=text), datetime.now(timezone.utc)
        )
        await tx.commit()
    return sequence


async def poll(client: httpx.AsyncClient, sender: str, after: str | None = None) -> dict:
    params = {"sender": sender} | ({"after": after} if after is not None else {})
    response = await client.get("/webchat/messages", params=params)
    assert response.status_code == 200
    return response.json()


async def test_an_unknown_sender_has_nothing_pushed(client: httpx.AsyncClient) -> None:
    assert await poll(client, web_sender("never-seen")) == {"messages": [], "cursor": "0"}
    assert await poll(client, web_sender("never-seen"), after="7") == {
        "messages": [],
        "cursor": "7",
    }


async def test_polling_with_the_cursor_returns_each_pushed_message_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    await push(container, web_sender("alice"), "first")
    await push(container, web_sender("bob"), "for bob")
    last = await push(container, web_sender("alice"), "second")

    everything = await poll(client, web_sender("alice"))
    assert [m["text"] for m in everything["messages"]] == ["first", "second"]
    assert all(set(m) == MSG_KEYS for m in everything["messages"])
    assert everything["cursor"] == str(last)

    assert await poll(client, web_sender("alice"), everything["cursor"]) == {
        "messages": [],
        "cursor": everything["cursor"],
    }

    await push(container, web_sender("alice"), "third")
    newer = await poll(client, web_sender("alice"), everything["cursor"])
    assert [m["text"] for m in newer["messages"]] == ["third"]
    assert int(newer["cursor"]) > last


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sender": web_sender("alice"), "after": web_sender("abc")}, "after"),
        ({"sender": web_sender("alice"), "after": "-1"}, "after"),
        ({"sender": "bad sender!"}, "sender"),
    ],
)
async def test_bad_polls_are_422(client: httpx.AsyncClient, params: dict, field: str) -> None:
    response = await client.get("/webchat/messages", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


# --- the page --------------------------------------------------------------------------------
async def test_the_chat_page_and_its_assets_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Rajasthan Bill Assistant" in page.text and "राजस्थान बिल सहायक" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # no external assets

    for asset, kind in (("/static/chat.js", "javascript"), ("/static/chat.css", "text/css")):
        response = await client.get(asset)
        assert response.status_code == 200
        assert kind in response.headers["content-type"]
