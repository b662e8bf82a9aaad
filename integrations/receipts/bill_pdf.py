"""PDF bill copies in English and Hindi, drawn like the receipts (integrations/receipts/layout.py)."""

from __future__ import annotations

from pathlib import Path

from bot.messages import render
from bot.model.bill_copies import BillCopy
from bot.model.calendar import format_date
from bot.model.money import format_rupees
from bot.model.residents import Language
from integrations.receipts.layout import (
    DEFAULT_FONT_DIR,
    check_fonts,
    format_ist,
    new_document,
    note,
    row,
    rule,
)

LABELS: dict[Language, dict[str, str]] = {
    Language.EN: {
        "title": "Bill copy",
        "biller": "Biller",
        "customer": "Name",
        "consumer_number": "Consumer number",
        "bill_number": "Bill number",
        "bill_date": "Bill date",
        "due_on": "Due date",
        "amount": "This bill",
        "outstanding": "Total due",
        "status": "Status",
        "status_due": "Due",
        "status_paid": "Nothing due",
        "footer": (
            "A copy of your bill as {biller} reported it on {fetched_at}. It is not a receipt. "
            'To pay, tell the bill assistant "pay my bill".'
        ),
    },
    Language.HI: {
        "title": "बिल की प्रति",
        "biller": "बिलर",
        "customer": "नाम",
        "consumer_number": "उपभोक्ता संख्या",
        "bill_number": "बिल संख्या",
        "bill_date": "बिल की तारीख",
        "due_on": "अंतिम तिथि",
        "amount": "इस बिल की राशि",
        "outstanding": "कुल बकाया",
        "status": "स्थिति",
        "status_due": "बकाया",
        "status_paid": "कुछ बकाया नहीं",
        "footer": (
            "यह आपके बिल की प्रति है, जैसा {biller} ने {fetched_at} को बताया। यह रसीद नहीं है। "
            'भुगतान के लिए बिल सहायक को लिखें "बिल भरना है"।'
        ),
    },
}


class PdfBillCopyRenderer:
    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        self._font_dir = font_dir

    def check_fonts(self) -> None:
        check_fonts(self._font_dir)

    def render(self, copy: BillCopy, language: Language) -> bytes:
        """The bill copy as a one-page A5 PDF, labelled in `language`."""
        words = LABELS[language]
        file_title = f"{words['title']} {copy.bill_number}"
        pdf = new_document(self._font_dir, words["title"], language, file_title)
        rows = [
            (words["biller"], copy.biller_name),
            (words["customer"], copy.customer_name_masked),
            (words["consumer_number"], f"{copy.consumer_number_masked} ({copy.param_name})"),
            (words["bill_number"], copy.bill_number),
            (words["bill_date"], format_date(copy.bill_date, language)),
            (words["due_on"], format_date(copy.due_on, language)),
            (words["status"], words["status_due" if copy.is_due else "status_paid"]),
            (words["amount"], format_rupees(copy.amount_paise)),
        ]
        for label, value in rows:
            row(pdf, label, value)
        rule(pdf)
        row(pdf, words["outstanding"], format_rupees(copy.outstanding_paise), bold=True)
        rule(pdf)
        pdf.ln(4)
        fetched_at = format_ist(copy.fetched_at, language)
        note(pdf, words["footer"].format(biller=copy.biller_name, fetched_at=fetched_at))
        pdf.ln(2)
        # The same words as the receipt check page (one catalog entry).
        note(pdf, render("verify_safety", language))
        return bytes(pdf.output())
