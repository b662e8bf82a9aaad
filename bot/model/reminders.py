"""Bill reminders: what a resident is reminded of, when, and the states a reminder goes through.

Times: the policy speaks Indian time (IST, UTC+05:30 all year, no daylight saving), the
schedule is stored in UTC. Schedules are pure functions of the bill's due date, the moment the
bill was noticed and the policy, so they can be property-tested over any calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum

from bot.model.calendar import IST
from bot.model.residents import Channel, Language


class ReminderKind(str, Enum):
    NEW_BILL = "new_bill"  # as soon as a new bill is noticed
    BEFORE_DUE = "before_due"  # `days_before` days before the due date
    DUE_DAY = "due_day"  # on the due date
    OVERDUE = "overdue"  # the day after the due date, once
    # Not about a bill: a planned power cut announced to a saved electricity account, once
    # per (account, outage). Its "bill_number" is the company's outage id (bot/model/outages.py,
    # bot/services/outage_notices.py); the resident's per-kind settings do not list it.
    PLANNED_OUTAGE = "planned_outage"

    @property
    def about_bill(self) -> bool:
        return self is not ReminderKind.PLANNED_OUTAGE


class ReminderState(str, Enum):
    SCHEDULED = "scheduled"  # waiting for its time
    CLAIMED = "claimed"  # taken by a worker under a lease; nothing sent yet
    SENDING = "sending"  # the at-most-once point: handed to the provider, never resent
    SENT = "sent"
    FAILED = "failed"  # the provider refused, or out of retries
    SKIPPED = "skipped"  # bill paid, resident opted out, no channel to reach them
    CANCELLED = "cancelled"  # bill paid elsewhere (noticed by discovery) before its time
    UNCERTAIN = "uncertain"  # found SENDING after a crash, or a provider timeout: maybe sent
    TURNED_OFF = "turned_off"  # its kind is off in the resident's policy; back on if turned on


@dataclass(frozen=True)
class QuietHours:
    """Nothing proactive between `start` and `end` (IST); the window may cross midnight."""

    start: time = time(21, 0)
    end: time = time(9, 0)

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(IST).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def defer(self, moment: datetime) -> datetime:
        """`moment` itself when it is outside quiet hours, else the end of the quiet hours."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(IST)
        end = datetime.combine(local.date(), self.end, IST)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(timezone.utc)


# The kinds of a bill's reminders: what a reminder policy turns on and off.
ALL_KINDS = frozenset(kind for kind in ReminderKind if kind.about_bill)


@dataclass(frozen=True)
class ReminderPolicy:
    """Which reminders a resident gets and when (defaults from the issue: 3 days before,
    quiet 21:00-09:00 IST, scheduled reminders at 10:00 IST)."""

    days_before: int = 3
    kinds: frozenset[ReminderKind] = field(default_factory=lambda: ALL_KINDS)
    send_time: time = time(10, 0)
    quiet: QuietHours = field(default_factory=QuietHours)

    def __post_init__(self) -> None:
        if not 1 <= self.days_before <= 30:
            raise ValueError("days_before must be between 1 and 30")


def kinds_text(kinds: frozenset[ReminderKind]) -> str:
    """How a set of kinds is stored: "new_bill,before_due" (in declaration order)."""
    return ",".join(kind.value for kind in ReminderKind if kind in kinds)


def parse_kinds(text: str) -> frozenset[ReminderKind]:
    return frozenset(ReminderKind(part) for part in text.split(",") if part)


@dataclass(frozen=True)
class AccountPolicy:
    """A saved account's own reminder policy, overriding the resident's."""

    account_id: str
    days_before: int
    kinds: frozenset[ReminderKind]

    @property
    def policy(self) -> ReminderPolicy:
        return ReminderPolicy(days_before=self.days_before, kinds=self.kinds)


@dataclass(frozen=True)
class PlannedReminder:
    kind: ReminderKind
    send_at: datetime  # UTC


def _at(day: date, policy: ReminderPolicy) -> datetime:
    return policy.quiet.defer(datetime.combine(day, policy.send_time, IST)).astimezone(timezone.utc)


def plan_reminders(
    due_on: date, noticed_at: datetime, policy: ReminderPolicy
) -> list[PlannedReminder]:
    """The reminders for a bill due on `due_on` (an IST date) noticed at `noticed_at`.

    Each kind at most once, in time order, never inside quiet hours, never before
    `noticed_at`, and never when it would be useless: a "before due" reminder that would fall
    on or after the due date, or a scheduled one whose moment has already passed (the
    new-bill reminder tells the resident instead).
    """
    noticed_at = noticed_at.astimezone(timezone.utc)
    planned: list[PlannedReminder] = []
    if ReminderKind.NEW_BILL in policy.kinds and noticed_at.astimezone(IST).date() <= due_on:
        planned.append(PlannedReminder(ReminderKind.NEW_BILL, policy.quiet.defer(noticed_at)))
    moments = {
        ReminderKind.BEFORE_DUE: _at(due_on - timedelta(days=policy.days_before), policy),
        ReminderKind.DUE_DAY: _at(due_on, policy),
        ReminderKind.OVERDUE: _at(due_on + timedelta(days=1), policy),
    }
    for kind, moment in moments.items():
        useless = kind is ReminderKind.BEFORE_DUE and moment.astimezone(IST).date() >= due_on
        if kind in policy.kinds and moment > noticed_at and not useless:
            planned.append(PlannedReminder(kind, moment))
    overdue_planned = any(p.kind is ReminderKind.OVERDUE for p in planned)
    if (
        ReminderKind.OVERDUE in policy.kinds
        and not overdue_planned
        and noticed_at.astimezone(IST).date() > due_on
    ):
        # Noticed already overdue (a bill found late): say so once, now.
        planned.append(PlannedReminder(ReminderKind.OVERDUE, policy.quiet.defer(noticed_at)))
    # A new-bill reminder deferred past a scheduled one would say the same thing twice.
    if planned and planned[0].kind is ReminderKind.NEW_BILL:
        first = planned[0].send_at
        if any(p.send_at <= first for p in planned[1:] if p.kind is not ReminderKind.OVERDUE):
            planned = planned[1:]
    return sorted(planned, key=lambda p: p.send_at)


def replan(
    reminder: Reminder, policy: ReminderPolicy, now: datetime
) -> tuple[ReminderState, datetime] | None:
    """A pending reminder under a changed policy: its new (state, send_at), or None when it
    stays as it is. A kind turned off is TURNED_OFF (never sent, kept so that turning it back
    on revives it); a kind turned back on is SCHEDULED again only while its moment is still
    ahead; a new `days_before` moves the "before due" reminder (off when already past)."""
    pending = (ReminderState.SCHEDULED, ReminderState.CLAIMED, ReminderState.TURNED_OFF)
    if reminder.state not in pending or not reminder.kind.about_bill:
        return None  # an outage notice follows its outage, not the bill policy
    on = reminder.kind in policy.kinds
    send_at = reminder.send_at
    if reminder.kind is ReminderKind.BEFORE_DUE:
        send_at = _at(reminder.due_on - timedelta(days=policy.days_before), policy)
        if send_at.astimezone(IST).date() >= reminder.due_on:
            on = False
    if (
        on
        and send_at <= now
        and (reminder.state is ReminderState.TURNED_OFF or send_at != reminder.send_at)
    ):
        on = False  # its moment has passed: nothing useful to send now
    if not on:
        wanted = (ReminderState.TURNED_OFF, send_at)
    elif reminder.state is ReminderState.CLAIMED:
        return None  # a worker holds it, and it is wanted: let it go out
    else:
        wanted = (ReminderState.SCHEDULED, send_at)
    return None if wanted == (reminder.state, reminder.send_at) else wanted


@dataclass(frozen=True)
class NewReminder:
    """A reminder to store in the schedule. `consumer_hint` is the masked consumer number
    ("••••8912"): the schedule never holds the number itself."""

    resident_id: str
    account_id: str
    biller_id: str
    bill_number: str
    kind: ReminderKind
    amount_paise: int
    consumer_hint: str
    due_on: date
    send_at: datetime
    state: ReminderState = ReminderState.SCHEDULED  # TURNED_OFF: a kind off in the policy


@dataclass(frozen=True)
class Reminder:
    """A stored reminder (a claimed one carries the claim's token)."""

    reminder_id: int
    resident_id: str
    account_id: str
    biller_id: str
    bill_number: str
    kind: ReminderKind
    amount_paise: int
    consumer_hint: str
    due_on: date
    send_at: datetime
    state: ReminderState
    attempts: int


@dataclass(frozen=True)
class ReminderRecipient:
    """Where a resident's reminders go, as the dispatcher needs it at send time."""

    resident_id: str
    conversation_id: str
    channel: Channel
    address: str
    language: Language
    enabled: bool  # reminder consent
    opted_out: bool  # STOP on WhatsApp/SMS: no proactive messages at all
    last_inbound_at: datetime | None
    email: str | None = None  # a confirmed address: the reminder goes there too


@dataclass
class ReminderConsent:
    """A resident's reminder choice: consent is recorded at linking, with its time; "stop
    reminders" turns it off (time kept), "set reminder" back on. `conversation_id` is where
    reminders go (the chat the resident linked or last asked from), in `language`."""

    resident_id: str
    conversation_id: str
    language: Language
    enabled: bool
    consented_at: datetime
    changed_at: datetime
    days_before: int = 3
    kinds: frozenset[ReminderKind] = ALL_KINDS

    @property
    def policy(self) -> ReminderPolicy:
        return ReminderPolicy(days_before=self.days_before, kinds=self.kinds)
