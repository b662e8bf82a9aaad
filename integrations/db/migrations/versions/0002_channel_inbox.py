"""Messaging channels: the inbox of accepted WhatsApp/SMS/Telegram messages, per-conversation
channel state (opt-out, last inbound time, options last offered) and outbox deliveries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_inbox_channel_external_id")),
    )
    op.create_index(
        op.f("ix_inbox_processed_at_entry_id"), "inbox", ["processed_at", "entry_id"]
    )
    op.create_table(
        "channel_states",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("options", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_channel_states")),
    )
    op.create_table(
        "outbox_deliveries",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_outbox_deliveries")),
    )
    op.create_index(
        op.f("ix_outbox_deliveries_state_next_attempt_at"),
        "outbox_deliveries",
        ["state", "next_attempt_at"],
    )
    op.create_index(op.f("ix_outbox_created_at"), "outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_created_at"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_deliveries_state_next_attempt_at"), table_name="outbox_deliveries")
    op.drop_table("outbox_deliveries")
    op.drop_table("channel_states")
    op.drop_index(op.f("ix_inbox_processed_at_entry_id"), table_name="inbox")
    op.drop_table("inbox")
