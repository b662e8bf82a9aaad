"""Rasa's lock store after a Redis outage: it works again at once when Redis is back, on
every pooled connection, and no lock is left behind (the gateway's turn leases, in the app
runtime: tests/integration/test_redis_comes_back.py).

The real Redis stays up (other tests use it): the clients reach it through a TCP proxy
that the test cuts (every connection reset, new ones refused) and restores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from rasa.core.lock_store import LockError
from redis import asyncio as aioredis

from integrations.rasa.engine.lock_store import AsyncRedisLockStore
from tests.doubles.tcp_proxy import TcpProxy, proxying
from tests.engine.conftest import REDIS_URL
from tests.engine.test_async_lock_store import conversation, make_store

pytestmark = [pytest.mark.redis]

CONCURRENT = 8  # turns at once before the outage: that many pooled connections go stale


@pytest.fixture
def proxy(redis_client: aioredis.Redis) -> Iterator[TcpProxy]:
    target = urlsplit(REDIS_URL)
    with proxying(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        yield proxy


def through(proxy: TcpProxy) -> str:
    return f"redis://127.0.0.1:{proxy.port}{urlsplit(REDIS_URL).path}"


async def test_rasa_lock_store_works_at_once_when_redis_is_back(
    proxy: TcpProxy, redis_client: aioredis.Redis
) -> None:
    store: AsyncRedisLockStore = make_store(through(proxy))
    ids = [conversation() for _ in range(CONCURRENT)]

    async def turn(cid: str) -> None:
        async with store.lock(cid, lock_lifetime=10):
            await asyncio.sleep(0.05)

    try:
        await asyncio.gather(*(turn(cid) for cid in ids))
        proxy.cut()
        with pytest.raises(LockError):
            await turn(ids[0])
        proxy.restore()
        failures = 0
        for _ in range(3):
            results = await asyncio.gather(*(turn(cid) for cid in ids), return_exceptions=True)
            failures += sum(isinstance(result, BaseException) for result in results)
    finally:
        await store.close()

    assert proxy.reset >= CONCURRENT
    assert failures == 0, f"{failures} of {3 * CONCURRENT} turns failed after Redis came back"
    assert await redis_client.exists(*(store.key_prefix + cid for cid in ids)) == 0
