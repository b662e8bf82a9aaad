"""Our records of residents' power complaints (the company's tickets), on the product's
MetaData. The consumer number is personal data: encrypted like saved accounts'."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from bot.model.outages import SupplyTicketStatus
from integrations.db.crypto import EncryptedText
from integrations.db.tables import UtcDateTime, _id, _string_enum, metadata

supply_complaints = Table(
    "supply_complaints",
    metadata,
    Column("biller_id", String(64), primary_key=True),
    Column("ticket_number", String(64), primary_key=True),
    _id("resident_id", nullable=False, index=True),
    _id("conversation_id", nullable=False),
    Column("consumer_number", EncryptedText(), nullable=False),
    Column("status", _string_enum(SupplyTicketStatus), nullable=False),
    # The company's remark: free text from outside, kept encrypted like anything typed.
    Column("note", EncryptedText(), nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("checked_at", UtcDateTime(), nullable=False),
    Index(None, "status", "checked_at"),
)
