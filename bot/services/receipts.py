"""Receipts: what is printed on one, and signed, expiring download links for the PDF.

The link is the only key to the document (WhatsApp and Telegram fetch media by URL), so it
carries an HMAC over the receipt number, language and expiry instead of a session.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlencode

from bot.model.billing import Biller
from bot.model.identifiers import mask
from bot.model.payments import Payment, Receipt
from bot.model.residents import Language
from bot.ports import Clock

RECEIPT_LINK_VALIDITY = timedelta(hours=24)


def receipt_of(payment: Payment, biller: Biller) -> Receipt:
    """The receipt of a paid payment."""
    if payment.receipt_number is None or payment.paid_at is None:
        raise ValueError(f"payment {payment.payment_id} is not paid")
    return Receipt(
        receipt_number=payment.receipt_number,
        transaction_reference=payment.gateway_payment_id or payment.payment_id,
        biller_name=biller.name,
        consumer_number_masked=mask(payment.consumer_number),
        bill_number=payment.bill_number,
        amount_paise=payment.amount_paise,
        fee_paise=payment.fee_paise,
        paid_at=payment.paid_at,
    )


class ReceiptLinks:
    def __init__(self, public_base_url: str, key: bytes, clock: Clock) -> None:
        self._base = public_base_url.rstrip("/")
        self._key = key
        self._clock = clock

    def url_for(self, receipt_number: str, language: Language) -> str:
        expires = int((self._clock.now() + RECEIPT_LINK_VALIDITY).timestamp())
        query = urlencode(
            {
                "lang": language.value,
                "expires": expires,
                "sig": self._sign(receipt_number, language.value, expires),
            }
        )
        return f"{self._base}/receipts/{receipt_number}.pdf?{query}"

    def verify(self, receipt_number: str, language: str, expires: int, signature: str) -> bool:
        """True for an untampered link that has not expired (False for any garbage)."""
        expected = self._sign(receipt_number, language, expires)
        # As bytes: compare_digest raises on non-ASCII str, and a link is user input.
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return False
        return expires >= int(self._clock.now().timestamp())

    def _sign(self, receipt_number: str, language: str, expires: int) -> str:
        message = f"{receipt_number}|{language}|{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
