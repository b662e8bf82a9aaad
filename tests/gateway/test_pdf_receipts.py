"""PdfReceiptRenderer: real PDFs in English and Hindi, with Devanagari that reads right."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from bot.model.payments import Receipt
from bot.model.residents import Language
from integrations.receipts.pdf import (
    DEFAULT_FONT_DIR,
    FONT_FILES,
    LABELS,
    MONTHS,
    PdfReceiptRenderer,
    ReceiptFontsMissingError,
    format_ist,
)

RECEIPT = Receipt(
    receipt_number="RJB261124A1B2C3D4",
    transaction_reference="pay_Nq8XyZ12345678",
    biller_name="Jaipur Vidyut Vitran Nigam Ltd",
    consumer_number_masked="••••8912",
    bill_number="JV2611-4567891",
    amount_paise=123456789,
    fee_paise=1500,
    paid_at=datetime(2026, 11, 24, 13, 35, tzinfo=timezone.utc),
)

fonts_installed = pytest.mark.skipif(
    not all((DEFAULT_FONT_DIR / f).is_file() for f in FONT_FILES.values()),
    reason="Noto fonts missing: run scripts/install-system-deps.sh",
)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext missing (poppler-utils): run scripts/install-system-deps.sh")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_a_receipt_is_a_pdf_with_every_value_on_it(language: Language, tmp_path: Path) -> None:
    pdf = PdfReceiptRenderer().render(RECEIPT, language)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    for value in (
        "RJB261124A1B2C3D4",
        "pay_Nq8XyZ12345678",
        "••••8912",
        "JV2611-4567891",
        "₹12,34,567.89",
        "₹15.00",
        "₹12,34,582.89",
        "19:05 IST",
    ):
        assert value in text, f"{value!r} missing from the {language.value} receipt"


@fonts_installed
def test_a_hindi_receipt_embeds_the_devanagari_font_and_hindi_labels(tmp_path: Path) -> None:
    pdf = PdfReceiptRenderer().render(RECEIPT, Language.HI)

    assert b"NotoSansDevanagari" in pdf
    text = pdf_text(pdf, tmp_path)
    assert "भुगतान रसीद" in text
    assert "24 नवंबर 2026, 19:05 IST" in text


@fonts_installed
def test_an_english_receipt_has_english_labels(tmp_path: Path) -> None:
    text = pdf_text(PdfReceiptRenderer().render(RECEIPT, Language.EN), tmp_path)
    assert "Payment receipt" in text
    assert "24 Nov 2026, 19:05 IST" in text
    assert "computer-generated" in text


@fonts_installed
def test_the_hindi_page_renders_to_an_image(tmp_path: Path) -> None:
    """Writes receipt-hi.png for a person to look at; asserts the page is not blank."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm missing (poppler-utils): run scripts/install-system-deps.sh")
    pdf_path = tmp_path / "receipt-hi.pdf"
    pdf_path.write_bytes(PdfReceiptRenderer().render(RECEIPT, Language.HI))
    result = subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-png",
            "-singlefile",
            str(pdf_path),
            str(tmp_path / "receipt-hi"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Syntax Error" not in result.stderr  # e.g. "No font in show": text dropped
    with Image.open(tmp_path / "receipt-hi.png") as image:
        inked = sum(1 for pixel in image.convert("L").get_flattened_data() if pixel < 128)
    assert inked > 5000


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_every_character_of_the_labels_has_a_glyph(language: Language) -> None:
    """A character missing from both fonts would print as an empty box."""
    covered: set[int] = set()
    for name in FONT_FILES.values():
        covered |= set(TTFont(DEFAULT_FONT_DIR / name).getBestCmap())
    text = "".join(LABELS[language].values()) + "".join(MONTHS[language]) + "₹•"
    missing = {c for c in text if ord(c) not in covered and not c.isspace()}
    assert not missing


def test_both_languages_have_the_same_labels() -> None:
    assert LABELS[Language.EN].keys() == LABELS[Language.HI].keys()


def test_missing_fonts_are_named_with_the_way_to_install_them(tmp_path: Path) -> None:
    with pytest.raises(ReceiptFontsMissingError) as caught:
        PdfReceiptRenderer(font_dir=tmp_path).render(RECEIPT, Language.HI)
    assert "NotoSansDevanagari-Regular.ttf" in str(caught.value)
    assert "scripts/install-system-deps.sh" in str(caught.value)


def test_times_are_shown_in_ist_across_midnight() -> None:
    late = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)
    assert format_ist(late, Language.EN) == "25 Nov 2026, 01:30 IST"
    assert format_ist(late, Language.HI) == "25 नवंबर 2026, 01:30 IST"


def _raw_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext missing (poppler-utils): run scripts/install-system-deps.sh")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@fonts_installed
def test_every_hindi_label_reads_back_from_the_pdf_as_the_same_devanagari(
    tmp_path: Path,
) -> None:
    # Conjuncts (क्त in उपभोक्ता, स्थ in स्थिति) and matras are where broken shaping shows:
    # the characters a PDF reader extracts, in order, must be the very words (not boxes,
    # not split or reordered letters). Spacing is compared apart, below.
    text = "".join(_raw_text(PdfReceiptRenderer().render(RECEIPT, Language.HI), tmp_path).split())
    for label in LABELS[Language.HI].values():
        assert "".join(label.split()) in text, f"{label!r} does not read back from the PDF"


@fonts_installed
@pytest.mark.xfail(
    strict=True,
    reason="known defect: pdftotext puts a space after a pre-base i-matra ('बि ल' for 'बिल'); "
    "the glyph order is right, the text layer's positions are not (fpdf2 shaping)",
)
def test_hindi_words_read_back_without_stray_spaces(tmp_path: Path) -> None:
    text = " ".join(_raw_text(PdfReceiptRenderer().render(RECEIPT, Language.HI), tmp_path).split())
    for label in LABELS[Language.HI].values():
        assert " ".join(label.split()) in text, f"{label!r} reads back with stray spaces"
