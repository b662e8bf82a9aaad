"""Initial schema: residents, conversations, link challenges, saved accounts, payments,
webhook events and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residents",
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("sso_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("mobile", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_residents")),
        sa.UniqueConstraint("sso_id", name=op.f("uq_residents_sso_id")),
    )
    op.create_table(
        "conversations",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("channel", "address", name=op.f("uq_conversations_channel_address")),
    )
    op.create_table(
        "link_challenges",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("sso_id", sa.String(length=64), nullable=False),
        sa.Column("otp_hash", sa.String(length=128), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts_left", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_link_challenges")),
    )
    op.create_index(op.f("ix_link_challenges_sso_id"), "link_challenges", ["sso_id"])
    op.create_table(
        "otp_sends",
        sa.Column("send_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sso_id", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("send_id", name=op.f("pk_otp_sends")),
    )
    op.create_index(
        op.f("ix_otp_sends_sso_id_sent_at"), "otp_sends", ["sso_id", "sent_at"]
    )
    op.create_table(
        "saved_accounts",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("utility", sa.String(length=16), nullable=False),
        sa.Column("biller_id", sa.String(length=64), nullable=False),
        sa.Column("consumer_number", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_saved_accounts")),
        sa.UniqueConstraint(
            "resident_id",
            "biller_id",
            "consumer_number",
            name=op.f("uq_saved_accounts_resident_id_biller_id_consumer_number"),
        ),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("biller_id", sa.String(length=64), nullable=False),
        sa.Column("consumer_number", sa.String(length=64), nullable=False),
        sa.Column("bill_number", sa.String(length=64), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=True),
        sa.Column("link_url", sa.Text(), nullable=True),
        sa.Column("gateway_payment_id", sa.String(length=64), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_number", sa.String(length=32), nullable=True),
        sa.Column("biller_confirmed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payments")),
        sa.UniqueConstraint("link_id", name=op.f("uq_payments_link_id")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_payments_receipt_number")),
    )
    op.create_index(
        op.f("ix_payments_resident_id_created_at"), "payments", ["resident_id", "created_at"]
    )
    op.create_table(
        "webhook_events",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_webhook_events")),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_outbox_conversation_id"), "outbox", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_conversation_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("webhook_events")
    op.drop_index(op.f("ix_payments_resident_id_created_at"), table_name="payments")
    op.drop_table("payments")
    op.drop_table("saved_accounts")
    op.drop_index(op.f("ix_otp_sends_sso_id_sent_at"), table_name="otp_sends")
    op.drop_table("otp_sends")
    op.drop_index(op.f("ix_link_challenges_sso_id"), table_name="link_challenges")
    op.drop_table("link_challenges")
    op.drop_table("conversations")
    op.drop_table("residents")
