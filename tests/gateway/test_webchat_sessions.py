"""Web chat session ids (issue 13, finding 10): issued by the server with 256 random bits,
sent in a header, expiring after idle time and after a maximum age, and refused politely
(in both languages) when short, unknown or expired; an expired id never reopens its
conversation. The contract's `sender` field and query parameter still work for
integrators, under the same rules."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from app.bootstrap import Container, client_id_min_chars
from app.gateway.app import create_app
from app.settings import ROOT, Environment, Settings
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel
from bot.services.turns import TurnService
from bot.services.webchat_sessions import MIN_CLIENT_ID_CHARS
from tests.fakes import FakeClock, FakeDialogueEngine
from tests.gateway.conftest import BASE_URL, ContainerFactory, web_sender

HEADER = "X-Webchat-Session"


async def new_session(client: httpx.AsyncClient) -> str:
    response = await client.post("/webchat/sessions")
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    token: str = response.json()["session"]
    return token


async def say(client: httpx.AsyncClient, session: str, text: str) -> httpx.Response:
    return await client.post("/webchat/messages", json={"text": text}, headers={HEADER: session})


def assert_refused_politely(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["reason"] == reason
    [message] = body["messages"]
    assert "new chat has started" in message["text"]
    assert "नई चैट" in message["text"]


async def test_sessions_are_issued_by_the_server_with_256_random_bits(
    client: httpx.AsyncClient,
) -> None:
    tokens = {await new_session(client) for _ in range(20)}

    assert len(tokens) == 20
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
        assert len(base64.urlsafe_b64decode(token + "=")) * 8 == 256
    response = await client.post("/webchat/sessions")
    assert response.json()["idle_timeout_s"] == 120 * 60
    assert response.json()["expires_at"].startswith("2025-01-16T04:30")  # 24 h after the clock


async def test_a_session_in_the_header_carries_the_conversation(
    client: httpx.AsyncClient, container: Container, dialogue: FakeDialogueEngine
) -> None:
    session = await new_session(client)

    turn = await say(client, session, "hello")
    conversation = await container.conversations.open(Channel.WEBCHAT, session)
    async with container.uow() as tx:
        await tx.outbox.push(
            conversation.conversation_id, OutboundMessage(text="pushed"), container.clock.now()
        )
        await tx.commit()
    polled = await client.get("/webchat/messages", headers={HEADER: session})

    assert turn.status_code == 200 and turn.json()["messages"]
    assert [c for c, _, _ in dialogue.turns] == [conversation.conversation_id]
    assert [m["text"] for m in polled.json()["messages"]] == ["pushed"]
    assert polled.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("sender", ["a", "abc123", "3f9a2b7c8d", "x" * 31])
async def test_short_ids_are_refused_politely_and_run_no_turn(
    make_container: ContainerFactory, dialogue: FakeDialogueEngine, sender: str
) -> None:
    # Production's rule (32 characters at least), set explicitly: development takes any id.
    container = await make_container(webchat_client_id_min_chars=32)
    container.turns = TurnService(container.turn_uow, container.clock, dialogue)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        posted = await client.post("/webchat/messages", json={"sender": sender, "text": "hi"})
        in_header = await say(client, sender, "hi")
        polled = await client.get("/webchat/messages", params={"sender": sender})

    for response in (posted, in_header, polled):
        assert_refused_politely(response, "invalid")
    assert dialogue.turns == []


async def test_in_development_the_contract_takes_a_short_id_of_its_own(
    client: httpx.AsyncClient, dialogue: FakeDialogueEngine
) -> None:
    """CONTRACTS.md's `{"sender": "<id>"}` works as written for local scripts and checks."""
    posted = await client.post("/webchat/messages", json={"sender": "u1", "text": "hi"})
    polled = await client.get("/webchat/messages", params={"sender": "u1"})

    assert posted.status_code == 200 and polled.status_code == 200
    assert [text for _, text, _ in dialogue.turns] == ["hi"]
    # The session header is our page's: only what the server issued (or 32+ characters).
    assert_refused_politely(await say(client, "u2", "hi"), "invalid")
    assert_refused_politely(await say(client, "old-session-id", "hi"), "invalid")


@pytest.mark.parametrize(
    ("environment", "expected"), [("development", 1), ("production", MIN_CLIENT_ID_CHARS)]
)
def test_the_shortest_client_id_depends_on_the_environment(environment: str, expected: int) -> None:
    settings = Settings.model_construct(
        environment=Environment(environment), webchat_client_id_min_chars=None
    )
    assert client_id_min_chars(settings) == expected


async def test_no_session_at_all_is_refused_politely(client: httpx.AsyncClient) -> None:
    assert_refused_politely(await client.get("/webchat/messages"), "missing")
    assert_refused_politely(await client.post("/webchat/messages", json={"text": "hi"}), "missing")


async def test_a_session_expires_when_idle_and_never_reopens_its_conversation(
    client: httpx.AsyncClient, clock: FakeClock, dialogue: FakeDialogueEngine
) -> None:
    session = await new_session(client)
    assert (await say(client, session, "hello")).status_code == 200

    clock.advance(timedelta(minutes=119))
    assert (await say(client, session, "still here")).status_code == 200  # use renews it
    clock.advance(timedelta(minutes=121))

    assert_refused_politely(await say(client, session, "back again"), "expired")
    assert_refused_politely(
        await client.get("/webchat/messages", headers={HEADER: session}), "expired"
    )
    # Expired stays expired, also when offered as the contract's own sender id.
    posted = await client.post("/webchat/messages", json={"sender": session, "text": "hi"})
    assert_refused_politely(posted, "expired")
    assert [text for _, text, _ in dialogue.turns] == ["hello", "still here"]


async def test_a_session_in_constant_use_ends_at_its_maximum_age(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    session = await new_session(client)
    for _ in range(23):
        clock.advance(timedelta(hours=1))
        assert (await client.get("/webchat/messages", headers={HEADER: session})).status_code == 200
    clock.advance(timedelta(hours=1, seconds=1))

    assert_refused_politely(await say(client, session, "hi"), "expired")


async def test_an_integrators_own_long_id_is_a_session_that_expires_too(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    sender = web_sender("integrator")
    first = await client.post("/webchat/messages", json={"sender": sender, "text": "hi"})
    polled = await client.get("/webchat/messages", params={"sender": sender})
    assert (first.status_code, polled.status_code) == (200, 200)

    clock.advance(timedelta(hours=3))
    again = await client.post("/webchat/messages", json={"sender": sender, "text": "hi"})
    assert_refused_politely(again, "expired")


async def test_client_ids_can_be_switched_off(
    make_container: ContainerFactory, dialogue: FakeDialogueEngine
) -> None:
    container = await make_container(webchat_accept_client_ids=False)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        refused = await client.get("/webchat/messages", params={"sender": web_sender("own")})
        session = await new_session(client)
        accepted = await client.get("/webchat/messages", headers={HEADER: session})

    assert_refused_politely(refused, "invalid")
    assert accepted.status_code == 200


def test_the_page_sends_its_session_in_a_header_and_never_in_a_url() -> None:
    script = (ROOT / "app" / "gateway" / "static" / "chat.js").read_text()

    assert HEADER in script and "/webchat/sessions" in script
    # No sender (or session) in a query string, and no id made by the page itself.
    assert "sender" not in re.sub(r"LEGACY_KEYS = \[[^\]]*\]", "", script)
    assert "getRandomValues" not in script


def test_the_proxy_access_log_keeps_no_query_strings_or_referers() -> None:
    conf = (Path(ROOT) / "deploy" / "nginx.conf").read_text()
    [fmt] = re.findall(r"log_format\s+privacy\s+((?:'[^']*'\s*)+);", conf)
    for variable in ("$request ", "$request_uri", "$args", "$query_string", "$http_referer"):
        assert variable not in fmt + " "
    assert "$uri" in fmt
    assert re.search(r"access_log\s+\S+\s+privacy;", conf)


async def test_an_id_a_page_made_before_sessions_never_reopens_its_conversation(
    client: httpx.AsyncClient, container: Container, dialogue: FakeDialogueEngine
) -> None:
    # A 32-hex id the old page made itself, whose conversation holds a receipt; it sat in
    # query strings (and so in access logs) every 2 s.
    old_id = "3f9a2b7c8d0e1f2a3b4c5d6e7f8a9b0c"
    conversation = await container.conversations.open(Channel.WEBCHAT, old_id)
    async with container.uow() as tx:
        await tx.outbox.push(
            conversation.conversation_id, OutboundMessage(text="receipt"), container.clock.now()
        )
        await tx.commit()

    polled = await client.get("/webchat/messages", params={"sender": old_id})
    posted = await client.post("/webchat/messages", json={"sender": old_id, "text": "hi"})
    in_header = await client.get("/webchat/messages", headers={HEADER: old_id})

    for response in (polled, posted, in_header):
        assert_refused_politely(response, "expired")
        assert "receipt" not in response.text
    assert dialogue.turns == []
