"""Receipts anyone can check: the check printed on a receipt, and the check itself.

A shopkeeper, an office clerk or the resident's family holding a receipt (paper, PDF, a
forwarded photo) scans its QR code or types its address and code; the page says whether we
issued it, with only what the receipt itself shows (biller, masked consumer number, amount,
date). A wrong code and an unknown receipt number get the same answer, and a wrong code
never reaches the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.errors import ReceiptNotFound
from bot.model.payments import PaymentStatus, Receipt
from bot.model.receipt_checks import (
    ReceiptCheck,
    canonical_receipt_number,
    check_code,
    code_matches,
)
from bot.ports import BillerDirectory, UnitOfWorkFactory
from bot.services.receipts import receipt_of


class ReceiptChecks:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        billers: BillerDirectory,
        public_base_url: str,
        keys: Sequence[bytes],
    ) -> None:
        if not keys or not all(keys):
            raise ValueError("receipt checks need at least one non-empty key")
        self._uow = uow
        self._billers = billers
        self._base = public_base_url.rstrip("/")
        self._keys = tuple(keys)

    def check_for(self, receipt_number: str) -> ReceiptCheck:
        """The code and address printed on this receipt (under the newest key)."""
        number = canonical_receipt_number(receipt_number)
        return ReceiptCheck(
            code=check_code(self._keys[0], number), page_url=f"{self._base}/verify/{number}"
        )

    async def printable(self, receipt_number: str) -> Receipt:
        """A paid receipt with its check, for the PDF. Raises ReceiptNotFound."""
        receipt = await self._paid(canonical_receipt_number(receipt_number))
        if receipt is None:
            raise ReceiptNotFound(receipt_number)
        return replace(receipt, check=self.check_for(receipt.receipt_number))

    async def verify(self, receipt_number: str, typed_code: str = "") -> Receipt | None:
        """The receipt we issued under this number; None for a number we never issued and,
        when a code is given (the QR code carries it), for a code that is not its own.

        The number alone is enough (CONTRACTS.md): it carries 48 random bits
        (`receipt_number_for`), so receipt numbers cannot be walked, and whoever holds one
        holds the receipt that shows the same facts. The code makes a receipt that was never
        issued fail before any lookup."""
        number = canonical_receipt_number(receipt_number)
        if typed_code and not code_matches(self._keys, number, typed_code):
            return None
        return await self._paid(number)

    async def _paid(self, receipt_number: str) -> Receipt | None:
        async with self._uow() as tx:
            payment = await tx.payments.by_receipt_number(receipt_number)
        if payment is None or payment.status is not PaymentStatus.PAID:
            return None
        return receipt_of(payment, self._billers.get(payment.biller_id))
