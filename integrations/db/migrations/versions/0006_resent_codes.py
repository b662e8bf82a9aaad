"""Conversation repair: link challenges remember the code sent before a resend (valid until
its own expiry); inbox entries keep the channel's language hint (Telegram's language_code).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_otp_hash", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("previous_expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language_hint", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("language_hint")
    with op.batch_alter_table("link_challenges", schema=None) as batch_op:
        batch_op.drop_column("previous_expires_at")
        batch_op.drop_column("previous_otp_hash")
