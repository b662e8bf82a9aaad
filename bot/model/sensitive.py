"""Secrets a resident should never type into a chat: passwords, card numbers, CVVs, Aadhaar.

`screen(text)` finds them and returns the text with each one replaced by a marker, so the
original never reaches the Rasa tracker, the inbox table or a log line. Markers are
recognised again (a text redacted when the inbox accepted it still warns when answered).

Numbers are checked, not guessed: a card number must pass the Luhn check (ISO/IEC 7812),
an Aadhaar number the Verhoeff check UIDAI uses (and never starts with 0 or 1). Utility
consumer numbers are 12 digits too and one in ten passes Verhoeff (the sandbox's BESL
710634567890 does), typed 4-4-4 as often as not: so a 12-digit number counts as Aadhaar only
when the message says it is one ("aadhaar", "आधार", "UID", "VID"). A bare number is left
alone: wrongly eating a consumer number would break paying the bill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Sensitive(str, Enum):
    PASSWORD = "password"
    CARD = "card"
    CVV = "cvv"
    AADHAAR = "aadhaar"


MARKERS: dict[Sensitive, str] = {
    Sensitive.PASSWORD: "[password removed]",
    Sensitive.CARD: "[card number removed]",
    Sensitive.CVV: "[CVV removed]",
    Sensitive.AADHAAR: "[Aadhaar removed]",
}

# Devanagari digits have one code point each: translating keeps every span's position.
_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_SEP = r"[ \-]"
_CARD = re.compile(
    rf"(?<![\d\-])(?:\d{{13,19}}|\d{{4}}(?:{_SEP}\d{{4}}){{2,3}}(?:{_SEP}\d{{1,3}})?"
    rf"|\d{{4}}{_SEP}\d{{6}}{_SEP}\d{{4,5}})(?![\d\-])"
)
_AADHAAR_SPACED = re.compile(rf"(?<![\d\-])[2-9]\d{{3}}{_SEP}\d{{4}}{_SEP}\d{{4}}(?![\d\-])")
_AADHAAR_BARE = re.compile(r"(?<![\d\-])[2-9]\d{11}(?![\d\-])")
_AADHAAR_WORDS = re.compile(r"aadh?aa?r|adhaa?r|\b(?:uid(?:ai)?|vid)\b|आधार", re.IGNORECASE)
_CVV = re.compile(
    r"(?:\bcvv2?|\bcvc2?|\bcid\b|security\s+code|card\s+verification\s+(?:value|code)|सीवीवी)"
    r"(?:\s*(?:no\.?|number|code|is|hai|है|:|=|-)\s*)*\s*(?P<value>\d{3,4})(?!\d)",
    re.IGNORECASE,
)
# "password: x", "my password is x", "pass = x", "पासवर्ड है x", "mera password x hai".
_PASSWORD_WORD = r"(?:\bpass(?:word|wd|code)?\b|\bpwd\b|\b(?:upi|atm|m)\s?pin\b|पासवर्ड|पिन)"
_PASSWORD = re.compile(
    rf"{_PASSWORD_WORD}\s*(?P<sign>[:=])\s*(?P<value>\S+)"
    rf"|{_PASSWORD_WORD}(?:\s*(?:-|\bis\b|\bhai\b|है)\s*)+(?P<said>\S+)"
    rf"|{_PASSWORD_WORD}\s+(?P<before>\S+)\s+(?:hai|है)(?!\S)",
    re.IGNORECASE,
)
# After "password is" (no colon) only what looks like one counts: a digit or a symbol in
# it, or 8+ letters that are not ordinary words ("my password is not working").
_NOT_A_PASSWORD = frozenset(
    "not wrong incorrect invalid forgotten forgot lost expired reset working blocked locked "
    "changed correct right same there still required needed showing different kya nahi "
    "nahin galat bhool bhul yaad kaise mera meri मेरा क्या नहीं गलत भूल याद".split()
)


def _looks_like_a_password(value: str) -> bool:
    if value.lower() in _NOT_A_PASSWORD:
        return False
    return bool(re.search(r"[\d\W_]", value)) or len(value) >= 8


@dataclass(frozen=True)
class Screened:
    text: str  # with every secret replaced by its marker
    found: frozenset[Sensitive]

    @property
    def without_markers(self) -> str:
        """The text with the markers taken out too: what the dialogue engine should read."""
        text = self.text
        for marker in MARKERS.values():
            text = text.replace(marker, " ")
        return " ".join(text.split())


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def _digits(span: str) -> str:
    return re.sub(r"\D", "", span)


def screen(text: str) -> Screened:
    """`text` with passwords, card numbers, CVVs and Aadhaar numbers replaced by markers."""
    found = {kind for kind, marker in MARKERS.items() if marker in text}
    spans: list[tuple[int, int, Sensitive]] = []
    ascii_digits = text.translate(_DIGITS)

    def taken(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e, _ in spans)

    for match in _CARD.finditer(ascii_digits):
        digits = _digits(match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            spans.append((match.start(), match.end(), Sensitive.CARD))
    if _AADHAAR_WORDS.search(ascii_digits):
        for pattern in (_AADHAAR_SPACED, _AADHAAR_BARE):
            for match in pattern.finditer(ascii_digits):
                if verhoeff_valid(_digits(match.group(0))) and not taken(*match.span()):
                    spans.append((match.start(), match.end(), Sensitive.AADHAAR))
    for match in _CVV.finditer(ascii_digits):
        if not taken(*match.span("value")):
            spans.append((match.start("value"), match.end("value"), Sensitive.CVV))
    for match in _PASSWORD.finditer(ascii_digits):
        group = next(g for g in ("value", "said", "before") if match.group(g) is not None)
        value = match.group(group).rstrip(".,!?\"'।")
        if not value or value.startswith("[") or value.lower() in _NOT_A_PASSWORD:
            continue
        if group != "value" and not _looks_like_a_password(value):
            continue
        start = match.start(group)
        if not taken(start, start + len(value)):
            spans.append((start, start + len(value), Sensitive.PASSWORD))

    redacted = text
    for start, end, kind in sorted(spans, reverse=True):
        redacted = redacted[:start] + MARKERS[kind] + redacted[end:]
        found.add(kind)
    return Screened(redacted, frozenset(found))
