"""Web chat sessions issued by the server, expiring (issue 13, finding 10): the SHA-256 of
each session id with when it was made and last used.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webchat_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_webchat_sessions")),
    )
    with op.batch_alter_table("webchat_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webchat_sessions_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webchat_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webchat_sessions_created_at"))
    op.drop_table("webchat_sessions")
