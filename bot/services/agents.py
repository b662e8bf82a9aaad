"""Help-desk agents: accounts with scrypt-hashed passwords and server-side console sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.errors import AgentExists, InvalidAgentCredentials
from bot.model.handoff import Agent, AgentSession
from bot.ports import Clock, SupportUnitOfWorkFactory

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
    def __init__(self, uow: SupportUnitOfWorkFactory, clock: Clock, session_ttl: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._ttl = session_ttl

    async def add(self, username: str, password: str) -> Agent:
        """Create an agent. Raises InvalidAgentCredentials for a bad username or a short
        password, AgentExists for a taken username."""
        username = username.strip().lower()
        if not USERNAME.fullmatch(username):
            raise InvalidAgentCredentials("username: 3-32 of a-z 0-9 . _ -")
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidAgentCredentials(f"password: at least {MIN_PASSWORD_CHARS} characters")
        salt = secrets.token_bytes(16)
        agent = Agent(
            agent_id=secrets.token_hex(8),
            username=username,
            password_hash=hash_password(password, salt),
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
        after MAX_FAILED_LOGINS wrong passwords in a row)."""
        now = self._clock.now()
        async with self._uow() as tx:
            agent = await tx.agents.by_username(username.strip().lower())
            salt = bytes.fromhex(agent.salt) if agent else _DUMMY_SALT
            candidate = hash_password(password, salt)
            expected = agent.password_hash if agent else "0" * 64
            if agent is None:
                raise InvalidAgentCredentials(username)
            locked = agent.locked_until is not None and agent.locked_until > now
            if locked or not hmac.compare_digest(candidate, expected):
                if not locked:
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
