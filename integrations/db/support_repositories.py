"""SQL repositories for handoffs, agents and complaints."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.complaints import Complaint
from bot.model.handoff import Agent, AgentSession, Handoff, HandoffStatus, TranscriptLine
from integrations.db.repositories import from_row
from integrations.db.support_tables import (
    agent_sessions,
    agents,
    complaints,
    handoff_transcript,
    handoffs,
)

_ACTIVE = (HandoffStatus.WAITING, HandoffStatus.HELD)


class SqlHandoffRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, handoff_id: str) -> Handoff | None:
        result = await self._connection.execute(
            select(handoffs).where(handoffs.c.handoff_id == handoff_id)
        )
        return from_row(Handoff, result.mappings().first())

    async def active_for(self, conversation_id: str) -> Handoff | None:
        result = await self._connection.execute(
            select(handoffs)
            .where(handoffs.c.conversation_id == conversation_id, handoffs.c.status.in_(_ACTIVE))
            .order_by(handoffs.c.requested_at.desc())
        )
        return from_row(Handoff, result.mappings().first())

    async def active(self) -> list[Handoff]:
        result = await self._connection.execute(
            select(handoffs)
            .where(handoffs.c.status.in_(_ACTIVE))
            .order_by(handoffs.c.requested_at, handoffs.c.handoff_id)
        )
        return [Handoff(**row) for row in result.mappings()]

    async def add(self, handoff: Handoff) -> None:
        await self._connection.execute(insert(handoffs).values(**asdict(handoff)))

    async def update(self, handoff: Handoff, expected_status: HandoffStatus) -> bool:
        result = await self._connection.execute(
            update(handoffs)
            .where(
                handoffs.c.handoff_id == handoff.handoff_id,
                handoffs.c.status == expected_status,
            )
            .values(**asdict(handoff))
        )
        return bool(result.rowcount == 1)

    async def append(self, line: TranscriptLine) -> None:
        await self._connection.execute(insert(handoff_transcript).values(**asdict(line)))

    async def transcript(self, handoff_id: str) -> list[TranscriptLine]:
        result = await self._connection.execute(
            select(
                handoff_transcript.c.handoff_id,
                handoff_transcript.c.author,
                handoff_transcript.c.text,
                handoff_transcript.c.at,
            )
            .where(handoff_transcript.c.handoff_id == handoff_id)
            .order_by(handoff_transcript.c.line_id)
        )
        return [TranscriptLine(**row) for row in result.mappings()]


class SqlAgentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, agent_id: str) -> Agent | None:
        result = await self._connection.execute(select(agents).where(agents.c.agent_id == agent_id))
        return from_row(Agent, result.mappings().first())

    async def by_username(self, username: str) -> Agent | None:
        result = await self._connection.execute(select(agents).where(agents.c.username == username))
        return from_row(Agent, result.mappings().first())

    async def add(self, agent: Agent) -> None:
        await self._connection.execute(insert(agents).values(**asdict(agent)))

    async def update(self, agent: Agent) -> None:
        await self._connection.execute(
            update(agents).where(agents.c.agent_id == agent.agent_id).values(**asdict(agent))
        )

    async def add_session(self, session: AgentSession) -> None:
        await self._connection.execute(insert(agent_sessions).values(**asdict(session)))

    async def session(self, token_hash: str) -> AgentSession | None:
        result = await self._connection.execute(
            select(agent_sessions).where(agent_sessions.c.token_hash == token_hash)
        )
        return from_row(AgentSession, result.mappings().first())

    async def delete_session(self, token_hash: str) -> None:
        await self._connection.execute(
            delete(agent_sessions).where(agent_sessions.c.token_hash == token_hash)
        )

    async def delete_sessions_before(self, moment: datetime) -> None:
        await self._connection.execute(
            delete(agent_sessions).where(agent_sessions.c.expires_at <= moment)
        )


class SqlComplaintRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, complaint_id: str) -> Complaint | None:
        result = await self._connection.execute(
            select(complaints).where(complaints.c.complaint_id == complaint_id)
        )
        return from_row(Complaint, result.mappings().first())

    async def add(self, complaint: Complaint) -> None:
        await self._connection.execute(insert(complaints).values(**asdict(complaint)))

    async def update(self, complaint: Complaint) -> None:
        await self._connection.execute(
            update(complaints)
            .where(complaints.c.complaint_id == complaint.complaint_id)
            .values(**asdict(complaint))
        )

    async def recent(self, limit: int) -> list[Complaint]:
        result = await self._connection.execute(
            select(complaints).order_by(complaints.c.updated_at.desc()).limit(limit)
        )
        return [Complaint(**row) for row in result.mappings()]
