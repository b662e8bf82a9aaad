"""Reminders say what we never ask for, and still cost what they did: one GSM-7 segment in
English, two UCS-2 segments in Hindi, with the longest names, amounts and dates we send."""

from __future__ import annotations

from datetime import date

import pytest

from bot.messages import render
from bot.messages.reminders import REMINDER_SAFETY
from bot.model.calendar import format_date
from bot.model.residents import Language
from channels.sms import encoding, segments, sms_text

KINDS = ["new_bill", "before_due", "due_day", "overdue"]
# The longest short name in integrations/billers/catalog.yml, an amount of twelve lakh, and
# the longest month name in each language.
WORST = {
    "biller": "JdVVNL",
    "consumer": "••••0001",
    "amount": "₹12,34,567.00",
}
SEGMENTS = {Language.EN: 1, Language.HI: 2}


def reminder(kind: str, language: Language) -> str:
    due = format_date(date(2026, 9, 30), language)
    return render(f"reminder_{kind}", language, due=due, **WORST)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", KINDS)
def test_every_reminder_says_we_never_ask_for_card_details(kind: str, language: Language) -> None:
    assert reminder(kind, language).endswith(REMINDER_SAFETY[language])


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", KINDS)
def test_a_reminder_sms_costs_no_more_segments_than_before(kind: str, language: Language) -> None:
    text = sms_text(reminder(kind, language))

    assert segments(text) <= SEGMENTS[language], f"{len(text)} characters: {text}"
    assert encoding(text) == ("gsm7" if language is Language.EN else "ucs2")
