"""Identifiers a message names, in one normal form, so that erasure can find every
conversation that mentioned a resident's SSO ID, mobile, consumer number or email address.

Someone else's chat may type a resident's SSO ID or consumer number (a relative paying for
them, a mistake, an attacker): those words are in that conversation's dialogue history, not
in the resident's. The gateway records a keyed hash of each identifier-like token of each
message against its conversation (never the identifier itself); erasure hashes the
resident's identifiers the same way and erases every history that named one.

Generous by design: a false match only adds a hash row; a missed form would leave a copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.model.email import addresses_in
from bot.model.identifiers import ascii_digits, normalise_sso_id

# Digits with the separators people type inside numbers ("98290 12345", "2101-4567-8912").
_NUMBER = re.compile(r"\d(?:[\s\-./]?\d)+")
_GROUP = re.compile(r"\d+")
# Shorter digit runs are amounts, dates, option numbers: never an identifier of ours.
MIN_DIGITS = 6
_TOKEN_EDGES = ",;:!?\"'()[]{}<>"


def _numbers(text: str) -> set[str]:
    found: set[str] = set()
    for run in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", run.group())
        groups = [g for g in _GROUP.findall(run.group()) if len(g) >= MIN_DIGITS]
        for number in (digits, *groups):
            found |= number_forms(number)
    return found


def number_forms(digits: str) -> set[str]:
    """A number as it may be written: an Indian mobile with or without its 91/0 prefix."""
    if len(digits) < MIN_DIGITS:
        return set()
    forms = {digits}
    if len(digits) == 12 and digits.startswith("91"):
        forms.add(digits[2:])
    elif len(digits) == 11 and digits.startswith("0"):
        forms.add(digits[1:])
    return forms


def identifiers_in(text: str) -> frozenset[str]:
    """Every token of `text` that could be an SSO ID, mobile or consumer number, normalised
    (lower case; digits only). In a sentence a word counts only with a digit or a dot in it
    (as find_sso_id reads sentences); a message of one word counts whatever it is."""
    text = ascii_digits(text)
    found = _numbers(text) | addresses_in(text)
    tokens = [t.strip(_TOKEN_EDGES).rstrip(".") for t in text.split()]
    tokens = [t for t in tokens if t]
    for token in tokens:
        candidate = normalise_sso_id(token)
        if not candidate:
            continue
        # A plain number in a sentence is an amount or a date, or found above.
        named = any(c.isdigit() or c == "." for c in candidate) and not candidate.isdigit()
        if len(tokens) == 1 or named:
            found.add(candidate)
    return frozenset(found)


def forms_of(
    sso_id: str, mobile: str, consumer_numbers: Iterable[str], emails: Iterable[str] = ()
) -> frozenset[str]:
    """A resident's identifiers in the forms `identifiers_in` gives."""
    found = {sso_id.lower(), *(email.lower() for email in emails)}
    found |= number_forms(re.sub(r"\D", "", mobile))
    for number in consumer_numbers:
        normal = re.sub(r"[\s\-./]", "", number).lower()
        found.add(normal)
        found |= number_forms(normal)
    return frozenset(found)
