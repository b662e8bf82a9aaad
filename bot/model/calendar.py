"""Dates and times as residents read them: IST, with Hindi month names in Hindi."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.model.residents import Language

IST = timezone(timedelta(hours=5, minutes=30), "IST")

_MONTHS = {
    Language.EN: "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
    Language.HI: "जनवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्टूबर नवंबर दिसंबर".split(),
}


def format_date(day: date, language: Language) -> str:
    """ "5 Dec 2026" / "5 दिसंबर 2026"."""
    return f"{day.day} {_MONTHS[language][day.month - 1]} {day.year}"


def format_datetime_ist(moment: datetime, language: Language) -> str:
    """A UTC instant as IST wall time: "24 Nov 2026, 19:05 IST"."""
    local = moment.astimezone(IST)
    return f"{format_date(local.date(), language)}, {local:%H:%M} IST"


def format_time_ist(moment: datetime, language: Language) -> str:
    """A UTC instant as an IST clock time, "19:05 IST" (the same in both languages)."""
    return f"{moment.astimezone(IST):%H:%M} IST"
