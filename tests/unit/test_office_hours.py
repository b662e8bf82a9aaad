"""Office hours of the help desk, in IST, and what a resident is told outside them."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.model.calendar import IST
from bot.model.complaints import find_complaint_id, new_complaint_id
from bot.model.handoff import OfficeHours, wants_the_bot

HOURS = OfficeHours.parse("0-5", "09:00", "18:00")  # Monday to Saturday, 09:00-18:00 IST


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=IST)  # 23 Nov 2026 is a Monday


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (ist(24, 10), ist(24, 10)),  # Tuesday morning: now
        (ist(24, 8, 59), ist(24, 9)),  # before opening: same day 09:00
        (ist(24, 18), ist(25, 9)),  # closing time is closed: next morning
        (ist(28, 19), ist(30, 9)),  # Saturday evening: Monday (Sunday is off)
        (ist(29, 12), ist(30, 9)),  # Sunday noon: Monday
    ],
)
def test_next_opening_is_when_someone_answers(moment: datetime, expected: datetime) -> None:
    assert HOURS.next_opening(moment) == expected
    assert HOURS.is_open(moment) == (moment == expected)


def test_hours_are_read_in_ist_whatever_the_zone_of_the_instant() -> None:
    from datetime import timezone

    # 04:00 UTC is 09:30 IST on a Tuesday.
    assert HOURS.is_open(datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))


@pytest.mark.parametrize(
    ("days", "opens", "closes"), [("7", "09:00", "18:00"), ("0-5", "18:00", "09:00")]
)
def test_bad_office_hours_settings_are_refused(days: str, opens: str, closes: str) -> None:
    with pytest.raises(ValueError):
        OfficeHours.parse(days, opens, closes)


def test_complaint_ids_can_be_read_out_and_found_again() -> None:
    complaint_id = new_complaint_id()

    assert complaint_id.startswith("RJC") and complaint_id[3:].isdigit() and len(complaint_id) == 13
    assert find_complaint_id(f"status of {complaint_id.lower()}?") == complaint_id
    assert find_complaint_id(f"RJC {complaint_id[3:]} ka kya hua") == complaint_id
    assert find_complaint_id("status of my complaint") is None


@pytest.mark.parametrize(
    ("text", "expected"), [("cancel", True), ("बॉट", True), ("Bot!", True), ("my bill", False)]
)
def test_words_that_take_a_waiting_resident_back_to_the_bot(text: str, expected: bool) -> None:
    assert wants_the_bot(text) is expected
