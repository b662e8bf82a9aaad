"""Tables of human handoff, help-desk agents and complaints, on the product's MetaData.

They hold ids only: conversations and residents are referenced, never their phone numbers,
chat ids, SSO IDs or consumer numbers.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from bot.model.complaints import ComplaintStatus, Disposition
from bot.model.handoff import Author, HandoffStatus
from integrations.db.crypto import EncryptedText
from integrations.db.tables import UtcDateTime, _id, _string_enum, metadata

handoffs = Table(
    "handoffs",
    metadata,
    _id("handoff_id", primary_key=True),
    _id("conversation_id", nullable=False),
    Column("status", _string_enum(HandoffStatus), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    _id("agent_id", nullable=True),
    Column("taken_at", UtcDateTime(), nullable=True),
    Column("released_at", UtcDateTime(), nullable=True),
    Index(None, "conversation_id", "status"),
    Index(None, "status", "requested_at"),
)

handoff_transcript = Table(
    "handoff_transcript",
    metadata,
    Column("line_id", Integer, primary_key=True, autoincrement=True),
    _id("handoff_id", nullable=False, index=True),
    Column("author", _string_enum(Author), nullable=False),
    # What a resident typed to an agent is personal data: encrypted like the inbox.
    Column("text", EncryptedText(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

agents = Table(
    "agents",
    metadata,
    _id("agent_id", primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    # What residents see ("Asha from the help desk"), never the username, which logs in.
    Column("display_name", String(64), nullable=False),
    Column("password_hash", String(128), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
)

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    _id("agent_id", nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

complaints = Table(
    "complaints",
    metadata,
    Column("complaint_id", String(16), primary_key=True),
    _id("resident_id", nullable=False, index=True),
    _id("conversation_id", nullable=False),
    Column("disposition", _string_enum(Disposition, length=32), nullable=False),
    Column("description", EncryptedText(), nullable=False),
    Column("status", _string_enum(ComplaintStatus), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False, index=True),
    _id("payment_id", nullable=True),
)
