"""Help-desk agents: accounts with scrypt-hashed passwords and server-side console sessions.

scrypt takes ~50 ms of CPU by design. It runs on a small thread pool of its own, never on
the event loop (hashlib releases the GIL while hashing): run there, four clients failing
logins raised every web chat turn's latency from 3 ms to 200 ms. The pool's size bounds the
CPU logins can take, whoever sends them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from bot.errors import AgentExists, InvalidAgentCredentials
from bot.model.handoff import Agent, AgentSession, default_display_name
from bot.ports import Clock, RateCounter, TurnUnitOfWorkFactory

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")
MIN_PASSWORD_CHARS = 10
# scrypt at n=2^14, r=8 (RFC 7914's interactive setting): ~16 MB and 50-150 ms per try,
# which makes guessing from a stolen table slow without making a login slow.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32, "maxmem": 64 * 1024 * 1024}
# Checked against when the username is unknown, so both failures take the same time.
_DUMMY_SALT = bytes(16)
# Online guessing: after this many wrong passwords in a row the account rests a while.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Hashes at once (logins are rare; one core stays free for residents' turns).
HASHING_THREADS = 1
MAX_DISPLAY_NAME_CHARS = 40


def hash_password(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT).hex()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoggedIn:
    token: str  # goes into the cookie; only its hash is stored
    session: AgentSession
    agent: Agent


class AgentService:
    def __init__(
        self,
        uow: TurnUnitOfWorkFactory,
        clock: Clock,
        session_ttl: timedelta,
        limits: RateCounter | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ttl = session_ttl
        # Failed logins of usernames that do not exist, counted as a known account counts
        # them: otherwise "rests after 5 wrong passwords" would tell which usernames exist.
        self._limits = limits
        self._hashing = ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="scrypt")

    async def _hash(self, password: str, salt: bytes) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._hashing, hash_password, password, salt)

    async def add(self, username: str, password: str, display_name: str = "") -> Agent:
        """Create an agent. `display_name` is what residents see (default: the username's
        first word). Raises InvalidAgentCredentials for a bad username, display name or a
        short password, AgentExists for a taken username."""
        username = username.strip().lower()
        if not USERNAME.fullmatch(username):
            raise InvalidAgentCredentials("username: 3-32 of a-z 0-9 . _ -")
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidAgentCredentials(f"password: at least {MIN_PASSWORD_CHARS} characters")
        shown = " ".join(display_name.split()) or default_display_name(username)
        if len(shown) > MAX_DISPLAY_NAME_CHARS or not shown.isprintable():
            raise InvalidAgentCredentials(f"display name: at most {MAX_DISPLAY_NAME_CHARS} chars")
        salt = secrets.token_bytes(16)
        agent = Agent(
            agent_id=secrets.token_hex(8),
            username=username,
            display_name=shown,
            password_hash=await self._hash(password, salt),
            salt=salt.hex(),
            created_at=self._clock.now(),
        )
        async with self._uow() as tx:
            if await tx.agents.by_username(username) is not None:
                raise AgentExists(username)
            await tx.agents.add(agent)
            await tx.commit()
        return agent

    async def login(self, username: str, password: str) -> LoggedIn:
        """A new session for the right password; InvalidAgentCredentials otherwise (the
        same error, in the same time, for an unknown username, and for an account resting
        after MAX_FAILED_LOGINS wrong passwords in a row, which an unknown username does
        too). A resting account's refusal costs no hash."""
        now = self._clock.now()
        username = username.strip().lower()
        async with self._uow() as tx:
            agent = await tx.agents.by_username(username)
        if agent is None:
            if await self._unknown_resting(username):
                raise InvalidAgentCredentials(username)
            await self._hash(password, _DUMMY_SALT)  # the time a known username takes
            await self._count_unknown_failure(username)
            raise InvalidAgentCredentials(username)
        if agent.locked_until is not None and agent.locked_until > now:
            raise InvalidAgentCredentials(username)
        candidate = await self._hash(password, bytes.fromhex(agent.salt))
        async with self._uow() as tx:
            # Read again: the hash took a while and other logins may have counted meanwhile.
            agent = await tx.agents.by_username(username)
            if agent is None:
                raise InvalidAgentCredentials(username)
            if not hmac.compare_digest(candidate, agent.password_hash):
                agent.failed_logins += 1
                if agent.failed_logins >= MAX_FAILED_LOGINS:
                    agent.failed_logins, agent.locked_until = 0, now + LOCKOUT
                await tx.agents.update(agent)
                await tx.commit()
                raise InvalidAgentCredentials(username)
            if agent.failed_logins or agent.locked_until:
                agent.failed_logins, agent.locked_until = 0, None
                await tx.agents.update(agent)
            token = secrets.token_urlsafe(32)
            session = AgentSession(
                token_hash=token_hash(token),
                agent_id=agent.agent_id,
                csrf_token=secrets.token_urlsafe(24),
                expires_at=now + self._ttl,
            )
            await tx.agents.delete_sessions_before(now)
            await tx.agents.add_session(session)
            await tx.commit()
        return LoggedIn(token, session, agent)

    async def _unknown_resting(self, username: str) -> bool:
        if self._limits is None:
            return False
        return await self._limits.peek(self._unknown_key("rest", username)) > 0

    async def _count_unknown_failure(self, username: str) -> None:
        if self._limits is None:
            return
        # A day, as a known account's count lasts until its next success.
        failures = await self._limits.hit(self._unknown_key("fail", username), timedelta(days=1))
        if failures >= MAX_FAILED_LOGINS:
            await self._limits.hit(self._unknown_key("rest", username), LOCKOUT)

    def _unknown_key(self, kind: str, username: str) -> str:
        return f"agent-login-{kind}:{hashlib.sha256(username.encode()).hexdigest()[:32]}"

    async def session(self, token: str) -> tuple[Agent, AgentSession] | None:
        """The agent behind a cookie's token, None when unknown or expired."""
        if not token:
            return None
        async with self._uow() as tx:
            session = await tx.agents.session(token_hash(token))
            if session is None or session.expires_at <= self._clock.now():
                return None
            agent = await tx.agents.get(session.agent_id)
            return None if agent is None else (agent, session)

    async def logout(self, token: str) -> None:
        async with self._uow() as tx:
            await tx.agents.delete_session(token_hash(token))
            await tx.commit()
