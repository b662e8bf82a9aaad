"""What an SMS costs: segments, counted the way carriers bill them (3GPP TS 23.038 / 23.040).

Written here rather than taken from `channels/sms.py`: this is the instrument that measures
the bot, so it must not move when the code under measurement does.

- GSM-7 when every character is in the GSM 03.38 basic set or its extension table; an
  extension character (€ [ ] { } ~ ^ \\ | and form feed) is sent as ESC + character, two
  septets. One segment holds 160 septets; a concatenated message 153 per segment (the
  user data header takes 7 octets).
- Anything else is UCS-2 (UTF-16 code units): 70 per segment, 67 concatenated. A character
  outside the Basic Multilingual Plane (most emoji) is a surrogate pair: two units.
- A segment never ends in the middle of an escape sequence or a surrogate pair: handsets
  could not join the halves, so senders move the whole character to the next segment.
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
# (units in a single segment, units per segment of a concatenated message)
LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


def encoding(text: str) -> str:
    """ "gsm7" when the whole text fits the GSM 03.38 alphabet, else "ucs2"."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        return "gsm7"
    return "ucs2"


def units(char: str, scheme: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    if scheme == "gsm7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def segments(text: str) -> int:
    """Segments one SMS with this body costs (an empty body still costs one)."""
    scheme = encoding(text)
    single, per_part = LIMITS[scheme]
    sizes = [units(char, scheme) for char in text]
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            count, used = count + 1, 0
        used += size
    return count
