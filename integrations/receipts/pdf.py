"""PDF receipts in English and Hindi with fpdf2.

Hindi needs a shaping engine (HarfBuzz, through uharfbuzz): without it conjuncts such as
"स्त" and vowel signs such as "ि" come out as loose, misplaced glyphs. Noto Sans Devanagari
has no Latin letters, so it is a fallback font behind Noto Sans, which also carries ₹ and
the bullets of masked numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.model.money import format_rupees
from bot.model.payments import Receipt
from bot.model.residents import Language

# Debian's fonts-noto-core, installed by scripts/install-system-deps.sh.
DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONT_FILES = {
    ("latin", ""): "NotoSans-Regular.ttf",
    ("latin", "B"): "NotoSans-Bold.ttf",
    ("deva", ""): "NotoSansDevanagari-Regular.ttf",
    ("deva", "B"): "NotoSansDevanagari-Bold.ttf",
}
INSTALL_HINT = "run scripts/install-system-deps.sh (Debian package fonts-noto-core)"

IST = timezone(timedelta(hours=5, minutes=30), "IST")

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

MONTHS: dict[Language, tuple[str, ...]] = {
    Language.EN: tuple("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()),
    Language.HI: tuple("जनवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर".split()),
}

_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_ACCENT = (176, 76, 21)  # a Rajasthani terracotta, same as the chat page header


class ReceiptFontsMissingError(RuntimeError):
    """The Noto fonts are not installed: receipts cannot be drawn without them."""


def format_ist(moment: datetime, language: Language) -> str:
    """Like "24 Nov 2026, 19:05 IST": residents read times in IST, whatever the storage zone."""
    local = moment.astimezone(IST)
    month = MONTHS[language][local.month - 1]
    return f"{local.day} {month} {local.year}, {local:%H:%M} IST"


class PdfReceiptRenderer:
    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        self._font_dir = font_dir

    def check_fonts(self) -> None:
        """Raise ReceiptFontsMissingError naming every absent font file and how to install it."""
        missing = [name for name in FONT_FILES.values() if not (self._font_dir / name).is_file()]
        if missing:
            raise ReceiptFontsMissingError(
                f"receipt fonts missing in {self._font_dir}: {', '.join(missing)}; {INSTALL_HINT}"
            )

    def render(self, receipt: Receipt, language: Language) -> bytes:
        """The receipt as a one-page A5 PDF, labelled in `language`."""
        self.check_fonts()
        words = LABELS[language]
        pdf = FPDF(format=(148, 210))  # A5; the name warns about a 2.8.5 fix
        pdf.set_margins(14, 14, 14)
        pdf.set_auto_page_break(auto=True, margin=14)
        pdf.set_title(f"{words['title']} {receipt.receipt_number}")
        pdf.set_creator(LABELS[Language.EN]["product"])
        for (family, style), filename in FONT_FILES.items():
            pdf.add_font(family, style, str(self._font_dir / filename))
        pdf.set_fallback_fonts(["deva"], exact_match=False)
        pdf.set_text_shaping(True)
        pdf.add_page()

        _use_font(pdf, "B", 10)
        pdf.set_text_color(*_ACCENT)
        pdf.cell(0, 6, words["product"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        _use_font(pdf, "B", 18)
        pdf.set_text_color(*_INK)
        pdf.cell(0, 11, words["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._rule(pdf)

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
            self._row(pdf, words[key], value)
        self._rule(pdf)
        self._row(pdf, words["total"], format_rupees(receipt.total_paise), bold=True)
        self._rule(pdf)

        pdf.ln(4)
        _use_font(pdf, "", 8.5)
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, 5, words["footer"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return bytes(pdf.output())

    @staticmethod
    def _row(pdf: FPDF, label: str, value: str, bold: bool = False) -> None:
        _use_font(pdf, "B" if bold else "", 12 if bold else 10)
        pdf.set_text_color(*(_INK if bold else _MUTED))
        pdf.cell(48, 8, label)
        pdf.set_text_color(*_INK)
        pdf.multi_cell(0, 8, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    @staticmethod
    def _rule(pdf: FPDF) -> None:
        pdf.ln(1.5)
        pdf.set_draw_color(222, 226, 230)
        y = pdf.get_y()
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.ln(2.5)


def _use_font(pdf: FPDF, style: str, size: float) -> None:
    """Select Noto Sans and declare it on the page before any text is drawn.

    fpdf2 2.8.9 declares the base font lazily, and when a line starts with a fallback-font
    glyph (a Hindi label) it declares it only inside that line's q/Q block; the next line
    that starts with Latin text (a value) then has no font at all and viewers drop it
    ("No font in show"). `text()` with an empty string declares the font page-wide.
    """
    pdf.set_font("latin", style, size)
    pdf.text(pdf.x, pdf.y, "")
