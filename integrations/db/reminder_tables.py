"""Tables of the reminder engine, on the product's MetaData.

No phone number, chat id, SSO ID or consumer number here: reminders point at the resident,
the saved account and the conversation by id, and the text is rendered at send time.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.model.reminders import ReminderKind, ReminderState
from bot.model.residents import Language
from integrations.db.tables import UtcDateTime, _id, _string_enum, metadata

# The durable schedule. (account_id, bill_number, kind) unique: whatever runs twice, a bill
# has at most one reminder of each kind, and the state machine sends each row at most once.
reminders = Table(
    "reminders",
    metadata,
    Column(
        "reminder_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    _id("resident_id", nullable=False),
    _id("account_id", nullable=False),
    Column("biller_id", String(64), nullable=False),
    Column("bill_number", String(64), nullable=False),
    Column("kind", _string_enum(ReminderKind), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("consumer_hint", String(16), nullable=False),  # masked: "••••8912"
    Column("due_on", Date, nullable=False),
    Column("send_at", UtcDateTime(), nullable=False),
    Column("state", _string_enum(ReminderState), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("claim_token", String(32), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("account_id", "bill_number", "kind"),
    Index(None, "state", "send_at"),
    Index(None, "claim_token"),
)

# Consent is recorded at linking (its time kept); "stop reminders" / "set reminder" flip it.
reminder_consents = Table(
    "reminder_consents",
    metadata,
    _id("resident_id", primary_key=True),
    _id("conversation_id", nullable=False),
    Column("language", _string_enum(Language), nullable=False),
    Column("enabled", Boolean(create_constraint=False), nullable=False),
    Column("consented_at", UtcDateTime(), nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
    Column("days_before", Integer, nullable=False),
    # The kinds on, comma-separated ("new_bill,before_due,due_day,overdue": all four).
    Column("kinds", String(64), nullable=False),
)

# A saved account's own policy, overriding the resident's (absent: the resident's applies).
reminder_account_policies = Table(
    "reminder_account_policies",
    metadata,
    _id("account_id", primary_key=True),
    Column("days_before", Integer, nullable=False),
    Column("kinds", String(64), nullable=False),
    Column("changed_at", UtcDateTime(), nullable=False),
)

# Bill discovery's own bookkeeping per saved account: when to look again, what it saw last.
bill_checks = Table(
    "bill_checks",
    metadata,
    _id("account_id", primary_key=True),
    Column("next_check_at", UtcDateTime(), nullable=False, index=True),
    Column("last_bill_number", String(64), nullable=True),
    Column("checked_at", UtcDateTime(), nullable=True),
)

# Planned power cuts as the electricity companies announced them (no personal data: the
# connections they switch off are matched against saved accounts and not kept). A notice
# is a reminder row of kind PLANNED_OUTAGE whose bill_number is `outage_id`; its text is
# rendered from here at send time, so a moved cut is announced with its latest times.
# `cancelled_at`: the company stopped announcing it before it started.
planned_outages = Table(
    "planned_outages",
    metadata,
    Column("biller_id", String(64), primary_key=True),
    Column("outage_id", String(64), primary_key=True),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
    Column("area", Text, nullable=False),
    Column("announced_at", UtcDateTime(), nullable=False),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    Index(None, "biller_id", "ends_at"),
)
