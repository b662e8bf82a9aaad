"""Erasure reaches every conversation that named a resident's identifiers: keyed hashes of
the identifiers each conversation mentioned (identifier_mentions).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identifier_mentions",
        sa.Column("identifier_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("mentioned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "identifier_hash", "conversation_id", name=op.f("pk_identifier_mentions")
        ),
    )
    with op.batch_alter_table("identifier_mentions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identifier_mentions_conversation_id"), ["conversation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identifier_mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identifier_mentions_conversation_id"))
    op.drop_table("identifier_mentions")
