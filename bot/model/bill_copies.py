"""A copy of the current bill, as a resident can keep or show it (a PDF in their language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.model.billing import Bill, Biller, Utility
from bot.model.identifiers import mask, mask_name


@dataclass(frozen=True)
class BillCopy:
    """Everything printed on a bill copy: the bill as the biller reports it at `fetched_at`,
    with the consumer number and the holder's name masked as everywhere else."""

    biller_name: str
    biller_short_name: str
    utility: Utility
    param_name: str  # what the biller calls the consumer number ("K Number", "CA Number")
    consumer_number_masked: str
    customer_name_masked: str
    bill_number: str
    bill_date: date
    due_on: date
    amount_paise: int
    outstanding_paise: int
    fetched_at: datetime

    @property
    def is_due(self) -> bool:
        return self.outstanding_paise > 0

    @property
    def filename(self) -> str:
        return bill_copy_filename(self.biller_short_name, self.consumer_number_masked)


def bill_copy_of(bill: Bill, biller: Biller, fetched_at: datetime) -> BillCopy:
    return BillCopy(
        biller_name=biller.name,
        biller_short_name=biller.short_name,
        utility=biller.utility,
        param_name=biller.param_name,
        consumer_number_masked=mask(bill.consumer_number),
        customer_name_masked=mask_name(bill.customer_name),
        bill_number=bill.bill_number,
        bill_date=bill.bill_date,
        due_on=bill.due_on,
        amount_paise=bill.amount_paise,
        outstanding_paise=bill.outstanding_paise,
        fetched_at=fetched_at,
    )


def bill_copy_filename(biller_short_name: str, consumer_number: str) -> str:
    """ "bill-JVVNL-8912.pdf": says whose bill it is to its owner, and no more."""
    return f"bill-{biller_short_name}-{consumer_number[-4:]}.pdf"
