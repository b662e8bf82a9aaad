"""Signed, expiring receipt download links: the link is the only key to the document."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.model.residents import Language
from bot.services.receipts import ReceiptLinks
from tests.fakes import FakeClock


def verified(links: ReceiptLinks, receipt_number: str, *rest: object) -> bool:
    language, expires, signature = rest
    return links.verify((receipt_number,), str(language), int(str(expires)), str(signature))


def link_parts(url: str) -> tuple[str, str, int, str]:
    """(receipt number, language, expires, signature) as the download route reads them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    receipt_number = parts.path.rsplit("/", 1)[-1].removesuffix(".pdf")
    return receipt_number, query["lang"][0], int(query["expires"][0]), query["sig"][0]


def test_receipt_link_is_valid_until_it_expires_after_a_day(
    receipt_links: ReceiptLinks, clock: FakeClock
) -> None:
    parts = link_parts(receipt_links.url_for("RJB250115ABCD1234", Language.EN))

    clock.advance(timedelta(hours=24))
    assert verified(receipt_links, *parts)
    clock.advance(timedelta(seconds=1))
    assert not verified(receipt_links, *parts)


@pytest.mark.parametrize("field", ["receipt_number", "language", "expires", "signature"])
def test_tampered_receipt_link_is_refused(receipt_links: ReceiptLinks, field: str) -> None:
    receipt_number, language, expires, signature = link_parts(
        receipt_links.url_for("RJB250115ABCD1234", Language.EN)
    )
    tampered = {
        "receipt_number": ("RJB250115ABCD1235", language, expires, signature),
        "language": (receipt_number, "hi", expires, signature),
        "expires": (receipt_number, language, expires + 86_400, signature),
        "signature": (receipt_number, language, expires, "0" * len(signature)),
    }[field]

    assert not verified(receipt_links, *tampered)


def test_receipt_link_signed_with_another_key_is_refused(
    receipt_links: ReceiptLinks, clock: FakeClock
) -> None:
    forged = ReceiptLinks("https://bills.example.in", b"someone-elses-key", clock)

    assert not verified(
        receipt_links, *link_parts(forged.url_for("RJB250115ABCD1234", Language.EN))
    )


@pytest.mark.parametrize("expires", [10**15, -(10**15)])
def test_receipt_link_with_an_absurd_expiry_is_refused_not_an_error(
    receipt_links: ReceiptLinks, expires: int
) -> None:
    receipt_number, language, _, signature = link_parts(
        receipt_links.url_for("RJB250115ABCD1234", Language.EN)
    )

    assert verified(receipt_links, receipt_number, language, expires, signature) is False
