"""Handoff, agents and complaints on real databases (SQLite and PostgreSQL): the bot falls
silent while an agent holds a conversation, agent replies and complaint updates reach the
resident's outbox, passwords are never stored, sessions expire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import (
    AgentExists,
    ComplaintNotFound,
    HandoffNotHeld,
    InvalidAgentCredentials,
    InvalidComplaint,
    NotLinked,
)
from bot.model.calendar import IST
from bot.model.complaints import ComplaintStatus, Disposition
from bot.model.handoff import Author, HandoffStatus, OfficeHours
from bot.model.payments import Payment, PaymentStatus
from bot.model.residents import Channel, Conversation, Language, Resident
from bot.services.agents import AgentService
from bot.services.handoff import HandoffService
from bot.services.support import ComplaintService
from bot.services.turns import TurnService
from integrations.db.support_tables import agents
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeClock, FakeDialogueEngine

HOURS = OfficeHours.parse("0-5", "09:00", "18:00")
HOURS_IST = IST
TUESDAY_10_IST = datetime(2026, 11, 24, 4, 30, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY_10_IST)


@pytest.fixture
def support(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


async def resident_chat(
    uow: SqlUnitOfWorkFactory, clock: FakeClock, name: str, language: Language
) -> Conversation:
    """A web chat linked to a resident, as a verified OTP leaves it."""
    resident = Resident(f"r-{name}", f"{name}.sso", name, "+919829100001", language, clock.now())
    conversation = Conversation(
        f"c-{name}", Channel.WEBCHAT, f"web-{name}", resident.resident_id, None, clock.now()
    )
    async with uow() as tx:
        await tx.residents.add(resident)
        await tx.conversations.add(conversation)
        await tx.commit()
    return conversation


async def paid(uow: SqlUnitOfWorkFactory, clock: FakeClock, resident_id: str) -> Payment:
    payment = Payment(
        payment_id=f"pay-{resident_id}",
        resident_id=resident_id,
        conversation_id=f"c-{resident_id[2:]}",
        biller_id="JVVNL0000RAJ01",
        consumer_number="210145678912",
        bill_number="B-1",
        amount_paise=123_400,
        fee_paise=0,
        status=PaymentStatus.PAID,
        created_at=clock.now(),
        paid_at=clock.now(),
        receipt_number="RJ0001",
    )
    async with uow() as tx:
        await tx.payments.add(payment)
        await tx.commit()
    return payment


async def pushed_texts(uow: SqlUnitOfWorkFactory, conversation_id: str) -> list[str]:
    async with uow() as tx:
        return [p.message.text for p in await tx.outbox.after(conversation_id, 0)]


# --- handoff ----------------------------------------------------------------------------
async def test_the_bot_is_silent_while_an_agent_holds_the_chat_and_answers_after_release(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await resident_chat(support, clock, "sunita", Language.HI)
    handoff = HandoffService(support, clock, HOURS)
    agent_service = AgentService(support, clock, timedelta(hours=8))
    asha = await agent_service.add("asha", "correct horse battery")
    dialogue = FakeDialogueEngine()
    turns = TurnService(support, clock, dialogue, handoff=handoff)

    requested = await handoff.request(chat.conversation_id, "talk to a person")
    assert requested.answer_by is None  # Tuesday 10:00 IST: open
    replies = await turns.handle(chat, "mera paisa kat gaya")
    # Still waiting: kept for the agent and acknowledged with the way back to the bot.
    [kept] = replies
    assert "हेल्प डेस्क" in kept.text and "बॉट" in kept.text and dialogue.turns == []
    await handoff.take(requested.handoff.handoff_id, asha)
    await handoff.reply(requested.handoff.handoff_id, asha, "Main dekh rahi hoon")
    replies = await turns.handle(chat, "theek hai")
    assert replies == [] and dialogue.turns == []

    [queued] = await handoff.queue()
    assert [(line.author, line.text) for line in queued.transcript] == [
        (Author.RESIDENT, "talk to a person"),
        (Author.RESIDENT, "mera paisa kat gaya"),
        (Author.AGENT, "Main dekh rahi hoon"),
        (Author.RESIDENT, "theek hai"),
    ]
    assert queued.address == "••••nita" and "web-sunita" not in queued.address

    await handoff.release(requested.handoff.handoff_id, asha)
    replies = await turns.handle(chat, "bill kitna hai")
    assert [turn[1] for turn in dialogue.turns] == ["bill kitna hai"]
    assert replies  # the bot answers again
    texts = await pushed_texts(support, chat.conversation_id)
    assert texts == [
        "हेल्प डेस्क से Asha बातचीत में जुड़ गए हैं।",
        "Asha (हेल्प डेस्क): Main dekh rahi hoon",
        "हेल्प डेस्क ने बातचीत बंद कर दी है। अब आप फिर से बिल सहायक से बात कर रहे हैं।",
    ]
    assert await handoff.queue() == []


async def test_outside_office_hours_the_resident_learns_when_someone_answers(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await resident_chat(support, clock, "irfan", Language.EN)
    clock.set(datetime(2026, 11, 28, 19, 0, tzinfo=HOURS_IST))  # Saturday 19:00 IST

    requested = await HandoffService(support, clock, HOURS).request(chat.conversation_id)

    assert requested.answer_by == datetime(2026, 11, 30, 9, 0, tzinfo=HOURS_IST)  # Monday


async def test_asking_twice_keeps_one_place_in_the_queue(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await resident_chat(support, clock, "gopal", Language.HI)
    handoff = HandoffService(support, clock, HOURS)

    first = await handoff.request(chat.conversation_id)
    second = await handoff.request(chat.conversation_id)

    assert first.handoff.handoff_id == second.handoff.handoff_id
    assert len(await handoff.queue()) == 1


async def test_a_waiting_resident_can_go_back_to_the_bot(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await resident_chat(support, clock, "anita", Language.EN)
    handoff = HandoffService(support, clock, HOURS)
    dialogue = FakeDialogueEngine()
    turns = TurnService(support, clock, dialogue, handoff=handoff)
    await handoff.request(chat.conversation_id)

    replies = await turns.handle(chat, "cancel")

    assert [r.text for r in replies] == ["OK, you are back with the bill assistant."]
    assert await handoff.queue() == [] and dialogue.turns == []
    await turns.handle(chat, "hi")
    assert dialogue.turns and dialogue.turns[0][1] == "hi"


async def test_of_two_agents_taking_one_chat_one_holds_it_and_the_other_cannot_reply(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await resident_chat(support, clock, "priya", Language.EN)
    handoff = HandoffService(support, clock, HOURS)
    agent_service = AgentService(support, clock, timedelta(hours=8))
    asha = await agent_service.add("asha", "correct horse battery")
    ravi = await agent_service.add("ravi", "another long password")
    requested = await handoff.request(chat.conversation_id)

    await handoff.take(requested.handoff.handoff_id, asha)
    with pytest.raises(HandoffNotHeld):
        await handoff.take(requested.handoff.handoff_id, ravi)
    with pytest.raises(HandoffNotHeld):
        await handoff.reply(requested.handoff.handoff_id, ravi, "hello")
    with pytest.raises(HandoffNotHeld):
        await handoff.release(requested.handoff.handoff_id, ravi)

    [queued] = await handoff.queue()
    assert queued.handoff.status is HandoffStatus.HELD and queued.handoff.agent_id == asha.agent_id
    assert await pushed_texts(support, chat.conversation_id) == [
        "Asha from the help desk has joined the chat."
    ]


# --- agents -----------------------------------------------------------------------------
async def test_agent_passwords_are_salted_hashes_and_sessions_expire(
    support: SqlUnitOfWorkFactory, engine: AsyncEngine, clock: FakeClock
) -> None:
    service = AgentService(support, clock, timedelta(hours=8))
    await service.add("Asha", "correct horse battery")
    await service.add("ravi", "correct horse battery")
    async with engine.connect() as connection:
        rows = (await connection.execute(select(agents))).mappings().all()
    assert {row["username"] for row in rows} == {"asha", "ravi"}
    assert all("correct horse" not in str(dict(row)) for row in rows)
    assert rows[0]["password_hash"] != rows[1]["password_hash"]  # per-agent salt

    with pytest.raises(InvalidAgentCredentials):
        await service.login("asha", "wrong horse battery")
    with pytest.raises(InvalidAgentCredentials):
        await service.login("nobody", "correct horse battery")
    logged_in = await service.login("ASHA", "correct horse battery")
    found = await service.session(logged_in.token)
    assert found is not None and found[0].username == "asha"
    assert await service.session("forged-token") is None

    clock.advance(timedelta(hours=8))
    assert await service.session(logged_in.token) is None


async def test_logout_ends_the_session_and_bad_accounts_are_refused(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    service = AgentService(support, clock, timedelta(hours=8))
    await service.add("asha", "correct horse battery")
    with pytest.raises(AgentExists):
        await service.add("asha", "yet another password")
    with pytest.raises(InvalidAgentCredentials):
        await service.add("bo", "correct horse battery")  # too short a name
    with pytest.raises(InvalidAgentCredentials):
        await service.add("meena", "short")

    logged_in = await service.login("asha", "correct horse battery")
    await service.logout(logged_in.token)
    assert await service.session(logged_in.token) is None


# --- complaints -------------------------------------------------------------------------
async def test_complaint_lifecycle_against_a_payment(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await resident_chat(support, clock, "ramesh", Language.EN)
    payment = await paid(support, clock, "r-ramesh")
    complaints = ComplaintService(support, clock)

    assert [
        p.payment_id for p in await complaints.payments_to_complain_about(chat.conversation_id)
    ] == [payment.payment_id]
    complaint = await complaints.raise_complaint(
        chat.conversation_id,
        Disposition.NOT_CREDITED,
        "  Money   deducted but bill still shows unpaid ",
        payment.payment_id,
    )
    assert complaint.complaint_id.startswith("RJC") and complaint.status is ComplaintStatus.OPEN
    assert complaint.description == "Money deducted but bill still shows unpaid"
    tracked = await complaints.status(chat.conversation_id, complaint.complaint_id.lower())
    assert tracked.payment_id == payment.payment_id

    await complaints.change_status(complaint.complaint_id, ComplaintStatus.IN_PROGRESS)
    await complaints.change_status(complaint.complaint_id, ComplaintStatus.IN_PROGRESS)  # no-op
    await complaints.change_status(complaint.complaint_id, ComplaintStatus.RESOLVED)

    assert (await complaints.status(chat.conversation_id, complaint.complaint_id)).status is (
        ComplaintStatus.RESOLVED
    )
    assert await pushed_texts(support, chat.conversation_id) == [
        f"Update on your complaint {complaint.complaint_id}: it is now being worked on.",
        f"Update on your complaint {complaint.complaint_id}: it is now resolved.",
    ]


async def test_complaints_refuse_bad_input_and_stay_private(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    ramesh = await resident_chat(support, clock, "ramesh", Language.EN)
    sunita = await resident_chat(support, clock, "sunita", Language.HI)
    ramesh_payment = await paid(support, clock, "r-ramesh")
    complaints = ComplaintService(support, clock)

    with pytest.raises(InvalidComplaint):  # somebody else's payment
        await complaints.raise_complaint(
            sunita.conversation_id,
            Disposition.DEDUCTED_MULTIPLE,
            "twice",
            ramesh_payment.payment_id,
        )
    with pytest.raises(InvalidComplaint):  # a transaction complaint needs a payment
        await complaints.raise_complaint(sunita.conversation_id, Disposition.NOT_UPDATED, "x")
    with pytest.raises(InvalidComplaint):
        await complaints.raise_complaint(sunita.conversation_id, Disposition.SERVICE, "   ")
    service = await complaints.raise_complaint(
        sunita.conversation_id, Disposition.SERVICE, "बॉट धीमा है", ramesh_payment.payment_id
    )
    assert service.payment_id is None
    with pytest.raises(ComplaintNotFound):
        await complaints.status(ramesh.conversation_id, service.complaint_id)
    await complaints.change_status(service.complaint_id, ComplaintStatus.REJECTED)
    assert await pushed_texts(support, sunita.conversation_id) == [
        f"आपकी शिकायत {service.complaint_id} पर अपडेट: अब यह बिना बदलाव के बंद है।"
    ]
    assert await pushed_texts(support, ramesh.conversation_id) == []

    unlinked = Conversation("c-anon", Channel.WEBCHAT, "web-anon", None, None, clock.now())
    async with support() as tx:
        await tx.conversations.add(unlinked)
        await tx.commit()
    with pytest.raises(NotLinked):
        await complaints.raise_complaint("c-anon", Disposition.SERVICE, "hello")


async def test_an_agent_account_rests_after_five_wrong_passwords_in_a_row(
    support: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    service = AgentService(support, clock, timedelta(hours=8))
    await service.add("asha", "correct horse battery")
    for _ in range(4):
        with pytest.raises(InvalidAgentCredentials):
            await service.login("asha", "guess")
    await service.login("asha", "correct horse battery")  # success resets the count
    for _ in range(5):
        with pytest.raises(InvalidAgentCredentials):
            await service.login("asha", "guess")

    with pytest.raises(InvalidAgentCredentials):  # even the right password, for a while
        await service.login("asha", "correct horse battery")
    clock.advance(timedelta(minutes=15))
    assert (await service.login("asha", "correct horse battery")).agent.username == "asha"
