"""Tables of the privacy feature, on the product's MetaData (imported by tables.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table

from integrations.db.crypto import BlindIndex
from integrations.db.tables import UtcDateTime, metadata

# The privacy notice shown in a conversation and the consent given by writing again after it.
consents = Table(
    "consents",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("notice_version", String(16), nullable=False),
    Column("notice_shown_at", UtcDateTime(), nullable=False),
    Column("consented_at", UtcDateTime(), nullable=True),
    # The message whose turn showed the notice, the outbox sequence of that turn's last
    # reply, and when the notice reached the resident: consent counts only from a message
    # that came after that (bot/services/privacy.py).
    Column("notice_key", String(200), nullable=True),
    Column("notice_sequence", BigInteger().with_variant(Integer(), "sqlite"), nullable=True),
    Column("notice_delivered_at", UtcDateTime(), nullable=True),
)

# Conversations whose dialogue-engine history (Rasa's tracker) must still be erased.
history_erasures = Table(
    "history_erasures",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("requested_at", UtcDateTime(), nullable=False),
)

# Which conversations named an identifier (a keyed hash of it: bot/model/mentions.py), so an
# erasure also reaches the dialogue histories of other chats that typed the resident's SSO
# ID, mobile or consumer number.
identifier_mentions = Table(
    "identifier_mentions",
    metadata,
    Column("identifier_hash", BlindIndex("mention"), primary_key=True),
    Column("conversation_id", String(64), primary_key=True, index=True),
    Column("mentioned_at", UtcDateTime(), nullable=False),
)
