"""What the bot says to a resident, in a channel-neutral shape every channel adapter renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    url: str
    filename: str
    mime: str


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    attachment: Attachment | None = None


@dataclass(frozen=True)
class PushedMessage:
    """A message queued for a conversation outside a turn (receipt, reminder, agent reply).

    `sequence` orders a conversation's pushes and is the web chat's cursor.
    """

    sequence: int
    conversation_id: str
    message: OutboundMessage
    created_at: datetime
