"""Power supply: outages an electricity company knows of, and complaints of no supply.

An outage is either planned (a shutdown for maintenance, announced ahead to the
connections on the area or feeder it switches off) or unplanned (a fault the company is
working on). A supply complaint is the company's own ticket: its number is the company's,
not ours, so a resident can quote it on the company's helpline too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

MAX_REASON_CHARS = 200


class OutageKind(str, Enum):
    PLANNED = "planned"  # a shutdown announced ahead (maintenance, line work)
    UNPLANNED = "unplanned"  # a fault being repaired


@dataclass(frozen=True)
class Outage:
    """An outage affecting a connection: when it started (or starts) and when supply is
    expected back. `area` is the company's name for the area or feeder, for the resident."""

    outage_id: str
    biller_id: str
    kind: OutageKind
    starts_at: datetime
    ends_at: datetime  # expected restoration
    reason: str
    area: str = ""

    def current(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def ahead(self, now: datetime) -> bool:
        return now < self.starts_at


@dataclass(frozen=True)
class PlannedOutage:
    """A planned shutdown as the company announces it: the outage and every connection
    (consumer number, canonical form) it switches off."""

    outage: Outage
    consumer_numbers: tuple[str, ...] = field(default_factory=tuple)


class SupplyTicketStatus(str, Enum):
    REGISTERED = "registered"  # the company has the complaint
    ASSIGNED = "assigned"  # a line crew is on it
    RESOLVED = "resolved"  # supply restored
    CLOSED = "closed"  # closed without a repair (e.g. a planned outage, or a duplicate)

    @property
    def final(self) -> bool:
        return self in (SupplyTicketStatus.RESOLVED, SupplyTicketStatus.CLOSED)


@dataclass(frozen=True)
class SupplyTicket:
    """A no-supply complaint as the company's complaint system holds it."""

    ticket_number: str  # the company's complaint number
    biller_id: str
    consumer_number: str
    status: SupplyTicketStatus
    registered_at: datetime
    updated_at: datetime
    note: str = ""  # the company's last remark, e.g. "crew on site"


@dataclass
class SupplyComplaint:
    """Our record of a no-supply ticket a resident registered through us: whom to tell
    when the company moves it on, and what they were last told."""

    biller_id: str
    ticket_number: str  # the company's
    resident_id: str
    conversation_id: str  # where it was raised: status changes are pushed there
    consumer_number: str
    status: SupplyTicketStatus  # as last told to the resident
    note: str
    registered_at: datetime
    checked_at: datetime  # when we last asked the company


def same_ticket_number(typed: str, ticket_number: str) -> bool:
    """ "jvvnl ns 4821390" is "JVVNL-NS-4821390": companies' formats differ, so only letters
    and digits are compared, case-insensitively."""
    return _letters_digits(typed) == _letters_digits(ticket_number) != ""


def _letters_digits(text: str) -> str:
    return "".join(c for c in text.upper() if c.isascii() and c.isalnum())
