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
    """The message text with its buttons as a numbered list, and a one-line hint unless the
    text already asks for a number (on SMS every character is paid)."""
    if not message.buttons:
        return message.text
    options = "\n".join(f"{number}. {b.title}" for number, b in enumerate(message.buttons, 1))
    hint = texts.render("options_hint", language)
    if _asks_for_a_number(message.text):
        return f"{message.text}\n\n{options}"
    return f"{message.text}\n\n{options}\n{hint}"


def _asks_for_a_number(text: str) -> bool:
    last = text.strip().rsplit("\n", 1)[-1].casefold()
    return ("number" in last or "नंबर" in last) and ("reply" in last or "लिखें" in last)
