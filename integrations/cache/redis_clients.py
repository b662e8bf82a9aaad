"""Redis clients that survive a restart of the Redis server (or a cut connection).

redis-py keeps its connections in a pool. When Redis restarts, every pooled connection is
dead, and by default the first command on each one fails: measured under a 30 s outage,
Rasa's lock store failed one turn per pooled connection after Redis was back, and the
gateway's lock client failed a release (the lock then stayed until its lease ran out).
Here:
- a connection idle for HEALTH_CHECK_S is checked with a PING before it is used, and
  replaced if the PING fails;
- a command that fails on a broken connection (ConnectionError, TimeoutError) is sent again
  on a fresh one, up to RETRIES times with a short back-off. Only clients whose commands are
  all safe to repeat may use `retrying_client` (a lock's SET NX with our own token and a
  compare-and-delete are; an INCR of a rate counter is not: see `checked_client`).
"""

from __future__ import annotations

from typing import Any

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

HEALTH_CHECK_S = 5  # idle longer than this: PING before use
RETRIES = 2  # a command is sent at most three times
BACKOFF = ExponentialBackoff(cap=0.25, base=0.05)


def retrying_client(url: str, **options: Any) -> aioredis.Redis:
    """A client whose commands are retried on a fresh connection: for idempotent commands."""
    return aioredis.from_url(url, **retrying_options(**options))


def checked_client(url: str, **options: Any) -> aioredis.Redis:
    """A client that checks idle connections but never sends a command twice (counters)."""
    return aioredis.from_url(url, health_check_interval=HEALTH_CHECK_S, **options)


def retrying_options(**options: Any) -> dict[str, Any]:
    """Keyword arguments of redis.asyncio.Redis / from_url for a retrying client."""
    return {
        "health_check_interval": HEALTH_CHECK_S,
        "retry": Retry(BACKOFF, RETRIES),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        **options,
    }


# SET NX PX that can be sent twice: a SET applied but whose answer was lost (a cut
# connection, a timeout) is recognised on the retry by its token instead of being taken for
# somebody else's lock.
ACQUIRE = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('get', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""
# Delete only while the lock still holds our token (safe to repeat).
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
