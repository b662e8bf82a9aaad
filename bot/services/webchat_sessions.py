"""Web chat sessions: the only credential a web chat resident has, so the server makes it.

Whoever holds a web chat conversation's id reads what is pushed to it (receipts, payment
news, agent replies) and talks as its resident. So (issue 13, finding 10) the id is 256
random bits issued here, it stops working after `idle` without use and after `max_age` in
any case, and an id that expired stays refused: it never opens its old conversation again.
Only a hash of it is stored with the session's two times.

The contract lets an integrator name its own sender (`{"sender": "<id>"}`); such an id is
taken as a new session the first time it is seen when it is at least
`policy.min_client_id_chars` long (in production MIN_CLIENT_ID_CHARS, 128 bits as hex; in
development any length, so the contract's examples and local scripts work as written),
`accept_client_ids` is on, and no conversation has that address
yet; then it expires like any other. The last rule refuses the ids pages made for
themselves before sessions existed: they sat in access logs, and must not open the
conversations (receipts included) they once named. Shorter ids, expired ones, and unknown
ones when client ids are off are refused too, with a reason the page can put in words.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.model.residents import Channel
from bot.ports import Clock, UnitOfWorkFactory, WebchatSessionStore

# A plain SHA-256 is enough for 256 random bits (no dictionary to try), as for agents.
from bot.services.agents import token_hash

TOKEN_BYTES = 32
MIN_CLIENT_ID_CHARS = 32
# Polling every 2 s must not write every 2 s: last use is recorded at most this often, so
# the idle timeout is exact to within this.
TOUCH_EVERY = timedelta(minutes=1)
# The shape of any web chat id, the contract's `sender` included (channels/webchat.py).
SENDER_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SessionRefusal(str, Enum):
    MISSING = "missing"  # no id at all
    INVALID = "invalid"  # too short to be unguessable, or unknown while client ids are off
    EXPIRED = "expired"  # idle or too old: a new chat is needed


class SessionRefused(Exception):
    def __init__(self, reason: SessionRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    max_age: timedelta
    accept_client_ids: bool = True
    min_client_id_chars: int = MIN_CLIENT_ID_CHARS


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: datetime  # at the latest; sooner after `idle` without use
    idle: timedelta


class WebchatSessions:
    def __init__(
        self,
        store: WebchatSessionStore,
        clock: Clock,
        policy: SessionPolicy,
        uow: UnitOfWorkFactory,
    ) -> None:
        self._store = store
        self._uow = uow
        self._clock = clock
        self.policy = policy

    async def issue(self) -> IssuedSession:
        """A new session for a page that has none (or whose session expired)."""
        now = self._clock.now()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self._store.add(token_hash(token), now)
        return IssuedSession(token, now + self.policy.max_age, self.policy.idle)

    async def resolve(self, token: str | None, *, from_contract: bool = False) -> str:
        """The conversation address of a live session, its last use recorded. Raises
        SessionRefused. `from_contract`: the id came as the contract's `sender` (JSON field
        or query), where development takes short ids; in the session header never."""
        if not token:
            raise SessionRefused(SessionRefusal.MISSING)
        if not SENDER_PATTERN.fullmatch(token):
            raise SessionRefused(SessionRefusal.INVALID)
        now = self._clock.now()
        key = token_hash(token)
        found = await self._store.get(key)
        if found is None:
            shortest = self.policy.min_client_id_chars if from_contract else MIN_CLIENT_ID_CHARS
            if not self.policy.accept_client_ids or len(token) < shortest:
                raise SessionRefused(SessionRefusal.INVALID)
            async with self._uow() as tx:
                if await tx.conversations.find(Channel.WEBCHAT, token) is not None:
                    raise SessionRefused(SessionRefusal.EXPIRED)  # an id from before sessions
            await self._store.add(key, now)  # an integrator's own id, first seen now
            return token
        created_at, last_seen_at = found
        if now - last_seen_at > self.policy.idle or now - created_at > self.policy.max_age:
            raise SessionRefused(SessionRefusal.EXPIRED)
        if now - last_seen_at >= TOUCH_EVERY:
            await self._store.touch(key, now)
        return token
