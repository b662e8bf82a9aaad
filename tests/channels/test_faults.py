"""Faults on the channel path: a message the provider got a 2xx for is answered exactly
once, late if it must be, whether Redis or Rasa was down when it arrived."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app.gateway.turn_locks import ConversationLocks
from bot.errors import DialogueUnavailable
from integrations.cache.turn_locks import RedisConversationLocks
from tests.channels.harness import Gateway, whatsapp_form
from tests.gateway.rasa_double import free_port


async def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_redis_down_the_message_waits_and_is_answered_once_it_is_back(
    gateway: Gateway,
) -> None:
    down = RedisConversationLocks.from_url(f"redis://127.0.0.1:{free_port()}/0")
    gateway.runtime._locks = down  # what the lifespan builds from an unreachable REDIS_URL
    accepted = await gateway.whatsapp(whatsapp_form("hi"))
    assert accepted.status_code == 200  # recorded durably before any lock is needed

    await asyncio.sleep(0.5)  # the inbox loop tries, cannot lock, leaves it pending
    assert gateway.providers.twilio() == [] and gateway.dialogue.turns == []
    assert len(await gateway.runtime.inbox.pending(10)) == 1

    gateway.runtime._locks = ConversationLocks()  # Redis is back
    await wait_for(lambda: len(gateway.providers.twilio()) == 1)
    await gateway.settle()
    (reply,) = gateway.providers.twilio()
    assert reply["Body"].startswith("Namaste! What would you like to do?")
    assert len(gateway.dialogue.turns) == 1
    await down.close()


async def test_rasa_restarting_the_message_gets_a_late_but_correct_reply(
    gateway: Gateway,
) -> None:
    scripted = gateway.dialogue.converse
    refusals = [1]

    async def restarting(
        conversation_id: str, text: str, language: Any, channel: Any, **key: str
    ) -> Any:
        if refusals[0]:
            refusals[0] -= 1
            raise DialogueUnavailable("Rasa unreachable (turn): ConnectError")
        return await scripted(conversation_id, text, language, channel, **key)

    gateway.dialogue.converse = restarting  # type: ignore[method-assign]
    await gateway.whatsapp(whatsapp_form("hello there"))
    await wait_for(lambda: len(gateway.providers.twilio()) == 1)
    await gateway.settle()

    assert [m["Body"] for m in gateway.providers.twilio()] == ["echo: hello there"]
    assert gateway.dialogue.turns == [gateway.dialogue.turns[0]]  # one real turn, no repeat


def refusing(gateway: Gateway, times: int) -> None:
    """Rasa refuses connections for the next `times` turns (restarting), then answers."""
    scripted = gateway.dialogue.converse
    refusals = [times]

    async def restarting(
        conversation_id: str, text: str, language: Any, channel: Any, **key: str
    ) -> Any:
        if refusals[0]:
            refusals[0] -= 1
            raise DialogueUnavailable("Rasa unreachable (turn): ConnectError")
        return await scripted(conversation_id, text, language, channel, **key)

    gateway.dialogue.converse = restarting  # type: ignore[method-assign]


async def test_a_message_waits_for_a_restarting_rasa_instead_of_getting_an_apology(
    gateway: Gateway,
) -> None:
    """Rasa takes about a minute to come back: more tries than the old limit of 3, all
    within the message's wait (CHANNEL_MAX_WAIT_S)."""
    refusing(gateway, times=5)
    await gateway.whatsapp(whatsapp_form("hello there"))
    await wait_for(lambda: len(gateway.providers.twilio()) == 1, seconds=20)
    await gateway.settle()

    assert [m["Body"] for m in gateway.providers.twilio()] == ["echo: hello there"]


async def test_a_message_older_than_its_wait_gets_the_apology(gateway: Gateway) -> None:
    gateway.runtime.inbox._max_wait = timedelta(0)
    refusing(gateway, times=100)
    await gateway.whatsapp(whatsapp_form("hello there"))
    await wait_for(lambda: len(gateway.providers.twilio()) == 1)
    await gateway.settle()

    (apology,) = gateway.providers.twilio()
    assert "try again" in apology["Body"].lower()
    assert gateway.dialogue.turns == []


async def test_a_turn_cut_off_before_its_commit_runs_again_as_the_same_message(
    gateway: Gateway, monkeypatch: Any
) -> None:
    """The gateway dies between Rasa's answer and the commit (here: the commit fails once).
    The turn runs again under the same message key, so Rasa answers it from its tracker and
    its side effects are not repeated; the resident gets one answer."""
    from integrations.db.channel_repositories import SqlInboxRepository

    real = SqlInboxRepository.mark_processed
    crashes = [1]

    async def crash_once(self: Any, entry_id: int, processed_at: Any) -> None:
        if crashes[0]:
            crashes[0] -= 1
            raise OSError("gateway died before the commit")
        await real(self, entry_id, processed_at)

    monkeypatch.setattr(SqlInboxRepository, "mark_processed", crash_once)
    form = whatsapp_form("hello there")
    await gateway.whatsapp(form)
    await wait_for(lambda: len(gateway.providers.twilio()) == 1, seconds=20)
    await gateway.settle()

    assert [m["Body"] for m in gateway.providers.twilio()] == ["echo: hello there"]
    assert gateway.dialogue.keys == [f"whatsapp:{form['MessageSid']}"] * 2


async def test_two_gateway_processes_answer_each_message_once_and_in_order(
    gateway: Gateway,
) -> None:
    """Two gateways on one database and one Redis both drain the inbox and the outbox; each
    message is answered once, in order, and each reply sent once."""
    from redis import asyncio as aioredis
    from redis.exceptions import RedisError

    from app.bootstrap import channel_runtime

    probe = aioredis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=2)
    try:
        await probe.ping()
    except (RedisError, OSError) as exc:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {exc}")
    finally:
        await probe.aclose()
    first = RedisConversationLocks.from_url("redis://127.0.0.1:6379/15")
    second = RedisConversationLocks.from_url("redis://127.0.0.1:6379/15")
    gateway.runtime._locks = first
    other = channel_runtime(gateway.container, second)
    other.start()
    gateway.dialogue.delay_s = 0.05  # wide enough for both to reach the same message
    try:
        texts = [f"message {n}" for n in range(6)]
        for text in texts:
            await gateway.whatsapp(whatsapp_form(text))
        await wait_for(lambda: len(gateway.providers.twilio()) >= len(texts), seconds=20)
        await gateway.settle()
        await other.idle()
    finally:
        await other.stop()
        await first.close()
        await second.close()

    assert [t for _, t, _ in gateway.dialogue.turns] == texts
    assert [m["Body"] for m in gateway.providers.twilio()] == [f"echo: {t}" for t in texts]
