"""Power complaints in the core, on fakes: a report registers the company's ticket and
tells its known outages; status by number (only the resident's own) or the latest; the poll
pushes each status change once, in the resident's language; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import (
    InvalidConsumerNumber,
    NotLinked,
    SupplyComplaintNotFound,
    SupplyDeskUnavailable,
    UnknownBiller,
    UnknownConnection,
)
from bot.model.outages import Outage, OutageKind, SupplyTicketStatus
from bot.ports import SsoHolder
from bot.services.supply import POLL_EVERY, SupplyService, ticket_number_in
from tests.fakes import (
    JVVNL,
    PHED,
    FakeBillerDirectory,
    FakeClock,
    FakePowerSupplyDesk,
    InMemoryUnitOfWorkFactory,
)
from tests.unit.conftest import LinkChat, OpenChat

K_NUMBER = "210145678912"


@pytest.fixture
def desk() -> FakePowerSupplyDesk:
    desk = FakePowerSupplyDesk()
    desk.add_connection(JVVNL, K_NUMBER)
    return desk


@pytest.fixture
def supply(
    uow: InMemoryUnitOfWorkFactory,
    billers: FakeBillerDirectory,
    desk: FakePowerSupplyDesk,
    clock: FakeClock,
) -> SupplyService:
    return SupplyService(uow, billers, desk, clock)


def fault(clock: FakeClock, hours_left: int = 3) -> Outage:
    now = clock.now()
    return Outage(
        outage_id="F1",
        biller_id=JVVNL.biller_id,
        kind=OutageKind.UNPLANNED,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=hours_left),
        reason="Transformer fault",
        area="Malviya Nagar",
    )


async def test_a_report_registers_the_company_ticket_and_tells_the_known_outage(
    supply: SupplyService,
    desk: FakePowerSupplyDesk,
    clock: FakeClock,
    linked_chat: LinkChat,
    ramesh: SsoHolder,
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    desk.add_outage(K_NUMBER, fault(clock))
    chat = await linked_chat(ramesh)

    report = await supply.report(chat, JVVNL.biller_id, "2101 4567 8912", "no power since morning")

    assert report.ticket.ticket_number.startswith("JVVNL-NS-")
    assert [o.reason for o in report.outages.current] == ["Transformer fault"]
    assert report.outages.ahead == ()
    assert not report.already_open
    # The company got the resident's registered mobile and the canonical number.
    assert desk.reports == [(JVVNL.biller_id, K_NUMBER, ramesh.mobile, "no power since morning")]
    (record,) = uow.db._tables.supply_complaints.values()
    assert (record.consumer_number, record.conversation_id) == (K_NUMBER, chat)


async def test_reporting_again_returns_the_open_ticket_and_keeps_one_record(
    supply: SupplyService, linked_chat: LinkChat, ramesh: SsoHolder, uow: InMemoryUnitOfWorkFactory
) -> None:
    chat = await linked_chat(ramesh)
    first = await supply.report(chat, JVVNL.biller_id, K_NUMBER)
    again = await supply.report(chat, JVVNL.biller_id, K_NUMBER)

    assert again.ticket.ticket_number == first.ticket.ticket_number and again.already_open
    assert len(uow.db._tables.supply_complaints) == 1


@pytest.mark.parametrize(
    ("biller_id", "number", "error"),
    [
        (JVVNL.biller_id, "12", InvalidConsumerNumber),
        (JVVNL.biller_id, "210100000000", UnknownConnection),
        (PHED.biller_id, "120034567890", UnknownBiller),  # water is no power company
        ("NOPE", K_NUMBER, UnknownBiller),
    ],
)
async def test_a_bad_connection_is_refused_and_nothing_is_stored(
    supply: SupplyService,
    desk: FakePowerSupplyDesk,
    linked_chat: LinkChat,
    ramesh: SsoHolder,
    uow: InMemoryUnitOfWorkFactory,
    biller_id: str,
    number: str,
    error: type[Exception],
) -> None:
    chat = await linked_chat(ramesh)
    with pytest.raises(error):
        await supply.report(chat, biller_id, number)
    assert uow.db._tables.supply_complaints == {} and desk.tickets == {}


async def test_a_company_that_does_not_answer_stores_nothing(
    supply: SupplyService,
    desk: FakePowerSupplyDesk,
    linked_chat: LinkChat,
    ramesh: SsoHolder,
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    chat = await linked_chat(ramesh)
    desk.unavailable = True
    with pytest.raises(SupplyDeskUnavailable):
        await supply.report(chat, JVVNL.biller_id, K_NUMBER)
    with pytest.raises(SupplyDeskUnavailable):
        await supply.outages(JVVNL.biller_id, K_NUMBER)
    assert uow.db._tables.supply_complaints == {}


async def test_reporting_needs_a_linked_chat(supply: SupplyService, open_chat: OpenChat) -> None:
    with pytest.raises(NotLinked):
        await supply.report(await open_chat(), JVVNL.biller_id, K_NUMBER)


async def test_status_by_number_is_the_residents_own_and_up_to_date(
    supply: SupplyService,
    desk: FakePowerSupplyDesk,
    linked_chat: LinkChat,
    ramesh: SsoHolder,
    sunita: SsoHolder,
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    chat = await linked_chat(ramesh)
    other = await linked_chat(sunita)
    ticket = (await supply.report(chat, JVVNL.biller_id, K_NUMBER)).ticket
    desk.move(ticket.ticket_number, SupplyTicketStatus.ASSIGNED, "Crew on the way")
    spaced = ticket.ticket_number.lower().replace("-", " ")

    (status,) = await supply.status(chat, f"status of {spaced} please")

    assert status.complaint.status is SupplyTicketStatus.ASSIGNED
    assert status.complaint.note == "Crew on the way"
    # Asking brought our record up to date without pushing the change as news.
    assert uow.db.pushed(chat) == []
    assert await supply.poll() == 0
    # Somebody else's number, or a made-up one, is "not found", never their ticket.
    with pytest.raises(SupplyComplaintNotFound):
        await supply.status(other, f"status of {ticket.ticket_number}")
    with pytest.raises(SupplyComplaintNotFound):
        await supply.status(chat, "status of JVVNL-NS-0000001")
    with pytest.raises(SupplyComplaintNotFound):
        await supply.status(other, "bijli ki complaint ka status")


async def test_status_without_a_number_is_the_latest_and_survives_a_company_outage(
    supply: SupplyService,
    desk: FakePowerSupplyDesk,
    linked_chat: LinkChat,
    ramesh: SsoHolder,
) -> None:
    chat = await linked_chat(ramesh)
    await supply.report(chat, JVVNL.biller_id, K_NUMBER)
    desk.unavailable = True

    (status,) = await supply.status(chat, "my power complaint status")

    assert status.complaint.status is SupplyTicketStatus.REGISTERED
    assert status.biller.short_name == "JVVNL"


async def test_the_poll_pushes_each_change_once_in_the_residents_language(
    supply: SupplyService,
    desk: FakePowerSupplyDesk,
    clock: FakeClock,
    linked_chat: LinkChat,
    sunita: SsoHolder,
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    desk.add_connection(JVVNL, "210100000042")
    chat = await linked_chat(sunita)
    ticket = (await supply.report(chat, JVVNL.biller_id, "210100000042")).ticket

    assert await supply.poll() == 0  # nothing changed, and not due yet anyway
    desk.move(ticket.ticket_number, SupplyTicketStatus.RESOLVED, "Fuse replaced")
    assert await supply.poll() == 0  # checked less than POLL_EVERY ago
    clock.advance(POLL_EVERY + timedelta(seconds=1))
    assert await supply.poll() == 1
    clock.advance(POLL_EVERY + timedelta(seconds=1))
    assert await supply.poll() == 0  # resolved: no longer asked about, never told twice

    (pushed,) = uow.db.pushed(chat)
    assert ticket.ticket_number in pushed.text
    assert "बिजली बहाल" in pushed.text and "Fuse replaced" in pushed.text
    assert "210100000042" not in pushed.text and "••••0042" in pushed.text


async def test_a_company_down_during_the_poll_is_asked_again_later(
    supply: SupplyService,
    desk: FakePowerSupplyDesk,
    clock: FakeClock,
    linked_chat: LinkChat,
    ramesh: SsoHolder,
    uow: InMemoryUnitOfWorkFactory,
) -> None:
    chat = await linked_chat(ramesh)
    ticket = (await supply.report(chat, JVVNL.biller_id, K_NUMBER)).ticket
    desk.move(ticket.ticket_number, SupplyTicketStatus.ASSIGNED)
    clock.advance(POLL_EVERY * 2)
    desk.unavailable = True
    assert await supply.poll() == 0
    desk.unavailable = False
    assert await supply.poll() == 1
    assert "line crew is working on it" in uow.db.pushed(chat)[0].text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status of JVVNL-NS-4821390", True),
        ("complaint 48213 ka kya hua", True),
        ("bijli ki complaint ka status", False),
        ("status of RJC0123456789", False),
    ],
)
def test_what_looks_like_a_complaint_number(text: str, expected: bool) -> None:
    assert (ticket_number_in(text) is not None) is expected
