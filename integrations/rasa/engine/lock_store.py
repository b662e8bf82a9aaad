"""Rasa's per-conversation lock on Redis, taken and released without blocking the event loop.

Rasa 3.6's RedisLockStore runs a blocking redis-py client inside Rasa's asyncio event loop,
makes about 7 round trips per locked call (issue_ticket GET+SET, _acquire_lock GET,
finish_serving GET+SET, is_someone_waiting GET, DEL), polls once a second while another
turn holds the lock, and issues tickets by read-modify-write of a JSON list, so two
processes can both believe they hold it. Profiled under load it cost 12-20% of a Rasa
server's CPU, and every turn of every other conversation on that server waited while it
waited on Redis.

Here a locked call is two round trips on `redis.asyncio`:
- acquire: `SET <key> <token> NX PX <lifetime>`, a random token per holder; while another
  holder has the lock, retry every 15 ms, and raise Rasa's `LockError` once the lock's
  lifetime has passed (the holder's lock has expired by then, whatever became of it);
- release: a Lua compare-and-delete, so a holder that outlived its lock never deletes the
  next holder's lock. The lock is not renewed, as Rasa's is not: a turn longer than the
  lifetime (Rasa's 60 s, TICKET_LOCK_LIFETIME) loses it.
Both commands are safe to send twice (the acquire recognises its own token), so a command
that fails on a connection Redis closed (Redis restarted, a connection cut) is sent again on
a fresh one, and idle connections are checked before use (integrations/cache/redis_clients.py):
measured before this, the first turn on each pooled connection after a Redis outage failed.
Redis errors and timeouts that outlast the retries (Rasa's 10 s socket timeout) become
`LockError`, which our REST channel answers with a 503 and the gateway retries. Keys are
`<key_prefix>:mutex:<conversation id>`, apart from Rasa's `<key_prefix>:lock:` (KEY_PART).

A known limit, of redis-py 4.6 on Python 3.10 rather than of this lock: a task cancelled
during a Redis command may not see the cancellation (its `asyncio.wait_for` around socket
writes and `async_timeout(0)` in the pool can swallow it), so such a turn goes on as if never
cancelled, holding and then releasing the lock normally. Exclusion is not affected.

Unlike Rasa's ticket lock it is not FIFO-fair: whichever waiter retries first after a
release gets the lock. That is fine here: the gateway already serialises turns per
conversation with a Redis lease before calling Rasa (integrations/cache/turn_locks.py),
so this lock is a second line of defence and is rarely contended.

Configured as the lock store type `integrations.rasa.engine.lock_store.AsyncRedisLockStore`
with the keys of Rasa's `redis` type (url = host, port, db, username, password, use_ssl,
ssl_certfile, ssl_keyfile, ssl_ca_certs, key_prefix, socket_timeout); server.py writes it
from REDIS_URL. Rasa only ever calls `lock()` (agent.py, processor.py, server.py); the
ticket methods of `LockStore` raise NotImplementedError.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    LockStore,
)
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from integrations.cache.redis_clients import ACQUIRE, RELEASE, retrying_options

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.015  # turns take tens of ms; Rasa's own store waits a whole second
# Not Rasa's "lock:": its RedisLockStore keeps a JSON ticket list there without an expiry,
# and one left behind by a crashed server would block a conversation here forever.
KEY_PART = "mutex:"

_SETTINGS = {
    "port",
    "db",
    "username",
    "password",
    "use_ssl",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_ca_certs",
    "key_prefix",
    "socket_timeout",
}


# A subclass of LockStore, not RedisLockStore: RedisLockStore.__init__ opens a blocking
# client this class would never use, and nothing in Rasa needs the isinstance check (it
# allows several Sanic workers for any lock store type other than "in_memory").
class AsyncRedisLockStore(LockStore):
    """A Redis mutex per conversation on redis.asyncio (module docstring)."""

    def __init__(self, endpoint_config: Any = None) -> None:
        """Built by Rasa as `cls(endpoint_config=...)` from endpoints.yml: `url` is the host,
        the other keys those of Rasa's `redis` lock store."""
        url = getattr(endpoint_config, "url", None)
        settings: dict[str, Any] = dict(getattr(endpoint_config, "kwargs", None) or {})
        unknown = set(settings) - _SETTINGS
        if unknown:
            raise TypeError(f"unknown lock store settings: {', '.join(sorted(unknown))}")
        timeout = float(settings.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS))
        self._connection_kwargs: dict[str, Any] = retrying_options(
            **{
                "host": url or "localhost",
                "port": int(settings.get("port", 6379)),
                "db": int(settings.get("db", 1)),  # Rasa's default, as Rasa's `redis` type
                "username": settings.get("username"),
                "password": settings.get("password"),
                "ssl": bool(settings.get("use_ssl", False)),
                "ssl_certfile": settings.get("ssl_certfile"),
                "ssl_keyfile": settings.get("ssl_keyfile"),
                "ssl_ca_certs": settings.get("ssl_ca_certs"),
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
            }
        )
        # As Rasa's RedisLockStore: "<prefix>:" only for an alphanumeric prefix.
        prefix = settings.get("key_prefix")
        self.key_prefix = KEY_PART
        if prefix:
            if isinstance(prefix, str) and prefix.isalnum():
                self.key_prefix = f"{prefix}:{KEY_PART}"
            else:
                log.warning("ignoring the non-alphanumeric lock store key prefix %r", prefix)
        # The client and its connection pool are made on first use, inside the running
        # loop, and made again if the loop changes: asyncio connections (and the pool's
        # asyncio.Lock) belong to the loop that first used them, and nothing guarantees
        # that Rasa builds its lock store in the loop that will use it (a Sanic worker
        # has its own; tests run one loop after another).
        self._client: aioredis.Redis | None = None
        self._take: Any = None
        self._release: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        super().__init__()

    def _redis(self) -> tuple[Any, Any]:
        """The acquire and release scripts on this loop's client."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client of another loop is dropped, not closed: its loop is gone or busy.
            self._client = aioredis.Redis(**self._connection_kwargs)
            self._take = self._client.register_script(ACQUIRE)
            self._release = self._client.register_script(RELEASE)
            self._loop = loop
        return self._take, self._release

    async def close(self) -> None:
        """Closes the client's connections if they belong to the running loop; drops the
        client in any case. Rasa never calls this."""
        client, loop = self._client, self._loop
        self._client = self._take = self._release = self._loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await asyncio.gather(*self._pending, return_exceptions=True)
            await client.close(close_connection_pool=True)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_INTERVAL_S,
    ) -> AsyncIterator[None]:
        """Holds the conversation's lock; raises LockError if Redis is unreachable or the
        lock is still held by another after `lock_lifetime` seconds. Yields None."""
        key = self.key_prefix + conversation_id
        token = secrets.token_hex(16)
        take, release = self._redis()
        try:
            acquired = await self._acquire(take, key, token, lock_lifetime, wait_time_in_seconds)
        except (RedisError, OSError, asyncio.CancelledError) as exc:
            # A SET may have been applied before its answer was lost (a timeout, a cancelled
            # turn): released in the background, so that the conversation's next turn does
            # not wait out the lifetime and this error is not held up by Redis.
            self._release_later(release, key, token)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise LockError(
                f"Lock store unreachable for conversation '{conversation_id}': "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not acquired:
            # A holder that died has lost the lock by now; a living one is that slow.
            raise LockError(
                f"Could not acquire lock for conversation '{conversation_id}' within "
                f"{lock_lifetime} s: another turn still holds it."
            )
        try:
            yield None
        finally:
            try:
                if not await release(keys=[key], args=[token]):
                    log.warning(
                        "a conversation's lock expired before its turn ended "
                        "(turn longer than the lock lifetime of %s s)",
                        lock_lifetime,
                    )
            except (RedisError, OSError) as exc:
                # The lock expires on its own; the conversation's next turn waits for it.
                log.warning("could not release a conversation's lock: %s", type(exc).__name__)

    @staticmethod
    async def _acquire(take: Any, key: str, token: str, lifetime_s: float, poll_s: float) -> bool:
        """Whether the lock was acquired before `lifetime_s` passed."""
        lifetime_ms = max(1, int(lifetime_s * 1000))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lifetime_s
        while not await take(keys=[key], args=[token, lifetime_ms]):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(poll_s, remaining))
        return True

    def _release_later(self, release: Any, key: str, token: str) -> None:
        task = asyncio.ensure_future(release(keys=[key], args=[token]))
        self._pending.add(task)  # a task nothing refers to may be garbage-collected
        task.add_done_callback(self._released_later)

    def _released_later(self, task: asyncio.Future[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("could not release a lock after a failed acquire: %r", task.exception())

    def _unsupported(self) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__} supports only lock(); Rasa's ticket locks are not kept"
        )

    def get_lock(self, conversation_id: str) -> Any:
        raise self._unsupported()

    def delete_lock(self, conversation_id: str) -> None:
        raise self._unsupported()

    def save_lock(self, lock: Any) -> None:
        raise self._unsupported()
