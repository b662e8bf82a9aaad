"""Power cuts: "bijli nahi hai" registers a no-supply complaint with the resident's
electricity company, returns the company's complaint number and any outage it knows of for
that connection; the complaint's status on request; the company's changes pushed.

The complaint number is the company's (they answer for the repair, and the resident can
quote it on their helpline); we keep a record of it only to know whom to tell when its
status changes. The consumer number in that record is personal data: encrypted at rest,
shown in "my data", erased with the resident.

Status changes are pushed on the conversation the complaint was raised from, as the help
desk's complaint updates are, and are not held for quiet hours: they answer something the
resident asked for and are waiting on ("supply restored" at 23:00 is what they want to
hear at 23:00). They stay pushes, not replies, so WhatsApp outside its 24-hour window
carries them in the approved notice template, and a resident who sent STOP gets none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from bot import messages as texts
from bot.errors import (
    BotError,
    SupplyComplaintNotFound,
    SupplyDeskUnavailable,
    UnknownBiller,
)
from bot.model.billing import Biller, SavedAccount, Utility
from bot.model.identifiers import mask
from bot.model.outages import (
    Outage,
    SupplyComplaint,
    SupplyTicket,
    same_ticket_number,
)
from bot.model.outbound import OutboundMessage
from bot.ports import (
    BillerDirectory,
    Clock,
    PowerSupplyDesk,
    SupplyUnitOfWork,
    SupplyUnitOfWorkFactory,
)
from bot.services.conversations import get_conversation, language_of, linked_resident

log = logging.getLogger(__name__)

# How often an open complaint is asked about: a crew's progress is measured in tens of
# minutes, and each ask is a call to the company's system.
POLL_EVERY = timedelta(minutes=5)
POLL_BATCH = 100
MAX_DESCRIPTION_CHARS = 200
# Complaints shown for "my complaint status" with no number: the most recent few.
SHOWN_COMPLAINTS = 3


@dataclass(frozen=True)
class OutageNews:
    """What the company knows of outages on one connection: on now (with the expected
    restoration), and announced ahead, each soonest first."""

    current: tuple[Outage, ...] = ()
    ahead: tuple[Outage, ...] = ()


@dataclass(frozen=True)
class SupplyReport:
    """A registered complaint: the company's ticket and what it knows of outages there."""

    biller: Biller
    ticket: SupplyTicket
    outages: OutageNews
    already_open: bool  # the company returned a ticket raised earlier


@dataclass(frozen=True)
class ComplaintStatus:
    biller: Biller
    complaint: SupplyComplaint


class SupplyService:
    def __init__(
        self,
        uow: SupplyUnitOfWorkFactory,
        billers: BillerDirectory,
        desk: PowerSupplyDesk,
        clock: Clock,
        poll_every: timedelta = POLL_EVERY,
    ) -> None:
        self._uow = uow
        self._billers = billers
        self._desk = desk
        self._clock = clock
        self._poll_every = poll_every

    def connection(self, biller_id: str, typed_number: str) -> tuple[Biller, str]:
        """An electricity company and the consumer number in its canonical form. Raises
        UnknownBiller (also for a company that is not an electricity one),
        InvalidConsumerNumber."""
        biller = self._billers.get(biller_id)
        if biller.utility is not Utility.ELECTRICITY:
            raise UnknownBiller(biller_id)
        return biller, biller.normalise_consumer_number(typed_number)

    async def accounts(self, conversation_id: str) -> list[SavedAccount]:
        """The resident's saved electricity accounts. Raises NotLinked."""
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            return await tx.accounts.list_for(resident.resident_id, Utility.ELECTRICITY)

    async def outages(self, biller_id: str, typed_number: str) -> OutageNews:
        """Outages the company knows of for that connection, now and ahead. Raises
        UnknownBiller, InvalidConsumerNumber, UnknownConnection, SupplyDeskUnavailable."""
        biller, number = self.connection(biller_id, typed_number)
        return self._news(await self._desk.outages_for(biller, number, self._clock.now()))

    def _news(self, outages: list[Outage]) -> OutageNews:
        now = self._clock.now()
        return OutageNews(
            current=tuple(o for o in outages if o.current(now)),
            ahead=tuple(o for o in outages if o.ahead(now)),
        )

    async def report(
        self, conversation_id: str, biller_id: str, typed_number: str, description: str = ""
    ) -> SupplyReport:
        """Register a no-supply complaint for that connection with the company, and keep our
        record of it for the status pushes. Nothing is stored when the company refuses or
        does not answer. Raises NotLinked, UnknownBiller, InvalidConsumerNumber,
        UnknownConnection, SupplyDeskUnavailable."""
        biller, number = self.connection(biller_id, typed_number)
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
        description = " ".join(description.split())[:MAX_DESCRIPTION_CHARS] or "No supply"
        ticket = await self._desk.report_no_supply(biller, number, resident.mobile, description)
        now = self._clock.now()
        try:
            outages = self._news(await self._desk.outages_for(biller, number, now))
        except SupplyDeskUnavailable:
            outages = OutageNews()  # the complaint is in; the outage news can wait
        async with self._uow() as tx:
            known = await tx.supply_complaints.get(biller.biller_id, ticket.ticket_number)
            if known is None:
                await tx.supply_complaints.add(
                    SupplyComplaint(
                        biller_id=biller.biller_id,
                        ticket_number=ticket.ticket_number,
                        resident_id=resident.resident_id,
                        conversation_id=conversation_id,
                        consumer_number=number,
                        status=ticket.status,
                        note=ticket.note,
                        registered_at=ticket.registered_at,
                        checked_at=now,
                    )
                )
                await tx.commit()
        return SupplyReport(biller, ticket, outages, already_open=known is not None)

    async def status(self, conversation_id: str, text: str = "") -> list[ComplaintStatus]:
        """The resident's complaint named in `text` ("status of JVVNL-NS-4821390"), or with
        no number their most recent ones, as the company has them now (our record is
        brought up to date, and the change not pushed again). A number not among their own
        is SupplyComplaintNotFound, as is having none. Raises NotLinked."""
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            mine = await tx.supply_complaints.for_resident(resident.resident_id)
        named = [c for c in mine if _names(text, c.ticket_number)]
        if named:
            mine = named
        elif ticket_number_in(text):
            raise SupplyComplaintNotFound(text)
        if not mine:
            raise SupplyComplaintNotFound(text)
        return [await self._refreshed(c) for c in mine[:SHOWN_COMPLAINTS]]

    async def poll(self, limit: int = POLL_BATCH) -> int:
        """Ask the companies about open complaints not asked about lately; push each status
        change to the resident once. Returns how many changes were pushed. A company that
        does not answer is asked again next time."""
        now = self._clock.now()
        async with self._uow() as tx:
            due = await tx.supply_complaints.open_checked_before(now - self._poll_every, limit)
        pushed = 0
        for complaint in due:
            try:
                biller = self._billers.get(complaint.biller_id)
                ticket = await self._desk.ticket(biller, complaint.ticket_number)
            except BotError as exc:
                log.warning("power complaint not checked: %s", type(exc).__name__)
                continue
            if await self._record(complaint, ticket, push=True):
                pushed += 1
        return pushed

    async def _refreshed(self, complaint: SupplyComplaint) -> ComplaintStatus:
        biller = self._billers.get(complaint.biller_id)
        if not complaint.status.final:
            try:
                ticket = await self._desk.ticket(biller, complaint.ticket_number)
            except SupplyDeskUnavailable:
                ticket = None  # the last status we know is still worth telling
            if ticket is not None:
                await self._record(complaint, ticket, push=False)
                complaint.status, complaint.note = ticket.status, ticket.note
        return ComplaintStatus(biller, complaint)

    async def _record(
        self, complaint: SupplyComplaint, ticket: SupplyTicket | None, push: bool
    ) -> bool:
        """Store what the company says now; with `push`, tell the resident of a new status
        in the same transaction (so it is told exactly once). True when told."""
        now = self._clock.now()
        previous = complaint.status
        changed = ticket is not None and ticket.status is not previous
        updated = replace(
            complaint,
            status=ticket.status if ticket else previous,
            note=ticket.note if ticket else complaint.note,
            checked_at=now,
        )
        async with self._uow() as tx:
            if not await tx.supply_complaints.update(updated, previous):
                return False  # another poller recorded (and told) this change
            told = False
            if changed and push:
                told = await self._tell(tx, updated)
            await tx.commit()
        return told

    async def _tell(self, uow: SupplyUnitOfWork, complaint: SupplyComplaint) -> bool:
        try:
            conversation = await get_conversation(uow, complaint.conversation_id)
        except BotError:
            return False  # the chat was erased since
        language = language_of(conversation, await uow.residents.get(complaint.resident_id))
        biller = self._billers.get(complaint.biller_id)
        note = texts.render("supply_note", language, note=complaint.note) if complaint.note else ""
        text = texts.render(
            "supply_status_changed",
            language,
            ticket=complaint.ticket_number,
            biller=biller.short_name,
            consumer=mask(complaint.consumer_number),
            status=texts.render(f"supply_status_{complaint.status.value}", language),
            note=note,
        )
        await uow.outbox.push(complaint.conversation_id, OutboundMessage(text), self._clock.now())
        return True


def ticket_number_in(text: str) -> str | None:
    """A word with digits in it that is not one of our own "RJC…" complaint ids: the resident
    named a complaint number, so "not yours" is the answer, not their latest one."""
    for word in text.split():
        cleaned = "".join(c for c in word if c.isascii() and (c.isalnum() or c in "-/"))
        digits = sum(c.isdigit() for c in cleaned)
        if digits >= 4 and not cleaned.upper().startswith("RJC"):
            return cleaned.upper()
    return None


def _names(text: str, ticket_number: str) -> bool:
    """`text` holds that ticket number, in whatever spacing or case the resident typed."""
    if same_ticket_number(text, ticket_number):
        return True
    words = text.split()
    # A number typed with spaces in it ("JVVNL NS 4821390") spans several words.
    for size in range(1, min(len(words), 4) + 1):
        for start in range(len(words) - size + 1):
            if same_ticket_number(" ".join(words[start : start + size]), ticket_number):
                return True
    return False
