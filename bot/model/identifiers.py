"""Normalising and masking the identifiers residents type: consumer numbers, mobiles, SSO IDs, OTPs."""

from __future__ import annotations

import re
import unicodedata

# Devanagari digits ० to ९ (U+0966..U+096F) map to ASCII 0..9.
_DEVANAGARI_DIGITS = {ord("०") + i: str(i) for i in range(10)}
_SEPARATORS = re.compile(r"[\s\-./_]+")
_SSO_ID = re.compile(r"^[a-z0-9.]{4,30}$")


def ascii_digits(text: str) -> str:
    """Return `text` with Devanagari digits turned into ASCII ones (NFC-normalised first)."""
    return unicodedata.normalize("NFC", text).translate(_DEVANAGARI_DIGITS)


def normalise_number(text: str) -> str:
    """Digits of a typed number: Devanagari digits converted, spaces, hyphens and dots removed.

    "2101 4567-8912" and "२१०१ ४५६७ ८९१२" both become "210145678912". Letters are kept
    (upper-cased) because some billers use alphanumeric customer ids.
    """
    return _SEPARATORS.sub("", ascii_digits(text).strip()).upper()


def normalise_sso_id(text: str) -> str | None:
    """An SSO ID in canonical form (lower case), or None when `text` cannot be one.

    SSO IDs are letters, digits and dots, 4–30 characters, case-insensitive (domain reference).
    """
    candidate = ascii_digits(text).strip().lower()
    return candidate if _SSO_ID.fullmatch(candidate) else None


def find_sso_id(text: str) -> str | None:
    """Pick the SSO ID out of a sentence such as "my sso id is ramesh.kumar".

    A lone token is taken as is; in a sentence, the last token that looks like an id
    (contains a digit or a dot) wins, since words like "mera" or "is" are also valid shapes.
    """
    tokens = [t.strip(",;:!?\"'()").rstrip(".") for t in ascii_digits(text).split()]
    tokens = [t for t in tokens if t]
    if len(tokens) == 1:
        return normalise_sso_id(tokens[0])
    for token in reversed(tokens):
        sso_id = normalise_sso_id(token)
        if sso_id and (any(c.isdigit() for c in sso_id) or "." in sso_id):
            return sso_id
    return None


def find_otp(text: str, length: int = 6) -> str | None:
    """The OTP in a reply such as "123456", "१२३ ४५६" or "code is 123-456"."""
    # Only ASCII digits count: \d would also keep Gujarati or Bengali digits unconverted.
    digits = re.sub(r"[^0-9]", "", ascii_digits(text))
    return digits if len(digits) == length else None


def mask(identifier: str, visible: int = 4) -> str:
    """Show only the last `visible` characters: "210145678912" -> "••••8912"."""
    if len(identifier) <= visible:
        return "•" * len(identifier)
    return "••••" + identifier[-visible:]


def mask_name(name: str) -> str:
    """Mask a holder name the way billers print it: "Ramesh Kumar" -> "Ra*** Ku***"."""
    return " ".join(part[:2] + "*" * 3 if len(part) > 2 else part for part in name.split())
