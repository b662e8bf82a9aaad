"""Canonical form of what residents type, before the NLU reads it.

The same sentence arrives in several encodings: precomposed or decomposed nukta letters
(U+0958 क़ vs क + ़), invisible joiners (ZWJ/ZWNJ) left by Indic keyboards, Devanagari or
ASCII digits, and consumer numbers typed in groups ("2101 4567 8912"). The model and the
entity patterns see one form of each, so they need to learn only one.

Rewriting shifts characters, and entity annotations in the training data point into the
original text; `normalise_with_origins` therefore also says where each character came from.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.model.identifiers import ascii_digits, normalise_number

# Keyboards insert these to steer how conjuncts are drawn; they never change the word.
_JOINERS = frozenset("\u200c\u200d")
# A consumer number (K number, CA number, PHED CID) typed as 2 to 4 groups of 3 to 5 digits
# joined by a space or hyphen. Groups of one or two digits are left alone, so an amount next
# to a date ("1250 15 03 2024") is never read as one number; the same shape as the
# consumer_number pattern in nlu_data/regexes.yml.
_GROUPED_NUMBER = re.compile(
    r"(?<![\w,.])[0-9]{3,5}(?:(?: ?- ?| )[0-9]{3,5}){1,3}(?![\w]|[.,][0-9])"
)
_CONSUMER_NUMBER_DIGITS = range(10, 14)
_WORD_OR_SPACE = re.compile(r"\S+|\s+")

# One piece of output per input character: "" drops it, several characters expand it.
_Pieces = list[str]


@dataclass(frozen=True)
class NormalisedText:
    """Normalised text and, for each of its characters, the index it came from."""

    text: str
    origins: tuple[int, ...]

    def position(self, original_index: int) -> int:
        """Where an offset into the original text (a span boundary) lands in `text`."""
        return bisect.bisect_left(self.origins, original_index)


def normalise_text(text: str) -> str:
    """The canonical form of `text`: NFC, no joiners, ASCII digits, grouped numbers joined.

    "मेरा K नंबर २१०१ ४५६७ ८९१२ है" -> "मेरा K नंबर 210145678912 है". Idempotent.
    """
    return normalise_with_origins(text).text


def normalise_with_origins(text: str) -> NormalisedText:
    """`normalise_text`, keeping track of where each output character came from."""
    current = NormalisedText(text, tuple(range(len(text))))
    for stage in (_drop_joiners, _compose_words, _ascii_digits, _join_grouped_numbers):
        current = _apply(current, stage)
    return current


def _apply(current: NormalisedText, stage: Callable[[str], _Pieces]) -> NormalisedText:
    pieces = stage(current.text)
    origins = tuple(
        origin for origin, piece in zip(current.origins, pieces, strict=True) for _ in piece
    )
    return NormalisedText("".join(pieces), origins)


def _drop_joiners(text: str) -> _Pieces:
    return ["" if char in _JOINERS else char for char in text]


def _compose_words(text: str) -> _Pieces:
    """NFC, word by word: no composition crosses a space, so each word can be done alone.

    A word NFC changes is attributed to its first character (spans start and end on word
    boundaries); an unchanged word keeps its characters' own origins.
    """
    pieces: _Pieces = []
    for match in _WORD_OR_SPACE.finditer(text):
        chunk = match.group()
        composed = unicodedata.normalize("NFC", chunk)
        if composed == chunk:
            pieces.extend(chunk)
        else:
            pieces.extend([composed, *[""] * (len(chunk) - 1)])
    return pieces


def _ascii_digits(text: str) -> _Pieces:
    # The text is NFC already, so converting digits keeps one character per character.
    return list(ascii_digits(text))


def _join_grouped_numbers(text: str) -> _Pieces:
    pieces = list(text)
    for match in _GROUPED_NUMBER.finditer(text):
        group = match.group()
        if len(normalise_number(group)) in _CONSUMER_NUMBER_DIGITS:
            for index in range(match.start(), match.end()):
                pieces[index] = normalise_number(text[index])
    return pieces
