"""Turns serialised per conversation across gateway processes, on the real Redis server
(REDIS_TEST_URL, default redis://127.0.0.1:6379/15); skipped with a reason when absent."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis

from bot.errors import DialogueUnavailable
from bot.model.residents import Channel
from integrations.cache.turn_locks import PREFIX, RedisConversationLocks, lock_key
from tests.integration.conftest import REDIS_URL

pytestmark = [pytest.mark.redis, pytest.mark.asyncio]


def two_gateways(redis_client: aioredis.Redis, **kw: float) -> tuple[RedisConversationLocks, ...]:
    """Two lock registries on separate connections: what two gateway processes have."""
    other = aioredis.from_url(REDIS_URL)
    return RedisConversationLocks(redis_client, **kw), RedisConversationLocks(other, **kw)


async def test_two_processes_never_run_one_conversations_turns_at_once(
    redis_client: aioredis.Redis,
) -> None:
    first, second = two_gateways(redis_client)
    key = (Channel.WHATSAPP, f"+91{uuid.uuid4().int % 10**10:010d}")
    running, overlaps, done = 0, 0, []

    async def turn(locks: RedisConversationLocks, name: str) -> None:
        nonlocal running, overlaps
        async with locks.hold(key):
            running += 1
            overlaps += running > 1
            await asyncio.sleep(0.02)
            running -= 1
            done.append(name)

    await asyncio.gather(*(turn((first, second)[n % 2], f"t{n}") for n in range(8)))

    assert overlaps == 0 and sorted(done) == sorted(f"t{n}" for n in range(8))
    assert await redis_client.exists(lock_key(key)) == 0  # released, nothing left behind
    await second.close()


async def test_other_conversations_are_not_held_up(redis_client: aioredis.Redis) -> None:
    first, second = two_gateways(redis_client)

    async def other_conversation() -> None:
        async with second.hold("conversation-b"):
            pass

    async with first.hold("conversation-a"):
        # A different conversation gets its lock at once even while "a" is busy.
        await asyncio.wait_for(other_conversation(), timeout=1)
    await second.close()


async def test_a_dead_holders_lease_expires_and_cannot_touch_its_successor(
    redis_client: aioredis.Redis,
) -> None:
    """A gateway that stalls past its lease loses the lock; the next turn runs, and the
    stalled one's release does not free its successor's lock (fencing by token)."""
    first, second = two_gateways(redis_client, lease_s=0.3)
    key = f"conversation-{uuid.uuid4().hex}"
    fences = []
    first._keep = _never_renew  # type: ignore[method-assign]  # a process that froze
    stalled = first.hold(key)
    fences.append(await stalled.__aenter__())
    await redis_client.pexpire(lock_key(key), 50)  # its lease runs out
    await asyncio.sleep(0.1)
    async with second.hold(key) as fence:
        fences.append(fence)
        await stalled.__aexit__(None, None, None)  # the stalled holder wakes up and "releases"
        assert await redis_client.exists(lock_key(key)) == 1  # the successor still holds it
    assert fences[1] > fences[0]
    await second.close()


async def test_redis_down_means_try_again_not_an_unserialised_turn() -> None:
    locks = RedisConversationLocks.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    with pytest.raises(DialogueUnavailable):
        async with locks.hold("conversation"):
            pytest.fail("a turn ran without its lock")
    await locks.close()


async def test_keys_hold_no_identifier_in_clear() -> None:
    key = lock_key((Channel.SMS, "+919829100001"))
    assert key.startswith(PREFIX) and "9829100001" not in key


async def _never_renew(name: str, token: str) -> None:
    await asyncio.Event().wait()
