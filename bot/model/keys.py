"""Keys derived from the app secret, one per purpose.

A key used for one thing only cannot be made to sign something else: a bill-copy link's
signature is no receipt link's, and a receipt's check code is neither.
"""

from __future__ import annotations

import hashlib
import hmac


def purpose_key(secret: bytes, purpose: str) -> bytes:
    """The 32-byte key for `purpose` (HMAC-SHA256 of the purpose under the secret)."""
    return hmac.new(secret, f"purpose|{purpose}".encode(), hashlib.sha256).digest()
