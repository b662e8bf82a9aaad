"""RateCounter adapters: in-process (embedded defaults, one process) and Redis (shared by the
gateway and the action server, and by several gateways)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from redis.exceptions import RedisError

from bot.ports import Clock
from integrations.cache.redis_clients import checked_client


class InProcessRateCounter:
    """Counters in a dict, windows measured on `clock`. Each process counts on its own:
    without Redis the gateway and the action server enforce different limits anyway."""

    MAX_KEYS = 100_000

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[datetime, int]] = {}

    async def hit(self, key: str, window: timedelta) -> int:
        now = self._clock.now()
        ends, count = self._windows.get(key, (now, 0))
        if ends <= now:
            ends, count = now + window, 0
        self._windows[key] = (ends, count + 1)
        if len(self._windows) > self.MAX_KEYS:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        return count + 1

    async def peek(self, key: str) -> int:
        ends, count = self._windows.get(key, (self._clock.now(), 0))
        return count if ends > self._clock.now() else 0


class RedisRateCounter:
    """SET NX with the window's expiry, then INCR, in one MULTI: atomic across processes.

    Never retried (an INCR sent twice counts twice); idle connections are checked before use,
    so after a Redis restart at most a hit in flight fails open."""

    def __init__(self, redis_url: str, prefix: str = "bot:rate:") -> None:
        self._redis = checked_client(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    async def hit(self, key: str, window: timedelta) -> int:
        name = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                # Opens the window with its expiry only if none is open; works on any Redis.
                pipe.set(name, 0, ex=max(1, math.ceil(window.total_seconds())), nx=True)
                pipe.incr(name)
                _, count = await pipe.execute()
        except RedisError:
            return 0  # limits fail open: an outage of Redis must not silence the bot
        return int(count)

    async def peek(self, key: str) -> int:
        try:
            value = await self._redis.get(self._prefix + key)
        except RedisError:
            return 0
        return int(value or 0)

    async def aclose(self) -> None:
        await self._redis.aclose()
