"""Token buckets behind the `RateLimiter` port: in Redis, shared by every worker process, or
in this process when REDIS_URL is unset (one gateway running the jobs in-process).

Buckets start empty and hold at most `burst` tokens, so over any run the number sent never
exceeds rate × elapsed time, and in any one-second window at most rate + burst.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from integrations.cache.redis_clients import checked_client

# Atomic: read, refill by elapsed time, take, write, in one script. Redis' own clock (TIME)
# is the one clock every worker agrees on; effects replication (Redis ≥ 5) makes TIME before
# writes safe.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = 0
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return granted
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "ratelimit:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(checked_client(url))

    async def acquire(self, key: str, wanted: int, rate_per_s: float, burst: int) -> int:
        if wanted <= 0:
            return 0
        granted = await self._script(keys=[self._prefix + key], args=[rate_per_s, burst, wanted])
        return int(granted)

    async def aclose(self) -> None:
        await self._redis.aclose()


class InProcessRateLimiter:
    """The same buckets in this process's memory (monotonic clock)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: str, wanted: int, rate_per_s: float, burst: int) -> int:
        if wanted <= 0:
            return 0
        async with self._lock:
            now = time.monotonic()
            tokens, then = self._buckets.get(key, (0.0, now))
            tokens = min(float(burst), tokens + max(0.0, now - then) * rate_per_s)
            granted = min(wanted, int(tokens))
            self._buckets[key] = (tokens - granted, now)
            return granted
