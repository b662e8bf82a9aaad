"""PDF receipts in English and Hindi with fpdf2 (integrations/receipts/layout.py: fonts,
Devanagari shaping, the page), with the QR code and check code that let anyone verify one."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos

from bot.model.money import format_rupees
from bot.model.payments import Receipt
from bot.model.receipt_checks import ReceiptCheck
from bot.model.residents import Language
from integrations.receipts.layout import (
    DEFAULT_FONT_DIR,
    FONT_FILES,
    INK,
    MONTHS,
    MUTED,
    ReceiptFontsMissingError,
    check_fonts,
    format_ist,
    new_document,
    note,
    qr_code,
    row,
    rule,
    use_font,
)

# Importers of this module find these here, as before the layout moved out.
__all__ = [
    "CHECK_LABELS",
    "DEFAULT_FONT_DIR",
    "FONT_FILES",
    "LABELS",
    "MONTHS",
    "PdfReceiptRenderer",
    "ReceiptFontsMissingError",
    "format_ist",
]

LABELS: dict[Language, dict[str, str]] = {
    Language.EN: {
        "product": "Rajasthan Bill Assistant",
        "title": "Payment receipt",
        "receipt_number": "Receipt number",
        "transaction_reference": "Transaction reference",
        "biller": "Biller",
        "consumer_number": "Consumer number",
        "bill_number": "Bill number",
        "amount": "Bill amount",
        "fee": "Convenience fee",
        "total": "Total paid",
        "paid_at": "Paid on",
        "status": "Status",
        "status_paid": "Paid",
        "footer": (
            "This is a computer-generated receipt and does not need a signature. "
            "Keep it for your records."
        ),
    },
    Language.HI: {
        "product": "राजस्थान बिल सहायक",
        "title": "भुगतान रसीद",
        "receipt_number": "रसीद संख्या",
        "transaction_reference": "लेन-देन संदर्भ",
        "biller": "बिलर",
        "consumer_number": "उपभोक्ता संख्या",
        "bill_number": "बिल संख्या",
        "amount": "बिल राशि",
        "fee": "सुविधा शुल्क",
        "total": "कुल भुगतान",
        "paid_at": "भुगतान का समय",
        "status": "स्थिति",
        "status_paid": "भुगतान सफल",
        "footer": (
            "यह कंप्यूटर द्वारा बनाई गई रसीद है, इस पर हस्ताक्षर की आवश्यकता नहीं है। "
            "इसे अपने रिकॉर्ड के लिए संभाल कर रखें।"
        ),
    },
}

# Printed only on receipts that carry a check (every receipt the gateway serves).
CHECK_LABELS: dict[Language, dict[str, str]] = {
    Language.EN: {
        "title": "Is this receipt genuine?",
        "how": (
            "Scan the QR code, or open the address below and type the code. "
            "The page says whether we issued this receipt."
        ),
        "code": "Code",
    },
    Language.HI: {
        "title": "क्या यह रसीद असली है?",
        "how": (
            "QR कोड स्कैन करें, या नीचे दिया पता खोलकर कोड लिखें। "
            "पेज बताएगा कि यह रसीद हमने जारी की है या नहीं।"
        ),
        "code": "कोड",
    },
}

QR_SIZE_MM = 30.0


class PdfReceiptRenderer:
    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        self._font_dir = font_dir

    def check_fonts(self) -> None:
        """Raise ReceiptFontsMissingError naming every absent font file and how to install it."""
        check_fonts(self._font_dir)

    def render(self, receipt: Receipt, language: Language) -> bytes:
        """The receipt as a one-page A5 PDF, labelled in `language`."""
        words = LABELS[language]
        file_title = f"{words['title']} {receipt.receipt_number}"
        pdf = new_document(self._font_dir, words["title"], language, file_title)
        rows = [
            ("receipt_number", receipt.receipt_number),
            ("transaction_reference", receipt.transaction_reference),
            ("paid_at", format_ist(receipt.paid_at, language)),
            ("status", words["status_paid"]),
            ("biller", receipt.biller_name),
            ("consumer_number", receipt.consumer_number_masked),
            ("bill_number", receipt.bill_number),
            ("amount", format_rupees(receipt.amount_paise)),
            ("fee", format_rupees(receipt.fee_paise)),
        ]
        for key, value in rows:
            row(pdf, words[key], value)
        rule(pdf)
        row(pdf, words["total"], format_rupees(receipt.total_paise), bold=True)
        rule(pdf)
        if receipt.check is not None:
            _check(pdf, receipt.check, language)
        pdf.ln(4)
        note(pdf, words["footer"])
        return bytes(pdf.output())


def _check(pdf: FPDF, check: ReceiptCheck, language: Language) -> None:
    """The QR code on the left; how to check, the address and the code beside it."""
    words = CHECK_LABELS[language]
    pdf.ln(2)
    top = pdf.get_y()
    qr_code(pdf, check.url, pdf.l_margin, top, QR_SIZE_MM)
    left = pdf.l_margin + QR_SIZE_MM + 6
    width = pdf.w - pdf.r_margin - left
    pdf.set_xy(left, top)
    use_font(pdf, "B", 10)
    pdf.set_text_color(*INK)
    _beside(pdf, width, 5.5, words["title"])
    use_font(pdf, "", 8.5)
    pdf.set_text_color(*MUTED)
    _beside(pdf, width, 4.5, words["how"])
    pdf.set_xy(left, pdf.get_y() + 1)
    use_font(pdf, "", 8.5)
    pdf.set_text_color(*INK)
    # An address has no spaces to wrap at: it wraps at any character.
    _beside(pdf, width, 4.5, check.page_url, WrapMode.CHAR)
    use_font(pdf, "B", 11)
    _beside(pdf, width, 7, f"{words['code']}: {check.display_code}")
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE_MM) + 2)


def _beside(
    pdf: FPDF, width: float, height: float, text: str, wrap: WrapMode = WrapMode.WORD
) -> None:
    """Left-aligned lines in the column beside the QR code, the next one below."""
    pdf.multi_cell(
        width, height, text, new_x=XPos.LEFT, new_y=YPos.NEXT, align=Align.L, wrapmode=wrap
    )
