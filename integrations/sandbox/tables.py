"""The sandbox's own tables: what the pretend outside systems remember.

They live in the product's database so that every process (gateway, action server) sees
the same bills, SMS and payment links, but on their own MetaData: they are not part of the
product's schema or its Alembic migrations, and are created by the seed command.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, MetaData, String, Table, Text

from integrations.db.tables import UtcDateTime

metadata = MetaData()

# A biller's bills. Status changes when a payment is posted (the biller's side of BBPS).
bills = Table(
    "sandbox_bills",
    metadata,
    Column("biller_id", String(32), primary_key=True),
    Column("consumer_number", String(32), primary_key=True),
    Column("bill_number", String(64), primary_key=True),
    Column("bill_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount_paise", Integer, nullable=False),
    Column("status", String(8), nullable=False),  # unpaid | paid
    Column("paid_by_reference", String(64)),
)

# Payments posted to billers; the primary key makes posting idempotent on our reference.
postings = Table(
    "sandbox_biller_postings",
    metadata,
    Column("reference_id", String(64), primary_key=True),
    Column("biller_id", String(32), nullable=False),
    Column("consumer_number", String(32), nullable=False),
    Column("bill_number", String(64), nullable=False),
    Column("amount_paise", Integer, nullable=False),
    Column("transaction_reference", String(32), nullable=False, unique=True),
    Column("posted_at", UtcDateTime(), nullable=False),
)

# Every SMS the sandbox provider "sent", for GET /sandbox/sms.
sms_outbox = Table(
    "sandbox_sms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("to_number", String(20), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("sent_at", UtcDateTime(), nullable=False),
)

# Every email the sandbox mail server "sent", for GET /sandbox/email.
email_outbox = Table(
    "sandbox_email_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("to_address", String(254), nullable=False, index=True),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("attachments", Text, nullable=False),  # file names, one a line
    Column("sent_at", UtcDateTime(), nullable=False),
)

# Hosted payment links of the sandbox gateway.
payment_links = Table(
    "sandbox_payment_links",
    metadata,
    Column("link_id", String(32), primary_key=True),
    Column("reference_id", String(64), nullable=False, unique=True),
    Column("amount_paise", Integer, nullable=False),
    Column("description", String(255), nullable=False),
    Column("customer_name", String(255), nullable=False),
    Column("customer_contact", String(20), nullable=False),
    Column("callback_url", String(512), nullable=False),
    Column("status", String(16), nullable=False),  # created | paid | failed | expired
    Column("expire_by", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("gateway_payment_id", String(32)),
)

# Outages the sandbox electricity company knows of (announced planned shutdowns and
# faults), and the connections each switches off.
outages = Table(
    "sandbox_outages",
    metadata,
    Column("outage_id", String(32), primary_key=True),
    Column("biller_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # planned | unplanned
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("reason", String(255), nullable=False),
    Column("area", String(128), nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
)

outage_connections = Table(
    "sandbox_outage_connections",
    metadata,
    Column(
        "outage_id",
        String(32),
        ForeignKey("sandbox_outages.outage_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("consumer_number", String(32), primary_key=True, index=True),
)

# No-supply complaints registered with the sandbox electricity company.
supply_tickets = Table(
    "sandbox_supply_tickets",
    metadata,
    Column("ticket_number", String(32), primary_key=True),
    Column("biller_id", String(32), nullable=False),
    Column("consumer_number", String(32), nullable=False, index=True),
    Column("mobile", String(20), nullable=False),
    Column("description", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # registered | assigned | resolved | closed
    Column("note", String(255), nullable=False, default=""),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
