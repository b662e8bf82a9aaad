"""The check printed on a PDF receipt: the QR code reads back as the verify address with
its code, and the address and code are printed for those who type them."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from bot.model.receipt_checks import ReceiptCheck, check_code
from bot.model.residents import Language
from integrations.receipts.pdf import (
    CHECK_LABELS,
    DEFAULT_FONT_DIR,
    FONT_FILES,
    PdfReceiptRenderer,
)
from tests.gateway.test_pdf_receipts import RECEIPT, fonts_installed, pdf_text

BASE = "https://bills.rajasthan.example.in"
CHECK = ReceiptCheck(
    code=check_code(b"k" * 32, RECEIPT.receipt_number),
    page_url=f"{BASE}/verify/{RECEIPT.receipt_number}",
)
CHECKED = replace(RECEIPT, check=CHECK)


def qr_contents(pdf: bytes, tmp_path: Path) -> list[str]:
    """Every QR code zbarimg reads off the page drawn at 100 dpi."""
    if shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None:
        pytest.skip("pdftoppm or zbarimg missing: run scripts/install-system-deps.sh")
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-png",
            "-singlefile",
            str(tmp_path / "r.pdf"),
            str(tmp_path / "r"),
        ],
        check=True,
        capture_output=True,
    )
    found = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "r.png")], capture_output=True, text=True
    )
    return found.stdout.split()


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_the_qr_code_reads_back_as_the_verify_address_with_its_code(
    language: Language, tmp_path: Path
) -> None:
    pdf = PdfReceiptRenderer().render(CHECKED, language)

    assert qr_contents(pdf, tmp_path) == [
        f"{BASE}/verify/{RECEIPT.receipt_number}?code={CHECK.code}"
    ]


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_the_address_and_the_code_are_printed_for_typing(
    language: Language, tmp_path: Path
) -> None:
    text = pdf_text(PdfReceiptRenderer().render(CHECKED, language), tmp_path)
    joined = "".join(text.split())  # the address wraps at any character

    assert f"{BASE}/verify/{RECEIPT.receipt_number}" in joined
    assert CHECK.display_code in text
    assert "".join(CHECK_LABELS[language]["title"].split()) in joined


@fonts_installed
def test_a_receipt_without_a_check_prints_no_qr_code(tmp_path: Path) -> None:
    pdf = PdfReceiptRenderer().render(RECEIPT, Language.EN)

    assert qr_contents(pdf, tmp_path) == []
    assert CHECK_LABELS[Language.EN]["title"] not in pdf_text(pdf, tmp_path)


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_a_receipt_with_its_check_stays_one_small_page(language: Language, tmp_path: Path) -> None:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo missing (poppler-utils): run scripts/install-system-deps.sh")
    pdf = PdfReceiptRenderer().render(CHECKED, language)
    (tmp_path / "r.pdf").write_bytes(pdf)
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "r.pdf")], check=True, capture_output=True, text=True
    ).stdout

    assert "Pages:           1" in info
    assert len(pdf) < 60_000  # the QR code is vector squares, not an image


@fonts_installed
@pytest.mark.parametrize("language", list(Language))
def test_every_character_of_the_check_labels_has_a_glyph(language: Language) -> None:
    covered: set[int] = set()
    for name in FONT_FILES.values():
        covered |= set(TTFont(DEFAULT_FONT_DIR / name).getBestCmap())
    text = "".join(CHECK_LABELS[language].values())
    assert not {c for c in text if ord(c) not in covered and not c.isspace()}


def test_both_languages_have_the_same_check_labels() -> None:
    assert CHECK_LABELS[Language.EN].keys() == CHECK_LABELS[Language.HI].keys()
