"""Complaints: against a payment (BBPS transaction dispositions) or about the service."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class ComplaintKind(str, Enum):
    TRANSACTION = "transaction"
    SERVICE = "service"


class Disposition(str, Enum):
    """BBPS transaction-complaint dispositions, plus one for the service itself."""

    NOT_UPDATED = "not_updated"  # transaction successful, account not updated
    NO_TXN_ID_CREDITED = "no_txn_id_credited"  # amount deducted, biller credited, no txn id
    NOT_CREDITED = "not_credited"  # amount deducted, biller not credited, no txn id
    DEDUCTED_MULTIPLE = "deducted_multiple"  # amount deducted multiple times
    DOUBLE_PAYMENT = "double_payment"  # double payment updated
    WRONG_ACCOUNT = "wrong_account"  # paid to the wrong account
    OTHER = "other"
    SERVICE = "service"  # about the bot or the service, not a payment

    @property
    def kind(self) -> ComplaintKind:
        return ComplaintKind.SERVICE if self is Disposition.SERVICE else ComplaintKind.TRANSACTION


class ComplaintStatus(str, Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"


# "RJC" and ten digits: short enough to read out on a phone call, with ~10^10 ids.
COMPLAINT_ID = re.compile(r"\bRJC\s?-?(\d{10})\b", re.IGNORECASE)
MAX_DESCRIPTION_CHARS = 500


def new_complaint_id() -> str:
    return "RJC" + "".join(secrets.choice("0123456789") for _ in range(10))


def find_complaint_id(text: str) -> str | None:
    """The complaint id in "status of rjc 0123456789?", canonical ("RJC0123456789")."""
    found = COMPLAINT_ID.search(text)
    return "RJC" + found.group(1) if found else None


@dataclass
class Complaint:
    complaint_id: str
    resident_id: str
    conversation_id: str
    disposition: Disposition
    description: str
    status: ComplaintStatus
    created_at: datetime
    updated_at: datetime
    payment_id: str | None = None

    @property
    def kind(self) -> ComplaintKind:
        return self.disposition.kind
