"""Access and erasure on real databases: after "delete my data" no table holds the
resident's SSO ID, name, mobile or consumer numbers, decrypted or not; payments stay,
de-identified; the dialogue histories of all their chats are queued and erased."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import DialogueUnavailable
from bot.model.billing import SavedAccount, Utility
from bot.model.channels import InboundKind, InboundMessage
from bot.model.outbound import OutboundMessage
from bot.model.payments import Payment, PaymentStatus
from bot.model.privacy import ERASED, NOTICE_VERSION
from bot.model.residents import Channel, Conversation, Language, LinkChallenge, Resident
from bot.services.privacy import PrivacyService
from integrations.db.crypto import EncryptedText
from integrations.db.privacy_tables import identifier_mentions
from integrations.db.tables import metadata
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeClock

pytestmark = pytest.mark.asyncio

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SSO_ID, NAME, MOBILE = "gopal.choudhary", "Gopal Choudhary", "+919460100005"
NUMBERS = ("610523456789", "120045678901")
PLAINTEXTS = (SSO_ID, NAME, MOBILE, MOBILE[3:], *NUMBERS, "Gopal")


class FakeHistory:
    def __init__(self) -> None:
        self.erased: list[str] = []
        self.down = False

    async def erase_history(self, conversation_id: str) -> None:
        if self.down:
            raise DialogueUnavailable("down")
        self.erased.append(conversation_id)


async def fill(uow: SqlUnitOfWorkFactory) -> None:
    """A linked resident on the web chat and WhatsApp with everything a use would leave."""
    async with uow() as tx:
        await tx.residents.add(Resident("r1", SSO_ID, NAME, MOBILE, Language.HI, NOW))
        await tx.conversations.add(Conversation("web", Channel.WEBCHAT, "w-1", "r1", None, NOW))
        await tx.conversations.add(Conversation("wa", Channel.WHATSAPP, MOBILE, "r1", None, NOW))
        for i, number in enumerate(NUMBERS):
            await tx.accounts.add(SavedAccount(f"a{i}", "r1", Utility.WATER, "PHED", number))
        await tx.payments.add(
            Payment("p1", "r1", "wa", "PHED", NUMBERS[0], "B-1", 10000, 0, PaymentStatus.PAID, NOW)
        )
        await tx.challenges.save(LinkChallenge("wa", SSO_ID, "ab" * 32, NOW, NOW, 3))
        await tx.challenges.record_send(SSO_ID, NOW, "conv-1")
        await tx.outbox.push("wa", OutboundMessage(text=f"Hello {NAME}"), NOW)
        await tx.outbox.push("web", OutboundMessage(text=f"Bill for {NUMBERS[1]}"), NOW)
        await tx.inbox.record(
            InboundMessage(Channel.WHATSAPP, "SM1", MOBILE, InboundKind.TEXT, NUMBERS[0], NOW)
        )
        await tx.commit()


async def everything_stored(engine: AsyncEngine) -> str:
    """Every value of every product table, both as stored and decrypted."""
    values: list[str] = []
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            raw = [
                type_coerce(c, Text).label(f"raw_{c.name}")
                for c in table.columns
                if isinstance(c.type, EncryptedText)
            ]
            for row in (await connection.execute(select(*table.columns, *raw))).all():
                values.extend(str(value) for value in row)
    return "\n".join(values)


async def note_message(uow: SqlUnitOfWorkFactory, privacy: PrivacyService, chat: str) -> bool:
    """What a turn does for the notice, in a transaction of its own."""
    async with uow() as tx:
        show = await privacy.note_message(tx, chat)
        await tx.commit()
    return show


async def test_access_lists_the_data_masked(uow: SqlUnitOfWorkFactory) -> None:
    await fill(uow)
    privacy = PrivacyService(uow, FakeClock(NOW))
    assert await note_message(uow, privacy, "web") is True  # first contact: show the notice
    await privacy.notice_delivered("web")  # the web chat's answer carried it
    assert await note_message(uow, privacy, "web") is False  # wrote again: consent recorded

    held = await privacy.data_held("web")

    assert held.linked and held.masked_sso_id == "••••hary"
    assert held.masked_mobile == "••••0005" and held.masked_name == "Go*** Ch***"
    assert [a.masked_consumer_number for a in held.accounts] == ["••••8901", "••••6789"]
    assert {channel for channel, _ in held.chats} == {Channel.WEBCHAT, Channel.WHATSAPP}
    assert held.payments == 1
    assert held.consent is not None and held.consent.notice_version == NOTICE_VERSION
    assert held.consent.consented_at == NOW
    assert not any(p in repr(held) for p in PLAINTEXTS)


async def test_erasure_leaves_no_personal_data_in_any_table(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    await fill(uow)
    before = await everything_stored(engine)
    assert SSO_ID in before and NUMBERS[0] in before  # the scan sees decrypted values
    privacy = PrivacyService(uow, FakeClock(NOW + timedelta(days=1)))
    await note_message(uow, privacy, "web")

    erasure = await privacy.erase("web")

    assert erasure.resident_erased and erasure.conversations_erased == 2
    assert (erasure.accounts_erased, erasure.payments_deidentified) == (2, 1)
    stored = await everything_stored(engine)
    for plaintext in PLAINTEXTS:
        assert plaintext not in stored, plaintext
    async with uow() as tx:
        payment = await tx.payments.get("p1")
        chat = await tx.conversations.get("web")
        assert await tx.residents.by_sso_id(SSO_ID) is None
        assert await tx.conversations.find(Channel.WHATSAPP, MOBILE) is None
        assert await tx.challenges.sends_since(SSO_ID, NOW - timedelta(days=1)) == 0
    assert payment is not None and payment.status is PaymentStatus.PAID
    assert (payment.resident_id, payment.conversation_id) == (ERASED, ERASED)
    assert payment.consumer_number == "••••6789" and payment.amount_paise == 10000
    assert chat is not None and chat.resident_id is None  # kept to deliver the confirmation

    history = FakeHistory()
    history.down = True
    assert await privacy.erase_histories(history) == 0  # Rasa down: kept for later
    history.down = False
    assert await privacy.erase_histories(history) == 2
    assert sorted(history.erased) == ["wa", "web"]
    assert await privacy.erase_histories(history) == 0


async def test_erasing_an_unlinked_chat_forgets_its_messages(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.conversations.add(
            Conversation("tg", Channel.TELEGRAM, "777000111", None, None, NOW)
        )
        await tx.outbox.push("tg", OutboundMessage(text="hello"), NOW)
        await tx.commit()
    privacy = PrivacyService(uow, FakeClock(NOW))

    erasure = await privacy.erase("tg")

    assert not erasure.resident_erased and erasure.conversations_erased == 1
    async with uow() as tx:
        assert await tx.outbox.after("tg", 0) == []


async def test_erasure_reaches_other_chats_that_named_the_resident(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    """The mention index: keyed hashes only, found by the resident's identifiers in any of
    their forms, and gone with the erasure (the bystander's stay)."""
    await fill(uow)
    privacy = PrivacyService(uow, FakeClock(NOW))
    said = {
        "stranger": f"link {SSO_ID.upper()} for me",
        "payer": "pay 6105-2345-6789 now",
        "caller": "my number is 094601 00005",
        "bystander": "no power in 302001",
    }
    async with uow() as tx:
        for chat, text in said.items():
            await privacy.note_mentions(tx, chat, text)
        await tx.commit()
    async with engine.connect() as connection:
        rows = (await connection.execute(select(identifier_mentions))).all()
    assert len(rows) >= 4
    assert not any(p in str(rows) for p in (SSO_ID, "610523456789", "9460100005", "302001"))

    await privacy.erase("web")

    async with uow() as tx:
        pending = set(await tx.privacy.pending_history_erasures())
        assert await tx.privacy.conversations_mentioning({"302001"}) == ["bystander"]
        assert await tx.privacy.conversations_mentioning({SSO_ID, NUMBERS[0]}) == []
    assert pending == {"web", "wa", "stranger", "payer", "caller"}
