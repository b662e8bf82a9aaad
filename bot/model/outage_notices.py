"""When a planned power cut is announced to the residents it switches off.

A notice is useful only before the cut starts, and never welcome at night: it goes the
evening before (18:00 IST the day before the cut, when people can still charge phones and
fill water tanks), or at once when the cut was announced later than that, deferred out of
quiet hours, and not at all when that would be at or after the start. A pure function, so
it can be property-tested over any calendar and quiet-hours window.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from bot.model.calendar import IST
from bot.model.outages import Outage
from bot.model.reminders import QuietHours

EVENING_BEFORE = time(18, 0)


def notice_time(
    outage: Outage, now: datetime, quiet: QuietHours, evening: time = EVENING_BEFORE
) -> datetime | None:
    """When to tell residents of `outage` (UTC), or None when it is too late to be useful."""
    starts_at = outage.starts_at.astimezone(timezone.utc)
    day_before = starts_at.astimezone(IST).date() - timedelta(days=1)
    wanted = datetime.combine(day_before, evening, IST).astimezone(timezone.utc)
    moment = quiet.defer(max(wanted, now.astimezone(timezone.utc))).astimezone(timezone.utc)
    return moment if moment < starts_at else None
