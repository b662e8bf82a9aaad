"""PdfBillCopyRenderer: the current bill as a PDF in English and Hindi, every value on it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from bot.messages import render
from bot.model.bill_copies import BillCopy
from bot.model.billing import Utility
from bot.model.residents import Language
from integrations.receipts.bill_pdf import LABELS, PdfBillCopyRenderer
from integrations.receipts.layout import DEFAULT_FONT_DIR, FONT_FILES
from tests.gateway.test_pdf_receipts import fonts_installed, pdf_text

COPY = BillCopy(
    biller_name="Jaipur Vidyut Vitran Nigam Ltd",
    biller_short_name="JVVNL",
    utility=Utility.ELECTRICITY,
    param_name="K Number",
    consumer_number_masked="••••8912",
    customer_name_masked="Ra*** Ku***",
    bill_number="JV2611-4567891",
    bill_date=date(2026, 11, 2),
    due_on=date(2026, 11, 20),
    amount_paise=1_23_456,
    outstanding_paise=1_30_000,
    fetched_at=datetime(2026, 11, 10, 5, 0, tzinfo=timezone.utc),
)
PAID = BillCopy(**{**COPY.__dict__, "outstanding_paise": 0})


@fonts_installed
@pytest.mark.parametrize(
    ("language", "dates"),
    [
        (Language.EN, ("2 Nov 2026", "20 Nov 2026", "10 Nov 2026, 10:30 IST")),
        (Language.HI, ("2 नवंबर 2026", "20 नवंबर 2026", "10 नवंबर 2026, 10:30 IST")),
    ],
)
def test_a_bill_copy_has_every_value_in_the_residents_language(
    language: Language, dates: tuple[str, ...], tmp_path: Path
) -> None:
    pdf = PdfBillCopyRenderer().render(COPY, language)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    flat = " ".join(text.split())
    for value in (
        "Jaipur Vidyut Vitran Nigam Ltd",
        "••••8912",
        "K Number",
        "Ra*** Ku***",
        "JV2611-4567891",
        "₹1,234.56",
        "₹1,300.00",
        *dates,
    ):
        assert value in flat, f"{value!r} missing from the {language.value} bill copy"
    assert "210145678912" not in text


@fonts_installed
def test_a_hindi_copy_embeds_the_devanagari_font_and_reads_back(tmp_path: Path) -> None:
    pdf = PdfBillCopyRenderer().render(COPY, Language.HI)

    assert b"NotoSansDevanagari" in pdf
    text = "".join(pdf_text(pdf, tmp_path).split())
    for key in ("title", "outstanding", "due_on", "consumer_number", "status_due"):
        assert "".join(LABELS[Language.HI][key].split()) in text


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_a_paid_bill_says_nothing_is_due(language: Language, tmp_path: Path) -> None:
    text = pdf_text(PdfBillCopyRenderer().render(PAID, language), tmp_path)

    assert "".join(LABELS[language]["status_paid"].split()) in "".join(text.split())
    assert "₹0.00" in text


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_the_copy_says_it_is_no_receipt_and_what_we_never_ask(
    language: Language, tmp_path: Path
) -> None:
    text = "".join(pdf_text(PdfBillCopyRenderer().render(COPY, language), tmp_path).split())

    assert "".join(render("verify_safety", language).split()) in text
    no_receipt = {Language.EN: "Itisnotareceipt", Language.HI: "यहरसीदनहींहै"}
    assert no_receipt[language] in text


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_every_character_of_the_labels_has_a_glyph(language: Language) -> None:
    covered: set[int] = set()
    for name in FONT_FILES.values():
        covered |= set(TTFont(DEFAULT_FONT_DIR / name).getBestCmap())
    text = "".join(LABELS[language].values())
    assert not {c for c in text if ord(c) not in covered and not c.isspace()}


def test_both_languages_have_the_same_labels() -> None:
    assert LABELS[Language.EN].keys() == LABELS[Language.HI].keys()
