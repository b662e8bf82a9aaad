"""Billers, their consumer-number rules, and bills as BBPS returns them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from bot.errors import InvalidConsumerNumber
from bot.model.identifiers import normalise_number


class Utility(str, Enum):
    ELECTRICITY = "electricity"
    WATER = "water"
    GAS = "gas"


@dataclass(frozen=True)
class Biller:
    """A company that bills residents, with the rule its customer parameter must follow.

    Lengths and patterns come from biller metadata, never from one global rule: K Number
    lengths differ between distribution companies (domain reference).
    """

    biller_id: str
    name: str
    short_name: str
    utility: Utility
    param_name: str
    min_length: int
    max_length: int
    pattern: str
    convenience_fee_paise: int = 0
    aliases: tuple[str, ...] = field(default_factory=tuple)
    # Towns named after another biller that this one serves in part (TP Ajmer serves Ajmer
    # city, AVVNL the rest of the district): naming such a town asks which company it is.
    shared_towns: tuple[str, ...] = field(default_factory=tuple)

    def normalise_consumer_number(self, typed: str) -> str:
        """The consumer number in canonical form, or InvalidConsumerNumber naming the rule."""
        number = normalise_number(typed)
        if not self.accepts(number):
            raise InvalidConsumerNumber(self, typed)
        return number

    def accepts(self, number: str) -> bool:
        """True when a normalised number follows this biller's rule."""
        return self.min_length <= len(number) <= self.max_length and bool(
            re.fullmatch(self.pattern, number)
        )

    def describe_rule(self) -> str:
        """ "12 digits" or "8-10 digits": used in the hint shown after a malformed number."""
        if self.min_length == self.max_length:
            return f"{self.min_length}"
        return f"{self.min_length}-{self.max_length}"


@dataclass(frozen=True)
class Bill:
    """A fetched bill. `amount_paise` is this bill; `outstanding_paise` is everything due."""

    biller_id: str
    consumer_number: str
    customer_name: str
    bill_number: str
    bill_date: date
    due_on: date
    amount_paise: int
    outstanding_paise: int

    @property
    def is_due(self) -> bool:
        return self.outstanding_paise > 0


@dataclass(frozen=True)
class SavedAccount:
    """A utility account a resident fetched a bill for, offered again next time."""

    account_id: str
    resident_id: str
    utility: Utility
    biller_id: str
    consumer_number: str


# Words residents use for each utility, in English, romanized Hindi and Devanagari.
_UTILITY_WORDS: dict[Utility, frozenset[str]] = {
    Utility.ELECTRICITY: frozenset(
        "electricity electric power light lite current bijli bijlee bijali bijly vidyut "
        "बिजली बिज़ली विद्युत लाइट".split()
    ),
    Utility.WATER: frozenset("water pani paani jal phed पानी जल".split()),
    Utility.GAS: frozenset("gas png cng lpg gais गैस".split()),
}


def parse_utility(text: str) -> Utility | None:
    """The utility a resident means: "electricity", "bijli", "पानी", "1"-style menu numbers
    are handled by channels, not here. None when no word names exactly one utility."""
    normalised = unicodedata.normalize("NFC", text.lower())
    words = set(re.split(r"[\s,.?!;:।॥]+", normalised))
    found = {utility for utility, names in _UTILITY_WORDS.items() if words & names}
    return found.pop() if len(found) == 1 else None
