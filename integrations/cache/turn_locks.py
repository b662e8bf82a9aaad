"""Serialising turns per conversation across gateway processes, with a Redis lease.

Same interface as `app.gateway.turn_locks.ConversationLocks` (one process), for when several
gateway processes share conversations. Rasa's own RedisLockStore is unfit (a racy ticket
issue, 1 s polling; shared/reference/rasa.md), so turns are serialised here, before Rasa.

- Acquire: `SET lock <token> NX PX <lease>`; the token carries a fencing number (INCR per
  conversation), so a holder whose lease expired can never release or extend its
  successor's lease, and each holder can tell its turn is newer than the last one's.
- While held, the lease is renewed every third of its length; it therefore only expires when
  the holder died or stalled for a whole lease: the conversation is then free again instead
  of being stuck behind a dead process.
- Waiters poll with a short, growing delay (10 ms → 100 ms): turns take tens of ms.
- Redis down: `hold` raises DialogueUnavailable, which every caller already turns into a
  "try again shortly" (web chat) or a retry of the stored message (channels). Falling back
  to in-process locks would silently lose the order across processes.
- Redis back (restarted, or a cut connection restored): every command here is safe to send
  twice, so the client retries it on a fresh connection (integrations/cache/redis_clients.py)
  instead of failing the turn, or leaving a lock behind because its release failed.

Keys hold a hash of the conversation key, never a phone number or chat id in clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot.errors import DialogueUnavailable
from integrations.cache.redis_clients import ACQUIRE, RELEASE, retrying_client

log = logging.getLogger(__name__)

PREFIX = "bot:turnlock:"
LEASE_S = 30.0  # longer than any turn (Rasa's own timeout in the gateway is 30 s)
WAIT_S = 60.0  # a waiter gives up after this and the resident is told to try again

# Extend only while the lock still holds our token.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


def lock_key(key: Hashable) -> str:
    if isinstance(key, tuple):
        raw = ":".join(str(getattr(part, "value", part)) for part in key)
    else:
        raw = str(key)
    return PREFIX + hashlib.sha256(raw.encode()).hexdigest()[:32]


class LeaseLost(Exception):
    """The lease expired while held (the holder stalled longer than LEASE_S)."""


class RedisConversationLocks:
    def __init__(
        self, client: aioredis.Redis, lease_s: float = LEASE_S, wait_s: float = WAIT_S
    ) -> None:
        self._redis = client
        self._lease_ms = int(lease_s * 1000)
        self._wait_s = wait_s
        self._held = 0
        self._take = client.register_script(ACQUIRE)
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(_RENEW)

    @classmethod
    def from_url(cls, url: str) -> RedisConversationLocks:
        # Short socket timeouts: with Redis down a turn must fail fast ("try again shortly"),
        # not hang for the operating system's TCP timeout.
        return cls(retrying_client(url, socket_timeout=2.0, socket_connect_timeout=2.0))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def close(self) -> None:
        await self._redis.aclose()

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[int]:
        """Hold the conversation's lock; yields this holder's fencing number."""
        name = lock_key(key)
        try:
            fence, token = await self._acquire(name)
        except RedisError as exc:
            raise DialogueUnavailable(f"lock store unreachable: {type(exc).__name__}") from exc
        self._held += 1
        renewer = asyncio.ensure_future(self._keep(name, token))
        try:
            yield fence
        finally:
            self._held -= 1
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, LeaseLost, RedisError):
                await renewer
            try:
                await self._release(keys=[name], args=[token])
            except RedisError:
                # The lease expires on its own; the next turn waits at most LEASE_S.
                log.warning("could not release a conversation lock; its lease will expire")

    async def _acquire(self, name: str) -> tuple[int, str]:
        # Sent twice after a lost answer, INCR only skips a number: fences still grow.
        fence = int(await self._redis.incr(name + ":fence"))
        token = f"{fence}:{secrets.token_hex(8)}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        delay = 0.01
        while not await self._take(keys=[name], args=[token, self._lease_ms]):
            if loop.time() > deadline:
                raise DialogueUnavailable("conversation busy: a turn is still running")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.1)
        return fence, token

    async def _keep(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            if not await self._renew(keys=[name], args=[token, self._lease_ms]):
                log.error("a conversation lock's lease was lost while its turn ran")
                raise LeaseLost(name)

    def __len__(self) -> int:
        """Locks held by this process (the in-process registry's size, for symmetry)."""
        return self._held
