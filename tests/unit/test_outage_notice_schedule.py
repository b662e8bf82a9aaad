"""Planned-outage notices: when they go (before the cut, never at night, never too late) and
what they say (times in IST, the company's reason, what we never ask for, SMS cost)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages.reminders import REMINDER_SAFETY
from bot.model.calendar import IST
from bot.model.outage_notices import notice_time
from bot.model.outages import MAX_REASON_CHARS, Outage, OutageKind
from bot.model.reminders import (
    ALL_KINDS,
    QuietHours,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    replan,
)
from bot.model.residents import Language
from bot.services.outage_notices import outage_notice
from channels.sms import encoding, segments, sms_text

UTC = timezone.utc
QUIET = QuietHours()


def _outage(
    starts: datetime, hours: float = 4, reason: str = "Line maintenance", area: str = ""
) -> Outage:
    return Outage(
        "OUT-1",
        "JVVNL00000RAJ01",
        OutageKind.PLANNED,
        starts,
        starts + timedelta(hours=hours),
        reason,
        area,
    )


def _ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=IST)


def test_a_notice_goes_the_evening_before() -> None:
    outage = _outage(_ist(8, 10))
    assert notice_time(outage, _ist(5, 12), QUIET) == _ist(7, 18).astimezone(UTC)


def test_a_late_announcement_goes_at_once_or_at_the_end_of_the_quiet_hours() -> None:
    outage = _outage(_ist(8, 14))
    assert notice_time(outage, _ist(8, 11), QUIET) == _ist(8, 11).astimezone(UTC)
    assert notice_time(outage, _ist(7, 23), QUIET) == _ist(8, 9).astimezone(UTC)


def test_no_notice_when_it_could_only_arrive_after_the_cut_starts() -> None:
    # Announced at 22:00 for 08:00: the quiet hours end at 09:00, after the start.
    assert notice_time(_outage(_ist(8, 8)), _ist(7, 22), QUIET) is None
    assert notice_time(_outage(_ist(8, 8)), _ist(8, 8, 30), QUIET) is None


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(
    moments,
    st.timedeltas(min_value=timedelta(minutes=-60), max_value=timedelta(days=10)),
    st.builds(QuietHours, start=st.times(), end=st.times()),
)
def test_a_notice_is_never_quiet_never_late_never_in_the_past(
    now: datetime, ahead: timedelta, quiet: QuietHours
) -> None:
    outage = _outage(now + ahead)
    moment = notice_time(outage, now, quiet)
    if moment is None:
        return
    assert now <= moment < outage.starts_at
    assert not quiet.contains(moment)


def test_changing_bill_reminder_settings_leaves_outage_notices_alone() -> None:
    notice = Reminder(
        1,
        "r1",
        "a1",
        "JVVNL00000RAJ01",
        "OUT-1",
        ReminderKind.PLANNED_OUTAGE,
        0,
        "••••0001",
        _ist(8, 10).date(),
        _ist(7, 18),
        ReminderState.SCHEDULED,
        0,
    )
    none_on = ReminderPolicy(kinds=frozenset())
    assert replan(notice, none_on, _ist(5, 12)) is None
    assert ReminderKind.PLANNED_OUTAGE not in ALL_KINDS  # not a bill setting's toggle


# --- texts -------------------------------------------------------------------------------
WORST_REASON = "Replacement of 33 kV feeder insulators and tree trimming near the line " * 3
WORST_AREA = "Mansarovar Sector 7, Shipra Path and Madhyam Marg, Jaipur"


@pytest.mark.parametrize("language", list(Language))
def test_a_notice_says_when_why_where_and_what_we_never_ask_for(language: Language) -> None:
    outage = _outage(_ist(8, 10), reason="Transformer maintenance", area="Shipra Path")
    text = outage_notice(outage, "••••0001", language, "JVVNL", short=False).text

    assert "10:00" in text and "14:00 IST" in text
    assert "Transformer maintenance" in text and "Shipra Path" in text
    assert "JVVNL" in text and "••••0001" in text
    assert text.endswith(REMINDER_SAFETY[language])
    assert ("8 Dec 2026" if language is Language.EN else "8 दिसंबर 2026") in text


def test_an_overnight_cut_names_both_days() -> None:
    outage = _outage(_ist(8, 22), hours=6)
    en = outage_notice(outage, "••••0001", Language.EN, "JVVNL", short=False).text
    hi = outage_notice(outage, "••••0001", Language.HI, "JVVNL", short=False).text
    assert "8 Dec 2026 22:00 to 9 Dec 2026 04:00 IST" in en
    assert "8 दिसंबर 2026 22:00 से 9 दिसंबर 2026 04:00 IST तक" in hi


def test_no_area_line_when_the_company_names_none() -> None:
    text = outage_notice(_outage(_ist(8, 10)), "••••0001", Language.EN, "JVVNL", False).text
    assert "Area" not in text and ".  " not in text


@pytest.mark.parametrize(("language", "most"), [(Language.EN, 2), (Language.HI, 3)])
def test_an_sms_notice_stays_short_whatever_the_company_writes(
    language: Language, most: int
) -> None:
    outage = _outage(_ist(8, 22), hours=6, reason=WORST_REASON[:MAX_REASON_CHARS], area=WORST_AREA)
    text = sms_text(outage_notice(outage, "••••0001", language, "JdVVNL", short=True).text)

    assert segments(text) <= most, f"{len(text)} characters: {text}"
    assert encoding(text) == ("gsm7" if language is Language.EN else "ucs2")
    assert text.endswith(sms_text(REMINDER_SAFETY[language]))


def test_other_channels_get_the_whole_reason() -> None:
    reason = WORST_REASON[:MAX_REASON_CHARS].strip()
    text = outage_notice(
        _outage(_ist(8, 10), reason=reason), "••••0001", Language.EN, "JVVNL", False
    )
    assert reason in text.text and not text.buttons
