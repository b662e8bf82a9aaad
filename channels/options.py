"""Buttons on channels that have none (WhatsApp through Twilio, SMS): numbered options.

"1. Check my bill" under the text; the resident answers "1", "2" or the option's words, and
the core (`bot.model.channels.resolve_option`) turns that back into the button's payload
using the options remembered for the conversation when this message was sent.
"""

from __future__ import annotations

from bot import messages as texts
from bot.model.outbound import OutboundMessage
from bot.model.residents import Language


def numbered_text(message: OutboundMessage, language: Language) -> str:
    """The message text with its buttons as a numbered list and a one-line hint."""
    if not message.buttons:
        return message.text
    options = "\n".join(f"{number}. {b.title}" for number, b in enumerate(message.buttons, 1))
    return f"{message.text}\n\n{options}\n{texts.render('options_hint', language)}"
