"""Receipts: what is printed on one, and signed, expiring download links for the PDF.

The link's signature covers the receipt number, language and expiry
(bot/services/signed_links.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import timedelta

from bot.model.billing import Biller
from bot.model.identifiers import mask
from bot.model.payments import Payment, Receipt
from bot.model.residents import Language
from bot.services.signed_links import SignedLinks

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


class ReceiptLinks(SignedLinks):
    validity = RECEIPT_LINK_VALIDITY

    def url_for(self, receipt_number: str, language: Language) -> str:
        return self._url(f"receipts/{receipt_number}.pdf", (receipt_number,), language)

    def _sign(self, parts: Sequence[str], language: str, expires: int) -> str:
        (receipt_number,) = parts
        message = f"{receipt_number}|{language}|{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
