"""Residents, the conversations they hold with us, and the OTP challenge that links the two."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Language(str, Enum):
    EN = "en"
    HI = "hi"


class Channel(str, Enum):
    WEBCHAT = "webchat"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    TELEGRAM = "telegram"


@dataclass
class Resident:
    """A person identified by their SSO ID once they have proven it with an OTP."""

    resident_id: str
    sso_id: str
    name: str
    mobile: str  # E.164, the mobile registered with the SSO ID
    language: Language
    linked_at: datetime
    # An address proven with a code (bot/services/email_opt_in.py): receipts and reminders
    # also go there. None until the resident adds one, and after they remove it.
    email: str | None = None


@dataclass
class Conversation:
    """One chat on one channel. `conversation_id` is opaque: it is the Rasa sender id,
    so no phone number or chat id ever becomes a tracker key."""

    conversation_id: str
    channel: Channel
    address: str  # webchat sender id, E.164 phone number or Telegram chat id
    resident_id: str | None
    language: Language | None
    created_at: datetime


@dataclass
class LinkChallenge:
    """An OTP sent to the mobile registered with `sso_id`, waiting for this conversation to echo it.

    Only a keyed hash of the code is kept (OWASP ASVS): the code itself is never stored.
    """

    conversation_id: str
    sso_id: str
    otp_hash: str
    sent_at: datetime
    expires_at: datetime
    attempts_left: int
    # After a resend the earlier code keeps working until its own expiry: an SMS that was
    # only late must not turn into a "wrong code".
    previous_otp_hash: str | None = None
    previous_expires_at: datetime | None = None
