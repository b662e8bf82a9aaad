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


def compact(replies: list[OutboundMessage]) -> list[OutboundMessage]:
    """A turn's replies in as few messages as a phone shows well: texts are joined, every
    button goes into one list on the last message (one numbered list alive at a time), and
    an attachment carries the texts before it as its caption. Without attachments that is
    one message; with one, at most two.

    For channels that charge or clutter per message (WhatsApp, SMS). Buttons with the same
    payload appear once, where they first appeared."""
    result: list[OutboundMessage] = []
    texts: list[str] = []
    buttons: dict[str, Button] = {}
    for reply in replies:
        if reply.attachment is not None:
            caption = "\n\n".join([*texts, reply.text] if reply.text else texts)
            result.append(OutboundMessage(text=caption, attachment=reply.attachment))
            texts = []
        elif reply.text:
            texts.append(reply.text)
        for button in reply.buttons:
            buttons.setdefault(button.payload, button)
    if texts or (buttons and not result):
        result.append(OutboundMessage(text="\n\n".join(texts)))
    if buttons:
        last = result[-1]
        result[-1] = OutboundMessage(
            text=last.text, buttons=tuple(buttons.values()), attachment=last.attachment
        )
    return result
