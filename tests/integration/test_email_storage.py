"""Email addresses on real databases (SQLite and PostgreSQL): encrypted at rest, shown
masked in "my data", gone after "delete my data", and where reminders find them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.model.email import EmailChallenge
from bot.model.mentions import identifiers_in
from bot.model.reminders import ReminderConsent
from bot.model.residents import Language
from bot.services.privacy import PrivacyService
from integrations.db.tables import email_challenges, residents
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.test_privacy import NOW, everything_stored, fill

ADDRESS = "Gopal.Choudhary1985@gmail.com"
PENDING = "gopal.new@yahoo.in"


async def add_email(uow: SqlUnitOfWorkFactory) -> None:
    await fill(uow)
    async with uow() as tx:
        resident = await tx.residents.get("r1")
        assert resident is not None
        resident.email = ADDRESS
        await tx.residents.update(resident)
        await tx.email_challenges.save(
            EmailChallenge("wa", "r1", PENDING, "cd" * 32, NOW, NOW + timedelta(minutes=15), 5)
        )
        await tx.email_challenges.record_send("r1", PENDING, NOW)
        await tx.commit()


async def test_addresses_are_encrypted_at_rest_and_read_back(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    await add_email(uow)

    async with engine.connect() as connection:
        raw_email = (
            await connection.execute(select(type_coerce(residents.c.email, Text)))
        ).scalar_one()
        raw_pending = (
            await connection.execute(select(type_coerce(email_challenges.c.address, Text)))
        ).scalar_one()
    assert "gmail" not in raw_email.lower() and "yahoo" not in raw_pending.lower()
    async with uow() as tx:
        resident = await tx.residents.get("r1")
        challenge = await tx.email_challenges.get("wa")
        sends = await tx.email_challenges.sends_since(NOW, address=PENDING)
        by_resident = await tx.email_challenges.sends_since(NOW, resident_id="r1")
    assert resident is not None and resident.email == ADDRESS
    assert challenge is not None and challenge.address == PENDING
    assert (sends, by_resident) == (1, 1)


async def test_a_challenge_is_replaced_and_deleted(uow: SqlUnitOfWorkFactory) -> None:
    await add_email(uow)
    async with uow() as tx:
        await tx.email_challenges.save(
            EmailChallenge("wa", "r1", "third@x.in", "ef" * 32, NOW, NOW, 2)
        )
        await tx.commit()
    async with uow() as tx:
        replaced = await tx.email_challenges.get("wa")
        await tx.email_challenges.delete("wa")
        await tx.commit()
    async with uow() as tx:
        assert await tx.email_challenges.get("wa") is None
    assert replaced is not None and (replaced.address, replaced.attempts_left) == ("third@x.in", 2)


async def test_my_data_shows_the_address_masked(uow: SqlUnitOfWorkFactory) -> None:
    await add_email(uow)

    held = await PrivacyService(uow, FakeClock(NOW)).data_held("web")

    assert held.masked_email == "G•••@gmail.com"
    assert "Choudhary1985" not in repr(held)


async def test_delete_my_data_leaves_no_address_no_code_and_no_send_log(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    await add_email(uow)
    assert ADDRESS in await everything_stored(engine)
    async with uow() as tx:  # someone else's chat typed the address: its history goes too
        await tx.privacy.record_mentions("stranger", identifiers_in(f"mail {ADDRESS}"), NOW)
        await tx.commit()

    await PrivacyService(uow, FakeClock(NOW + timedelta(days=1))).erase("web")

    stored = await everything_stored(engine)
    assert ADDRESS not in stored and PENDING not in stored
    async with uow() as tx:
        assert await tx.email_challenges.get("wa") is None
        assert await tx.email_challenges.sends_since(NOW, resident_id="r1") == 0
        assert "stranger" in await tx.privacy.pending_history_erasures()


async def test_reminders_find_the_confirmed_address(uow: SqlUnitOfWorkFactory) -> None:
    await add_email(uow)
    async with uow() as tx:
        await tx.consents.save(ReminderConsent("r1", "wa", Language.HI, True, NOW, NOW))
        await tx.commit()
    async with uow() as tx:
        recipients = await tx.reminders.recipients(["r1"])
    assert recipients["r1"].email == ADDRESS
