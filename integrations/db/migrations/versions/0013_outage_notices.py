"""Planned-outage notices: the planned power cuts companies announced (the notices
themselves are reminders of kind "planned_outage", which needs no change to `reminders`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planned_outages",
        sa.Column("biller_id", sa.String(length=64), nullable=False),
        sa.Column("outage_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("biller_id", "outage_id", name=op.f("pk_planned_outages")),
    )
    with op.batch_alter_table("planned_outages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_planned_outages_biller_id_ends_at"),
            ["biller_id", "ends_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("planned_outages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planned_outages_biller_id_ends_at"))
    op.drop_table("planned_outages")
