"""The Redis rate counter against a real Redis (TEST_REDIS_URL, default 127.0.0.1:6379/15;
skipped when unreachable) and the in-process one, with the same expectations."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from integrations.cache.rate_counters import InProcessRateCounter, RedisRateCounter
from tests.fakes import FakeClock

pytestmark = pytest.mark.asyncio
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest_asyncio.fixture
async def redis_counter() -> AsyncIterator[RedisRateCounter]:
    probe = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await probe.ping()
    except (RedisError, OSError) as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        await probe.aclose()
    counter = RedisRateCounter(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    yield counter
    await counter.aclose()


async def test_redis_counts_within_a_window_and_starts_over_after_it(
    redis_counter: RedisRateCounter,
) -> None:
    window = timedelta(seconds=1)
    assert [await redis_counter.hit("k", window) for _ in range(3)] == [1, 2, 3]
    assert await redis_counter.peek("k") == 3 and await redis_counter.peek("other") == 0
    await asyncio.sleep(1.2)
    assert await redis_counter.peek("k") == 0
    assert await redis_counter.hit("k", window) == 1


async def test_concurrent_hits_are_all_counted(redis_counter: RedisRateCounter) -> None:
    counts = await asyncio.gather(
        *(redis_counter.hit("burst", timedelta(minutes=1)) for _ in range(50))
    )
    assert sorted(counts) == list(range(1, 51))


async def test_a_redis_outage_lets_messages_through() -> None:
    counter = RedisRateCounter("redis://127.0.0.1:1/0")
    assert await counter.hit("k", timedelta(minutes=1)) == 0
    assert await counter.peek("k") == 0
    await counter.aclose()


async def test_in_process_windows_follow_the_clock() -> None:
    clock = FakeClock()
    counter = InProcessRateCounter(clock)
    assert [await counter.hit("k", timedelta(minutes=1)) for _ in range(2)] == [1, 2]
    clock.advance(timedelta(seconds=59))
    assert await counter.peek("k") == 2
    clock.advance(timedelta(seconds=1))
    assert await counter.peek("k") == 0 and await counter.hit("k", timedelta(minutes=1)) == 1
