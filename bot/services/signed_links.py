"""Signed, expiring download links: the link is the only key to the document (WhatsApp and
Telegram fetch media by URL, SMS shows the link), so it carries an HMAC over what it names,
its language and its expiry instead of a session. Receipts and bill copies use it.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlencode

from bot.model.residents import Language
from bot.ports import Clock


class SignedLinks:
    """One kind of link: `_message` says what its signature covers."""

    validity: timedelta

    def __init__(self, public_base_url: str, key: bytes, clock: Clock) -> None:
        if not key:
            raise ValueError("signed links need a key")
        self._base = public_base_url.rstrip("/")
        self._key = key
        self._clock = clock

    def _url(self, path: str, parts: Sequence[str], language: Language) -> str:
        expires = int((self._clock.now() + self.validity).timestamp())
        signature = self._sign(parts, language.value, expires)
        query = urlencode({"lang": language.value, "expires": expires, "sig": signature})
        return f"{self._base}/{path}?{query}"

    def verify(self, parts: Sequence[str], language: str, expires: int, signature: str) -> bool:
        """True for an untampered link that has not expired (False for any garbage)."""
        expected = self._sign(parts, language, expires)
        # As bytes: compare_digest raises on non-ASCII str, and a link is user input.
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return False
        return expires >= int(self._clock.now().timestamp())

    def language_of(
        self, parts: Sequence[str], lang: str, expires: str, signature: str
    ) -> Language | None:
        """The language of a genuine, unexpired link, from its query as typed; None for
        anything else."""
        # Non-ASCII stops here: int() refuses "²" although isdigit() accepts it.
        if lang not in {language.value for language in Language}:
            return None
        if not (expires + signature).isascii() or not expires.isdigit() or not signature:
            return None
        return Language(lang) if self.verify(parts, lang, int(expires), signature) else None

    def _sign(self, parts: Sequence[str], language: str, expires: int) -> str:
        raise NotImplementedError
