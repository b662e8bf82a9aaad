"""Power complaints through the composition root on a migrated, seeded SQLite database and
the sandbox electricity company: registered, the record's consumer number encrypted at
rest, the company's change pushed once, shown in "my data" and gone after "delete my data"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Text, select, type_coerce

from app.bootstrap import Container
from bot.errors import SupplyDeskUnavailable, UnknownConnection
from bot.model.outages import SupplyTicketStatus
from bot.model.residents import Channel, Conversation, Language, Resident
from integrations.db.supply_tables import supply_complaints
from tests.fakes import FakeClock
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    ContainerFactory,
    make_container,
    seeded_template,
)

JDVVNL, NUMBER = "JDVVNL000RAJ01", "410377777777"  # the seed's Mahesh: a fault now


async def linked(container: Container, language: Language = Language.EN) -> str:
    now = container.clock.now()
    async with container.uow() as tx:
        await tx.residents.add(
            Resident("r-mahesh", "mahesh.saini", "Mahesh Saini", "+919928100007", language, now)
        )
        await tx.conversations.add(
            Conversation("c-mahesh", Channel.WEBCHAT, "w-mahesh", "r-mahesh", language, now)
        )
        await tx.commit()
    return "c-mahesh"


async def test_a_complaint_is_registered_polled_pushed_once_and_erased(
    make_container: ContainerFactory,  # noqa: F811
) -> None:
    container = await make_container(supply_poll_after_s=60)
    clock = container.clock
    assert isinstance(clock, FakeClock)
    # The seed's fault is current when seeded (the template was, moments ago).
    clock.set(datetime.now(timezone.utc))
    chat = await linked(container)

    report = await container.supply.report(chat, JDVVNL, NUMBER, "no power since morning")

    assert report.ticket.ticket_number.startswith("JDVVNL-NS-")
    assert [o.reason for o in report.outages.current] == ["Cable fault"]
    async with container.engine.connect() as connection:
        raw = (
            await connection.execute(select(type_coerce(supply_complaints.c.consumer_number, Text)))
        ).scalar_one()
    assert NUMBER not in raw  # encrypted at rest, like saved accounts

    await container.sandbox.move_supply_ticket(
        report.ticket.ticket_number, SupplyTicketStatus.ASSIGNED, "Crew on site"
    )
    assert await container.supply.poll() == 0  # checked a moment ago
    clock.advance(timedelta(seconds=61))
    assert await container.supply.poll() == 1
    clock.advance(timedelta(seconds=61))
    assert await container.supply.poll() == 0  # the same status is not told twice
    async with container.uow() as tx:
        pushed = await tx.outbox.after(chat, 0)
    assert len(pushed) == 1
    text = pushed[0].message.text
    assert report.ticket.ticket_number in text and "Crew on site" in text
    assert "••••7777" in text and NUMBER not in text

    held = await container.privacy.data_held(chat)
    assert [(c.ticket_number, c.masked_consumer_number) for c in held.supply_complaints] == [
        (report.ticket.ticket_number, "••••7777")
    ]
    await container.privacy.erase(chat)
    async with container.engine.connect() as connection:
        left = (await connection.execute(select(supply_complaints))).all()
    assert left == []


async def test_unknown_connections_and_a_company_that_times_out_store_nothing(
    make_container: ContainerFactory,  # noqa: F811
) -> None:
    container = await make_container()
    chat = await linked(container)

    with pytest.raises(UnknownConnection):
        await container.supply.report(chat, JDVVNL, "410300000000")
    # The seed's Priya: her JVVNL connection's systems time out.
    with pytest.raises(SupplyDeskUnavailable):
        await container.supply.report(chat, "JVVNL0000RAJ01", "210199999999")
    async with container.engine.connect() as connection:
        assert (await connection.execute(select(supply_complaints))).all() == []
