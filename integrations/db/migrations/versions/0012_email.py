"""Email as an opt-in channel (issue 16): a resident's confirmed address (encrypted), the
codes that confirm one (a keyed hash of each) and the log of codes sent (for the limits).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.Text(), nullable=True))
    op.create_table(
        "email_challenges",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts_left", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_email_challenges")),
    )
    with op.batch_alter_table("email_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_challenges_resident_id"), ["resident_id"], unique=False
        )
    op.create_table(
        "email_code_sends",
        sa.Column("send_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("send_id", name=op.f("pk_email_code_sends")),
    )
    with op.batch_alter_table("email_code_sends", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_code_sends_address_hash_sent_at"),
            ["address_hash", "sent_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_email_code_sends_resident_id_sent_at"),
            ["resident_id", "sent_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("email_code_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_code_sends_resident_id_sent_at"))
        batch_op.drop_index(batch_op.f("ix_email_code_sends_address_hash_sent_at"))
    op.drop_table("email_code_sends")
    with op.batch_alter_table("email_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_challenges_resident_id"))
    op.drop_table("email_challenges")
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("email")
