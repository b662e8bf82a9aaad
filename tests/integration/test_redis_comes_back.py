"""Redis clients after a Redis outage: the gateway's turn leases work again at once when Redis
is back, on every pooled connection, and no lock is left behind (Rasa's lock store, in the
engine runtime: tests/engine/test_lock_store_outage.py).

The real Redis stays up (other tests use it): the clients reach it through a TCP proxy
that the test cuts (every connection reset, new ones refused) and restores.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from redis import asyncio as aioredis

from bot.errors import DialogueUnavailable
from integrations.cache.turn_locks import RedisConversationLocks, lock_key
from tests.doubles.tcp_proxy import TcpProxy, proxying
from tests.integration.conftest import REDIS_URL

pytestmark = [pytest.mark.redis]

CONCURRENT = 8  # turns at once before the outage: that many pooled connections go stale


@pytest.fixture
def proxy(redis_client: aioredis.Redis) -> Iterator[TcpProxy]:
    target = urlsplit(REDIS_URL)
    with proxying(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        yield proxy


def conversation() -> str:
    return f"conversation-{uuid.uuid4().hex}"


def through(proxy: TcpProxy) -> str:
    return f"redis://127.0.0.1:{proxy.port}{urlsplit(REDIS_URL).path}"


async def test_turn_leases_work_at_once_when_redis_is_back(
    proxy: TcpProxy, redis_client: aioredis.Redis
) -> None:
    locks = RedisConversationLocks.from_url(through(proxy))
    keys = [("whatsapp", f"+91{n:010d}-{conversation()}") for n in range(CONCURRENT)]

    async def turn(key: tuple[str, str]) -> None:
        async with locks.hold(key):
            await asyncio.sleep(0.05)

    try:
        await asyncio.gather(*(turn(key) for key in keys))  # fills the pool
        held = locks.hold(("webchat", conversation()))
        await held.__aenter__()  # a turn is running when Redis goes away ...
        proxy.cut()
        with pytest.raises(DialogueUnavailable):
            await turn(keys[0])  # (while it is away: "try again shortly")
        proxy.restore()
        await held.__aexit__(None, None, None)  # ... and ends after it is back
        failures = 0
        for _ in range(3):
            results = await asyncio.gather(*(turn(key) for key in keys), return_exceptions=True)
            failures += sum(isinstance(result, BaseException) for result in results)
    finally:
        await locks.close()

    assert proxy.reset >= CONCURRENT  # the outage really cut the pooled connections
    assert failures == 0, f"{failures} of {3 * CONCURRENT} turns failed after Redis came back"
    # The release after the outage went through: nothing waits out a 30 s lease.
    leftover = [lock_key(key) for key in keys] + [lock_key(("webchat", "x"))]
    assert await redis_client.exists(*leftover) == 0
