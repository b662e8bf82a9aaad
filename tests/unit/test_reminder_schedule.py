"""The reminder schedule across dates, month ends, leap years, quiet hours and IST."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model.calendar import IST
from bot.model.reminders import (
    ALL_KINDS,
    QuietHours,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    plan_reminders,
    replan,
)

due_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))
offsets = st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=5))
policies = st.builds(
    ReminderPolicy,
    days_before=st.integers(min_value=1, max_value=30),
    kinds=st.frozensets(st.sampled_from(list(ReminderKind))),
    send_time=st.times(),
    quiet=st.builds(QuietHours, start=st.times(), end=st.times()),
)


def _noticed(due_on: date, offset: timedelta) -> datetime:
    return datetime.combine(due_on, time(0), IST).astimezone(timezone.utc) + offset


@settings(max_examples=400, deadline=None)
@given(due_dates, offsets, policies)
def test_a_schedule_is_never_quiet_never_late_never_repeated(
    due_on: date, offset: timedelta, policy: ReminderPolicy
) -> None:
    noticed = _noticed(due_on, offset)
    planned = plan_reminders(due_on, noticed, policy)
    kinds = [p.kind for p in planned]
    assert len(kinds) == len(set(kinds)), "each kind at most once"
    assert set(kinds) <= policy.kinds
    assert [p.send_at for p in planned] == sorted(p.send_at for p in planned)
    for reminder in planned:
        assert reminder.send_at.utcoffset() == timedelta(0), "stored in UTC"
        assert reminder.send_at >= noticed, "never in the past"
        assert not policy.quiet.contains(reminder.send_at), "never in quiet hours"
        local_day = reminder.send_at.astimezone(IST).date()
        if reminder.kind is ReminderKind.BEFORE_DUE:
            assert local_day < due_on, "a before-due reminder before the due date"
        if reminder.kind is ReminderKind.OVERDUE:
            assert local_day > due_on, "an overdue reminder only once overdue"


@settings(max_examples=300, deadline=None)
@given(due_dates, st.integers(min_value=1, max_value=30))
def test_default_hours_put_scheduled_reminders_on_their_ist_days(
    due_on: date, days_before: int
) -> None:
    noticed = _noticed(due_on, timedelta(days=-days_before - 2))
    planned = {
        p.kind: p.send_at for p in plan_reminders(due_on, noticed, ReminderPolicy(days_before))
    }
    assert planned[ReminderKind.BEFORE_DUE].astimezone(IST) == datetime.combine(
        due_on - timedelta(days=days_before), time(10), IST
    )
    assert planned[ReminderKind.DUE_DAY].astimezone(IST).date() == due_on
    assert planned[ReminderKind.OVERDUE].astimezone(IST).date() == due_on + timedelta(days=1)
    # 10:00 IST is 04:30 UTC.
    assert planned[ReminderKind.DUE_DAY].time() == time(4, 30)


@pytest.mark.parametrize(
    ("due_on", "before", "overdue"),
    [
        (date(2024, 3, 1), date(2024, 2, 27), date(2024, 3, 2)),  # leap February
        (date(2025, 3, 1), date(2025, 2, 26), date(2025, 3, 2)),
        (date(2025, 12, 31), date(2025, 12, 28), date(2026, 1, 1)),  # year end
        (date(2025, 5, 31), date(2025, 5, 28), date(2025, 6, 1)),
    ],
)
def test_month_and_year_ends(due_on: date, before: date, overdue: date) -> None:
    noticed = _noticed(due_on, timedelta(days=-10))
    planned = {
        p.kind: p.send_at.astimezone(IST).date()
        for p in plan_reminders(due_on, noticed, ReminderPolicy())
    }
    assert planned[ReminderKind.BEFORE_DUE] == before
    assert planned[ReminderKind.OVERDUE] == overdue


def test_a_bill_noticed_at_night_is_announced_at_nine_the_next_morning() -> None:
    noticed = datetime(2025, 1, 10, 22, 15, tzinfo=IST)
    planned = plan_reminders(date(2025, 1, 25), noticed, ReminderPolicy())
    assert planned[0].kind is ReminderKind.NEW_BILL
    assert planned[0].send_at.astimezone(IST) == datetime(2025, 1, 11, 9, 0, tzinfo=IST)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(20, 59, 59), False),
        (time(21, 0), True),
        (time(0, 0), True),
        (time(8, 59, 59), True),
        (time(9, 0), False),
    ],
)
def test_quiet_hour_edges(local: time, quiet: bool) -> None:
    moment = datetime.combine(date(2025, 6, 1), local, IST)
    assert QuietHours().contains(moment) is quiet


def test_a_bill_noticed_late_gets_no_useless_reminders() -> None:
    due_on = date(2025, 2, 5)
    noticed = datetime(2025, 2, 4, 12, 0, tzinfo=IST)  # after "3 days before"
    kinds = [p.kind for p in plan_reminders(due_on, noticed, ReminderPolicy())]
    assert kinds == [ReminderKind.NEW_BILL, ReminderKind.DUE_DAY, ReminderKind.OVERDUE]
    already_overdue = datetime(2025, 2, 9, 12, 0, tzinfo=IST)
    late = plan_reminders(due_on, already_overdue, ReminderPolicy())
    assert [p.kind for p in late] == [ReminderKind.OVERDUE]
    assert late[0].send_at == already_overdue.astimezone(timezone.utc)


def test_a_before_due_reminder_deferred_onto_the_due_date_is_dropped() -> None:
    # 23:30 is quiet: the day-before reminder would move to 09:00 on the due date itself.
    policy = ReminderPolicy(days_before=1, send_time=time(23, 30))
    due_on = date(2025, 3, 10)
    planned = plan_reminders(due_on, _noticed(due_on, timedelta(days=-5)), policy)
    assert ReminderKind.BEFORE_DUE not in {p.kind for p in planned}
    assert {p.kind for p in planned} >= {ReminderKind.DUE_DAY, ReminderKind.OVERDUE}


def _stored(kind: ReminderKind, send_at: datetime, state: ReminderState) -> Reminder:
    return Reminder(
        1, "r", "a", "b", "B-1", kind, 100, "••••1234", date(2025, 1, 25), send_at, state, 0
    )


def test_replan_turns_kinds_off_and_back_on_only_while_their_moment_is_ahead() -> None:
    due_day = datetime(2025, 1, 25, 4, 30, tzinfo=timezone.utc)
    before = datetime(2025, 1, 20, tzinfo=timezone.utc)
    after = datetime(2025, 1, 26, tzinfo=timezone.utc)
    scheduled = _stored(ReminderKind.DUE_DAY, due_day, ReminderState.SCHEDULED)
    off = _stored(ReminderKind.DUE_DAY, due_day, ReminderState.TURNED_OFF)
    no_due_day = ReminderPolicy(kinds=ALL_KINDS - {ReminderKind.DUE_DAY})

    assert replan(scheduled, no_due_day, before) == (ReminderState.TURNED_OFF, due_day)
    assert replan(scheduled, ReminderPolicy(), before) is None
    assert replan(off, ReminderPolicy(), before) == (ReminderState.SCHEDULED, due_day)
    assert replan(off, ReminderPolicy(), after) is None  # too late: stays off
    sent = _stored(ReminderKind.DUE_DAY, due_day, ReminderState.SENDING)
    assert replan(sent, no_due_day, before) is None  # at-most-once: never touched


def test_replan_moves_the_before_due_reminder_with_days_before() -> None:
    three = datetime(2025, 1, 22, 4, 30, tzinfo=timezone.utc)
    row = _stored(ReminderKind.BEFORE_DUE, three, ReminderState.SCHEDULED)
    now = datetime(2025, 1, 15, tzinfo=timezone.utc)

    assert replan(row, ReminderPolicy(days_before=7), now) == (
        ReminderState.SCHEDULED,
        datetime(2025, 1, 18, 4, 30, tzinfo=timezone.utc),
    )
    late = datetime(2025, 1, 19, tzinfo=timezone.utc)  # 7 days before has passed
    moved = replan(row, ReminderPolicy(days_before=7), late)
    assert moved is not None and moved[0] is ReminderState.TURNED_OFF
