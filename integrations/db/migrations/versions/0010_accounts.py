"""Linking-code limits per chat (otp_sends.conversation_id) and agents' display names.

otp_sends rows before this revision have no chat: they still count for the per-SSO-ID cap
and simply not for any chat's own limits. Existing agents get a display name made from
their username's first word (asha.verma → Asha, agent1 → Agent), as new ones do by default.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _first_name(username: str) -> str:
    # A copy of bot.model.handoff.default_display_name as it was at this revision.
    word = re.match(r"[a-z]*", username)
    name = word.group(0) if word else ""
    return name.capitalize() if len(name) >= 2 else "Help desk"


def upgrade() -> None:
    with op.batch_alter_table("otp_sends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_otp_sends_conversation_id_sent_at"),
            ["conversation_id", "sent_at"],
            unique=False,
        )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=64), nullable=True))
    agents = sa.table(
        "agents", sa.column("agent_id"), sa.column("username"), sa.column("display_name")
    )
    connection = op.get_bind()
    for agent_id, username in connection.execute(sa.select(agents.c.agent_id, agents.c.username)):
        connection.execute(
            agents.update()
            .where(agents.c.agent_id == agent_id)
            .values(display_name=_first_name(username))
        )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.alter_column("display_name", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("display_name")
    with op.batch_alter_table("otp_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otp_sends_conversation_id_sent_at"))
        batch_op.drop_column("conversation_id")
