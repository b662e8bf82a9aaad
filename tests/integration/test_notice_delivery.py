"""The privacy notice is tied to the message whose turn shows it, and consent counts only
from a message that came after the notice reached the resident (bot/services/privacy.py).
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.model.privacy import Consent
from bot.services.privacy import PrivacyService
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import FakeClock

CHAT = "notice-chat"


class Chat:
    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        self.uow = uow
        self.clock = FakeClock()
        self.privacy = PrivacyService(uow, self.clock)
        self.start = self.clock.now()

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    async def message(self, key: str, received_s: float) -> bool:
        """A turn for message `key`; True when it shows the notice."""
        async with self.uow() as tx:
            shown = await self.privacy.note_message(tx, CHAT, key, self.at(received_s))
            await tx.commit()
        return shown

    async def replies_queued(self, key: str, last_sequence: int) -> None:
        async with self.uow() as tx:
            await tx.privacy.notice_queued(CHAT, key, last_sequence)
            await tx.commit()

    async def sent(self, sequence: int, at_s: float) -> None:
        async with self.uow() as tx:
            await tx.privacy.notice_delivered(CHAT, self.at(at_s), sent_sequence=sequence)
            await tx.commit()

    async def consent(self) -> Consent:
        async with self.uow() as tx:
            consent = await tx.privacy.consent(CHAT)
        assert consent is not None
        return consent


@pytest.fixture
def chat(uow: SqlUnitOfWorkFactory) -> Chat:
    return Chat(uow)


async def test_a_burst_sent_before_the_notice_arrived_is_no_consent(chat: Chat) -> None:
    assert await chat.message("wa:1", received_s=0) is True
    await chat.replies_queued("wa:1", last_sequence=10)
    assert await chat.message("wa:2", received_s=1) is False  # on its way: not twice

    await chat.sent(9, at_s=5)  # an earlier message went out, not the notice's turn yet
    assert (await chat.consent()).notice_delivered_at is None
    await chat.sent(10, at_s=6)
    assert (await chat.consent()).notice_delivered_at == chat.at(6)

    assert await chat.message("wa:3", received_s=2) is False  # written before it arrived
    assert (await chat.consent()).consented_at is None
    chat.clock.advance(timedelta(seconds=8))
    assert await chat.message("wa:4", received_s=7) is False  # written after: consent
    assert (await chat.consent()).consented_at == chat.clock.now()


async def test_the_notice_turn_run_again_shows_it_again_and_is_no_consent(chat: Chat) -> None:
    assert await chat.message("wa:1", received_s=0) is True
    # The gateway crashed before queueing that turn's replies; the same message comes again.
    assert await chat.message("wa:1", received_s=0) is True
    await chat.replies_queued("wa:1", last_sequence=3)
    await chat.sent(3, at_s=1)
    assert (await chat.consent()).consented_at is None


async def test_a_notice_whose_turn_failed_comes_with_the_next_turn(chat: Chat) -> None:
    assert await chat.message("webchat:a", received_s=0) is True  # ... then Rasa failed: 503
    assert await chat.message("webchat:b", received_s=10) is True
    await chat.privacy.notice_delivered(CHAT)  # the web chat's answer carried it this time
    assert (await chat.consent()).consented_at is None
    assert await chat.message("webchat:c", received_s=0) is False
    assert (await chat.consent()).consented_at is not None
