"""The catalog of texts sent outside a turn: every message in both languages, same blanks."""

from __future__ import annotations

from string import Formatter

import pytest

from bot.messages import CATALOG
from bot.model.residents import Language


def blanks(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize("message", sorted(CATALOG))
def test_every_message_has_every_language_with_the_same_blanks(message: str) -> None:
    texts = CATALOG[message]

    assert set(texts) == set(Language)
    assert blanks(texts[Language.HI]) == blanks(texts[Language.EN])


def test_english_otp_sms_fits_one_gsm_segment() -> None:
    text = CATALOG["otp_sms"][Language.EN].format(otp="123456", minutes=5)

    assert len(text) <= 160 and text.isascii()


def test_hindi_otp_sms_fits_one_unicode_segment() -> None:
    # Devanagari forces UCS-2: 70 characters per SMS segment (domain reference).
    text = CATALOG["otp_sms"][Language.HI].format(otp="123456", minutes=5)

    assert len(text) <= 70
