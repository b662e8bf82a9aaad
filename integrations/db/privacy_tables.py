"""Tables of the privacy feature, on the product's MetaData (imported by tables.py)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from integrations.db.tables import UtcDateTime, metadata

# The privacy notice shown in a conversation and the consent given by writing again after it.
consents = Table(
    "consents",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("notice_version", String(16), nullable=False),
    Column("notice_shown_at", UtcDateTime(), nullable=False),
    Column("consented_at", UtcDateTime(), nullable=True),
)

# Conversations whose dialogue-engine history (Rasa's tracker) must still be erased.
history_erasures = Table(
    "history_erasures",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("requested_at", UtcDateTime(), nullable=False),
)
