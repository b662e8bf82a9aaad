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
import unicodedata
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
# Between the groups of a typed number: spaces of any kind (no-break, thin, a newline, two in
# a row), hyphens, dots, slashes, zero-width spaces; up to three together ("4111 - 1111").
_SEP = r"[\s\-./\\_·•\u200b\u200c\u200d\u2060]{1,3}"
_EDGE_BEFORE = r"(?<![\d\-])"
_EDGE_AFTER = r"(?![\d\-]|[./]\d)"
# A card number, and the 1-3 digits a grouped one may end with (19-digit cards, or a CVV
# typed straight after it: tried with and without them).
_CARD = re.compile(
    rf"{_EDGE_BEFORE}(?P<main>\d{{13,19}}|\d{{4}}(?:{_SEP}\d{{4}}){{2,3}}"
    rf"|\d{{4}}{_SEP}\d{{6}}{_SEP}\d{{4,5}})(?:(?P<tail_sep>{_SEP})(?P<tail>\d{{1,3}}))?"
    rf"{_EDGE_AFTER}"
)
_AADHAAR_SPACED = re.compile(rf"{_EDGE_BEFORE}[2-9]\d{{3}}{_SEP}\d{{4}}{_SEP}\d{{4}}{_EDGE_AFTER}")
_AADHAAR_BARE = re.compile(rf"{_EDGE_BEFORE}[2-9]\d{{11}}{_EDGE_AFTER}")
_AADHAAR_WORDS = re.compile(r"aadh?aa?r|adhaa?r|\b(?:uid(?:ai)?|vid)\b|आधार", re.IGNORECASE)
# "cvv 123", "cvv#654", "cvv (987)", "CVV no: 0456", "सीवीवी ७८९".
_CVV = re.compile(
    r"(?:\bcvv2?|\bcvc2?|\bcid\b|security\s+code|card\s+verification\s+(?:value|code)"
    r"|सी\s?वी\s?वी)"
    r"(?:\s*(?:no\b\.?|num(?:ber)?\b|code\b|is\b|was\b|hai\b|है|[:=#\-–(\[]))*\s*"
    r"(?P<value>\d{3,4})(?!\d)",
    re.IGNORECASE,
)
# "password: x", "my password is: x", "pw = x", "my sso password X", "पासवर्ड है x",
# "mera password x hai". Devanagari has no \b (its vowel signs are not \w).
_PASSWORD_WORD = (
    r"(?:\bpass(?:word|wd|code)?\b|\bpa?s?s?wr?d\b|\bpw\b|\b(?:upi|atm|m)[\s\-]?pin\b"
    r"|पासवर्ड|पास\s?वर्ड|पिन)"
)
# Words that name a password only when something links them to the value ("pass: x",
# "पिन है 1234"; not "pass the bill", "पिन कोड 302001").
_WEAK_WORD = re.compile(r"pass|पिन", re.IGNORECASE)
_CONNECTOR = r"(?:[:=：#]|[\-–—]|\bis\b|\bwas\b|\bhai\b|है|\bka\b)"
_QUOTED = r"[\"'“‘«][^\"'”’»\n]{1,64}[\"'”’»]"
_PASSWORD = re.compile(
    rf"(?P<word>{_PASSWORD_WORD})(?P<conn>(?:\s*{_CONNECTOR})*)\s*"
    rf"(?P<value>{_QUOTED}(?=[^\w\s]*(?:\s|$))|\S+)",
    re.IGNORECASE,
)
# After "password is" (no colon) only what looks like one counts: a digit or a symbol in
# it, or 8+ letters that are not ordinary words ("my password is not working").
_NOT_A_PASSWORD = frozenset(
    "not wrong incorrect invalid forgotten forgot lost expired reset working blocked locked "
    "changed correct right same there still required needed showing different kya nahi "
    "nahin galat bhool bhul yaad kaise mera meri change update recover recovery mismatch "
    "badalna badlna badalne badlo chahiye bhejo batao dobara naya purana dalna daalna "
    "please problem issue kaam sahi the a an my your "
    "मेरा क्या नहीं गलत भूल याद बदलना बदलें भेजो बताओ".split()
)
_TRAILING = ".,!?;:\"'”’»)]।"
# Words that end a password's clause: what follows them is not part of it.
_CLAUSE_WORDS = frozenset(
    "and aur or but lekin hai please pls plz thanks thank also bhi so और या लेकिन है "
    "भी कृपया धन्यवाद".split()
)


def _looks_like_a_password(value: str) -> bool:
    """A digit or a symbol in it, or 8+ Latin letters. Devanagari vowel signs are marks,
    not symbols (they are \\W), and a Hindi word is never taken for one by its length."""
    if value.lower() in _NOT_A_PASSWORD:
        return False
    if any(char.isdigit() or not (char.isalnum() or _is_mark(char)) for char in value):
        return True
    return len(value) >= 8 and value.isascii()


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


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

    @property
    def wholly_removed(self) -> bool:
        """True when no part of a found secret can be left in `text`, so a resident may be
        told it was not stored. Read from the markers' surroundings (the same answer for a
        text screened again): a password marker followed by more of its clause ("pw: correct
        horse battery" keeps "horse battery") or a number's marker with digits next to it
        (a CVV typed after the card without saying so) leaves a doubt."""
        return not _DOUBT.search(self.text)


_PASSWORD_MARKER = re.escape(MARKERS[Sensitive.PASSWORD])
_NUMBER_MARKERS = "|".join(
    re.escape(MARKERS[kind]) for kind in (Sensitive.CARD, Sensitive.AADHAAR, Sensitive.CVV)
)
_ANY_MARKER = "|".join(re.escape(marker) for marker in MARKERS.values())
_DOUBT = re.compile(
    # A password marker followed on its line by a word that does not end its clause: the
    # password may have had spaces ("pw: correct horse"), or a full stop ("Secret. 99").
    rf"{_PASSWORD_MARKER}[^\s\w]*(?:\w|[^\S\n]+"
    rf"(?!(?:{'|'.join(sorted(_CLAUSE_WORDS))})(?=[.,!?;।]*(?:\s|$))|{_ANY_MARKER})\S)"
    # Digits joined to a number's marker: more of the same number, or a CVV left bare.
    rf"|(?:{_NUMBER_MARKERS}){_SEP}?[0-9०-९]|[0-9०-९]{_SEP}?(?:{_NUMBER_MARKERS})",
    re.IGNORECASE,
)


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


def _password_value(match: re.Match[str]) -> str | None:
    """What follows a password word, when it is one: after a sign (":", "=") anything but an
    ordinary word; after "is"/"hai" or nothing only what looks like a password."""
    value = match.group("value")
    if not re.fullmatch(_QUOTED, value):
        value = value.rstrip(_TRAILING)
    if any(match.string.startswith(marker, match.start("value")) for marker in MARKERS.values()):
        return None  # screened before
    if not value or not any(char.isalnum() for char in value):
        return None
    if re.search(r"[:=：#\-–—]", match.group("conn")):
        return value  # said to be one: even an ordinary word
    if value.strip("\"'“‘«”’»").lower() in _NOT_A_PASSWORD:
        return None
    weak = _WEAK_WORD.fullmatch(match.group("word")) and not match.group("conn").strip()
    if weak or len(value) < 3:
        return None
    return value if _looks_like_a_password(value) else None


def screen(text: str) -> Screened:
    """`text` with passwords, card numbers, CVVs and Aadhaar numbers replaced by markers."""
    found = {kind for kind, marker in MARKERS.items() if marker in text}
    spans: list[tuple[int, int, Sensitive]] = []
    ascii_digits = text.translate(_DIGITS)

    def taken(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e, _ in spans)

    for match in _CARD.finditer(ascii_digits):
        for end in (match.end(), match.end("main")):
            digits = _digits(ascii_digits[match.start() : end])
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                spans.append((match.start(), end, Sensitive.CARD))
                break
    if _AADHAAR_WORDS.search(ascii_digits):
        for pattern in (_AADHAAR_SPACED, _AADHAAR_BARE):
            for match in pattern.finditer(ascii_digits):
                if verhoeff_valid(_digits(match.group(0))) and not taken(*match.span()):
                    spans.append((match.start(), match.end(), Sensitive.AADHAAR))
    for match in _CVV.finditer(ascii_digits):
        if not taken(*match.span("value")):
            spans.append((match.start("value"), match.end("value"), Sensitive.CVV))
    for match in _PASSWORD.finditer(ascii_digits):
        value = _password_value(match)
        if value is None:
            continue
        start = match.start("value")
        if not taken(start, start + len(value)):
            spans.append((start, start + len(value), Sensitive.PASSWORD))

    redacted = text
    for start, end, kind in sorted(spans, reverse=True):
        redacted = redacted[:start] + MARKERS[kind] + redacted[end:]
        found.add(kind)
    return Screened(redacted, frozenset(found))
