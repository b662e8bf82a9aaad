"""Turns safe to repeat: each message's side effects recorded once (turn_effects), and the
privacy notice's own message, last reply and delivery time (consents).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_effects",
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("effect", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_key", "effect", name=op.f("pk_turn_effects")),
    )
    with op.batch_alter_table("turn_effects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_turn_effects_claimed_at"), ["claimed_at"], unique=False
        )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_key", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "notice_sequence",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("notice_delivered_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Notices shown before this revision went out with their turn's reply, as they did then.
    op.execute("UPDATE consents SET notice_delivered_at = notice_shown_at")


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("notice_delivered_at")
        batch_op.drop_column("notice_sequence")
        batch_op.drop_column("notice_key")
    with op.batch_alter_table("turn_effects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_turn_effects_claimed_at"))
    op.drop_table("turn_effects")
