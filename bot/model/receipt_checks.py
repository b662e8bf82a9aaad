"""The check code printed on every receipt, so that anyone holding one can ask us whether we
issued it (GET /verify/<receipt number>?code=<code>, CONTRACTS.md "Receipts anyone can check").

The code is a keyed hash (HMAC-SHA256) of the receipt number, cut to 10 characters of
Crockford's base32 (50 bits): without the key nobody can make the code of a receipt number,
so a made-up or altered receipt cannot be "verified", and a receipt number someone has seen
(in a screenshot, on a complaint) shows nothing without the code printed next to it. The
alphabet has no I, L, O or U, and a typed O, I or L is read as 0, 1, 1: codes are copied off
paper by hand. Pure functions; the keys come from settings through the composition root.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

CODE_LENGTH = 10
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = frozenset(" -_.")
# Kept apart from every other use of the same key (receipt links sign other messages).
_PURPOSE = b"receipt-check|"


@dataclass(frozen=True)
class ReceiptCheck:
    """What a receipt prints so it can be checked: the code and the address (the QR code's
    content carries both; `page_url` is the address to type, with the code asked there)."""

    code: str
    page_url: str

    @property
    def url(self) -> str:
        return f"{self.page_url}?code={self.code}"

    @property
    def display_code(self) -> str:
        """ "K7Q2M-X9D4P": two groups of five are easier to copy than ten in a row."""
        return f"{self.code[:5]}-{self.code[5:]}"


def canonical_receipt_number(receipt_number: str) -> str:
    """Receipt numbers are upper case ("RJB…"); typed by hand they may not be."""
    return receipt_number.strip().upper()


def check_code(key: bytes, receipt_number: str) -> str:
    """The 10-character code of `receipt_number` under `key`."""
    message = _PURPOSE + canonical_receipt_number(receipt_number).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    bits = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def normalise_code(typed: str) -> str | None:
    """A typed code in canonical form ("k7q2m-x9d4p" -> "K7Q2MX9D4P"), None when it cannot be
    one (wrong length, a character outside the alphabet, anything not ASCII)."""
    if not typed.isascii():
        return None
    folded = "".join(c for c in typed.upper() if c not in _SEPARATORS).translate(_MISREAD)
    if len(folded) != CODE_LENGTH or any(c not in CROCKFORD for c in folded):
        return None
    return folded


def code_matches(keys: Sequence[bytes], receipt_number: str, typed: str) -> bool:
    """True when `typed` is the code of `receipt_number` under any of `keys` (the first key
    makes new codes; older ones keep the receipts printed before a rotation checkable)."""
    code = normalise_code(typed)
    if code is None:
        return False
    matched = False
    for key in keys:  # every key, always: the time taken does not say which one matched
        matched |= hmac.compare_digest(check_code(key, receipt_number), code)
    return matched
