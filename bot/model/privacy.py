"""The privacy notice a resident was shown, their consent, and what we hold about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.model.residents import Channel

# Bump when the notice's text changes in substance: consents record the version they gave.
NOTICE_VERSION = "2026-11"
# What replaces identifiers in the payment records we must keep after an erasure.
ERASED = "erased"


@dataclass
class Consent:
    """Notice shown in a conversation (first contact), and consent given by continuing.

    `notice_key` is the message whose turn showed the notice, `notice_sequence` the outbox
    sequence of that turn's last reply (channels), `notice_delivered_at` when the notice
    reached the resident: consent counts only from a message that came after that."""

    conversation_id: str
    notice_version: str
    notice_shown_at: datetime
    consented_at: datetime | None = None
    notice_key: str | None = None
    notice_sequence: int | None = None
    notice_delivered_at: datetime | None = None


@dataclass(frozen=True)
class HeldAccount:
    biller_id: str
    masked_consumer_number: str


@dataclass(frozen=True)
class HeldSupplyComplaint:
    biller_id: str
    ticket_number: str
    masked_consumer_number: str


@dataclass(frozen=True)
class DataHeld:
    """Everything stored about the person behind a conversation, masked for showing."""

    linked: bool
    masked_sso_id: str = ""
    masked_name: str = ""
    masked_mobile: str = ""
    masked_email: str = ""  # the confirmed email address, "" when there is none
    linked_at: datetime | None = None
    chats: tuple[tuple[Channel, str], ...] = ()  # (channel, masked address)
    accounts: tuple[HeldAccount, ...] = ()
    supply_complaints: tuple[HeldSupplyComplaint, ...] = ()
    payments: int = 0
    consent: Consent | None = None


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed. Payments are kept (tax and payment-system rules require the
    record) with the resident, the chat and the consumer number taken out."""

    resident_erased: bool
    conversations_erased: int
    accounts_erased: int
    payments_deidentified: int
