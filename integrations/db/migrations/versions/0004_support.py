"""Support: human handoffs and their transcripts, help-desk agents and their sessions,
complaints.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("handoff_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("handoff_id", name=op.f("pk_handoffs")),
    )
    op.create_index(
        op.f("ix_handoffs_conversation_id_status"), "handoffs", ["conversation_id", "status"]
    )
    op.create_index(op.f("ix_handoffs_status_requested_at"), "handoffs", ["status", "requested_at"])
    op.create_table(
        "handoff_transcript",
        sa.Column("line_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_handoff_transcript")),
    )
    op.create_index(
        op.f("ix_handoff_transcript_handoff_id"), "handoff_transcript", ["handoff_id"]
    )
    op.create_table(
        "agents",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=128), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_agent_sessions")),
    )
    op.create_index(op.f("ix_agent_sessions_expires_at"), "agent_sessions", ["expires_at"])
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(length=16), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaints")),
    )
    op.create_index(op.f("ix_complaints_resident_id"), "complaints", ["resident_id"])
    op.create_index(op.f("ix_complaints_updated_at"), "complaints", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_complaints_updated_at"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_resident_id"), table_name="complaints")
    op.drop_table("complaints")
    op.drop_index(op.f("ix_agent_sessions_expires_at"), table_name="agent_sessions")
    op.drop_table("agent_sessions")
    op.drop_table("agents")
    op.drop_index(op.f("ix_handoff_transcript_handoff_id"), table_name="handoff_transcript")
    op.drop_table("handoff_transcript")
    op.drop_index(op.f("ix_handoffs_status_requested_at"), table_name="handoffs")
    op.drop_index(op.f("ix_handoffs_conversation_id_status"), table_name="handoffs")
    op.drop_table("handoffs")
