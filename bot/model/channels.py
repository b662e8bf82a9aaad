"""Messaging channels as the core sees them: a resident's message recorded in the inbox, the
per-conversation channel state (opt-out, the 24-hour window, the options last offered) and
one outbound delivery.

Provider formats (Twilio forms, Telegram updates) never get this far: the channel adapters
translate them into `InboundMessage` and render `Delivery` back.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from bot.model.identifiers import ascii_digits
from bot.model.outbound import Button, OutboundMessage
from bot.model.residents import Channel, Language

# Meta's customer-service window: free-form WhatsApp messages only this long after the
# resident's last message; after it only approved templates.
WHATSAPP_WINDOW = timedelta(hours=24)


class InboundKind(str, Enum):
    TEXT = "text"  # typed text or a pressed button's payload
    MEDIA = "media"  # a picture, voice note, sticker… with nothing typed


@dataclass(frozen=True)
class InboundMessage:
    """One resident message as a channel adapter parsed it.

    `external_id` is the provider's own id (Twilio `MessageSid`, Telegram `update_id`):
    providers deliver at least once, and this is what makes a redelivery recognisable.
    """

    channel: Channel
    external_id: str
    address: str  # E.164 for WhatsApp and SMS, the chat id for Telegram
    kind: InboundKind
    text: str
    received_at: datetime
    # The language the resident's app is set to (Telegram's language_code), a first guess
    # for a new conversation; used when the message is accepted, not stored in the inbox.
    language_hint: Language | None = None


@dataclass(frozen=True)
class InboxEntry:
    """An accepted inbound message waiting for (or done with) its turn."""

    entry_id: int
    message: InboundMessage
    attempts: int
    processed_at: datetime | None = None


@dataclass
class ChannelState:
    """What a channel conversation needs remembered between messages."""

    conversation_id: str
    opted_out: bool = False  # STOP: no proactive messages (replies to the resident still go)
    last_inbound_at: datetime | None = None  # starts WhatsApp's 24-hour window
    options: tuple[Button, ...] = field(default_factory=tuple)  # the numbered options last sent

    def in_session_window(self, now: datetime) -> bool:
        return self.last_inbound_at is not None and now - self.last_inbound_at < WHATSAPP_WINDOW


class DeliveryKind(str, Enum):
    REPLY = "reply"  # the answer to the resident's own message
    PUSH = "push"  # news the resident did not just ask for (receipts, payment news, reminders)


class DeliveryState(str, Enum):
    PENDING = "pending"  # may be (re)tried once `next_attempt_at` has passed
    # Claimed by a sender. Found like this long after (its sender crashed), it is
    # reconciled: the provider is asked whether it has the message.
    SENDING = "sending"
    SENT = "sent"
    # The provider did not answer in time: it may have the message. With `next_attempt_at`
    # set, the provider will be asked (reconciliation); without, it stays uncertain for good.
    UNCERTAIN = "uncertain"
    FAILED = "failed"  # refused for good, or out of retries
    SUPPRESSED = "suppressed"  # the resident opted out, or no template fits outside the window


@dataclass(frozen=True)
class Delivery:
    """One outbox message on its way to a channel, with what the sender must know."""

    sequence: int
    conversation_id: str
    channel: Channel
    address: str
    message: OutboundMessage
    language: Language
    kind: DeliveryKind
    attempts: int
    opted_out: bool = False
    last_inbound_at: datetime | None = None
    in_session_window: bool = False  # WhatsApp: free-form allowed; else a template is needed
    # Where it stands (None: never claimed) and since when: what reconciliation works from.
    state: DeliveryState | None = None
    updated_at: datetime | None = None
    queued_at: datetime | None = None  # when the message entered the outbox


# --- STOP / START ----------------------------------------------------------------------------
def _keyword(text: str) -> str:
    folded = unicodedata.normalize("NFC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


# Whole-message keywords only: "stop reminders" is a request for the dialogue, not an opt-out.
STOP_WORDS = frozenset(
    _keyword(w)
    for w in ("stop", "stopall", "unsubscribe", "band karo", "bandh karo", "रोको", "बंद करो")
)
START_WORDS = frozenset(
    _keyword(w) for w in ("start", "unstop", "chalu karo", "shuru karo", "शुरू करो", "चालू करो")
)


def opt_keyword(text: str) -> bool | None:
    """True for a STOP keyword, False for START, None for anything else."""
    word = _keyword(text)
    if word in STOP_WORDS:
        return True
    if word in START_WORDS:
        return False
    return None


# --- numbered options -------------------------------------------------------------------------
# Telegram's callback_data holds at most 64 bytes; longer payloads travel as a token.
CALLBACK_DATA_BYTES = 64


def button_token(payload: str) -> str:
    """What a button carries when its payload is too long for the channel."""
    if len(payload.encode()) <= CALLBACK_DATA_BYTES:
        return payload
    return "#" + hashlib.sha256(payload.encode()).hexdigest()[:24]


def resolve_option(text: str, options: tuple[Button, ...]) -> str:
    """The payload a reply means, given the options last offered: "1", "१", the option's
    own words or its button token pick it; anything else is passed on as typed."""
    if text.startswith("#"):
        for option in options:
            if button_token(option.payload) == text:
                return option.payload
    typed = ascii_digits(text).strip().rstrip(".)")
    if typed.isdigit() and options:
        index = int(typed) - 1
        if 0 <= index < len(options):
            return options[index].payload
        return text
    wanted = _keyword(text)
    if wanted:
        for option in options:
            if _keyword(option.title) == wanted:
                return option.payload
    return text
