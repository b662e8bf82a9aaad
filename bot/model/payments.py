"""Payments through a hosted payment link, and the receipt issued once the gateway confirms one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.model.receipt_checks import ReceiptCheck

_RECEIPT_NUMBER = re.compile(r"\bRJB\d{6}[A-F0-9]{12}\b", re.IGNORECASE)


def receipt_number_for(payment_id: str, paid_on_ist: datetime) -> str:
    """ "RJB" + the Indian date of payment + 12 hex digits of our payment id.

    48 random bits per day: a collision would make the paid webhook fail for ever."""
    return f"RJB{paid_on_ist:%y%m%d}{payment_id[-12:].upper()}"


def find_receipt_number(text: str) -> str | None:
    """A receipt number typed inside a message ("receipt RJB261124ab12…"), upper-cased."""
    found = _RECEIPT_NUMBER.search(text)
    return found.group(0).upper() if found else None


class PaymentStatus(str, Enum):
    CREATED = "created"  # link sent, nothing heard from the gateway yet
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass
class Payment:
    """One attempt to pay one bill. `payment_id` is our own reference id sent to the gateway."""

    payment_id: str
    resident_id: str
    conversation_id: str
    biller_id: str
    consumer_number: str
    bill_number: str
    amount_paise: int
    fee_paise: int
    status: PaymentStatus
    created_at: datetime
    link_id: str | None = None
    link_url: str | None = None
    gateway_payment_id: str | None = None
    paid_at: datetime | None = None
    receipt_number: str | None = None
    biller_confirmed: bool = False

    @property
    def total_paise(self) -> int:
        return self.amount_paise + self.fee_paise


@dataclass(frozen=True)
class PaymentLink:
    link_id: str
    short_url: str


class PaymentEventKind(str, Enum):
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    PENDING = "pending"  # authorised, not yet captured: news, no change of status


@dataclass(frozen=True)
class PaymentEvent:
    """A verified notification from the payment gateway, already parsed out of its format."""

    # The same for every delivery of the same news, whatever the sender called it: made from
    # what the gateway's signature covers (integrations/payments/razorpay_webhook.py).
    event_id: str
    kind: PaymentEventKind
    link_id: str
    reference_id: str
    gateway_payment_id: str | None
    amount_paise: int


@dataclass(frozen=True)
class Receipt:
    """Everything printed on a receipt; built from a paid Payment and its Biller."""

    receipt_number: str
    transaction_reference: str
    biller_name: str
    consumer_number_masked: str
    bill_number: str
    amount_paise: int
    fee_paise: int
    paid_at: datetime
    # The code and address that check it (QR code on the PDF); None where not printed.
    check: ReceiptCheck | None = None

    @property
    def total_paise(self) -> int:
        return self.amount_paise + self.fee_paise
