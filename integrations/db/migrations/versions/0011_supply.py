"""Power complaints: our records of the no-supply tickets residents registered with their
electricity company (bot/services/supply.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supply_complaints",
        sa.Column("biller_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_number", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("consumer_number", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("biller_id", "ticket_number", name=op.f("pk_supply_complaints")),
    )
    op.create_index(
        op.f("ix_supply_complaints_resident_id"), "supply_complaints", ["resident_id"]
    )
    op.create_index(
        op.f("ix_supply_complaints_status_checked_at"),
        "supply_complaints",
        ["status", "checked_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_supply_complaints_status_checked_at"), table_name="supply_complaints")
    op.drop_index(op.f("ix_supply_complaints_resident_id"), table_name="supply_complaints")
    op.drop_table("supply_complaints")
