"""Human handoff: a conversation waiting for, or held by, an agent, and the agents themselves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum

from bot.model.calendar import IST


class HandoffStatus(str, Enum):
    WAITING = "waiting"  # in the agent queue; the bot is already silent
    HELD = "held"  # an agent has taken it
    RELEASED = "released"  # back with the bot

    @property
    def active(self) -> bool:
        return self is not HandoffStatus.RELEASED


class Author(str, Enum):
    RESIDENT = "resident"
    AGENT = "agent"


@dataclass
class Handoff:
    handoff_id: str
    conversation_id: str
    status: HandoffStatus
    requested_at: datetime
    agent_id: str | None = None
    taken_at: datetime | None = None
    released_at: datetime | None = None


@dataclass(frozen=True)
class TranscriptLine:
    """One message of a handoff, kept for the agent: the bot never saw these."""

    handoff_id: str
    author: Author
    text: str
    at: datetime


@dataclass
class Agent:
    agent_id: str
    username: str  # logs in; never shown to residents (it would say whom to lock out)
    display_name: str  # what residents see: "Asha from the help desk"
    password_hash: str  # hex scrypt digest
    salt: str  # hex, per agent
    created_at: datetime
    failed_logins: int = 0  # wrong passwords in a row
    locked_until: datetime | None = None


@dataclass(frozen=True)
class AgentSession:
    """A logged-in agent. Only a hash of the cookie's token is stored, so a copy of the
    database does not let anyone into the console."""

    token_hash: str
    agent_id: str
    csrf_token: str
    expires_at: datetime


# Words that take a resident waiting in the queue back to the bot.
BACK_TO_BOT_WORDS = frozenset({"bot", "cancel", "back to bot", "बॉट", "रद्द", "वापस"})


def wants_the_bot(text: str) -> bool:
    return text.strip().casefold().rstrip(".!") in BACK_TO_BOT_WORDS


@dataclass(frozen=True)
class OfficeHours:
    """When agents answer, in IST: `weekdays` as Monday=0 … Sunday=6."""

    weekdays: frozenset[int]
    opens: time
    closes: time

    @classmethod
    def parse(cls, days: str, opens: str, closes: str) -> OfficeHours:
        """From settings: days "0-5" or "0,1,2", times "09:00"."""
        weekdays: set[int] = set()
        for part in days.split(","):
            first, _, last = part.strip().partition("-")
            weekdays.update(range(int(first), int(last or first) + 1))
        if not weekdays or not weekdays <= set(range(7)):
            raise ValueError(f"office days must be within 0-6 (Monday=0): {days!r}")
        result = cls(frozenset(weekdays), time.fromisoformat(opens), time.fromisoformat(closes))
        if result.opens >= result.closes:
            raise ValueError("office hours must open before they close")
        return result

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(IST)
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes

    def next_opening(self, moment: datetime) -> datetime:
        """The next time the office opens at or after `moment` (`moment` itself when open)."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(IST)
        for days_ahead in range(8):
            day = local.date() + timedelta(days=days_ahead)
            opening = datetime.combine(day, self.opens, IST)
            if day.weekday() in self.weekdays and opening >= local:
                return opening
        raise AssertionError("unreachable: some weekday is open")  # pragma: no cover


def default_display_name(username: str) -> str:
    """The name residents see when none was given: the username's first word ("asha.verma" →
    "Asha", "agent1" → "Agent"), or "Help desk" when it has none."""
    word = re.match(r"[a-z]*", username)
    name = word.group(0) if word else ""
    return name.capitalize() if len(name) >= 2 else "Help desk"
