"""The privacy notice at first contact, consent by continuing, and the dialogue history of
an erased resident dropped right after the turn that erased them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.bootstrap import Container
from app.gateway.app import create_app
from bot.model.outbound import Button, OutboundMessage
from bot.model.privacy import NOTICE_VERSION
from bot.model.residents import Channel, Language
from bot.services.privacy import PrivacyService
from bot.services.turns import TurnService
from tests.gateway.conftest import BASE_URL, ContainerFactory, link_webchat, web_sender

pytestmark = pytest.mark.asyncio


class ErasingDialogue:
    """Rasa and the action server in one: "yes" runs the erasure, as action_delete_my_data does;
    a history erased before the turn ended would be saved back by Rasa, so it records when."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.in_turn = False
        self.erased: list[tuple[str, bool]] = []  # (conversation id, during a turn?)

    async def question_open(self, conversation_id: str) -> bool:
        return False

    async def converse(
        self,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel = Channel.WEBCHAT,
        message_key: str = "",
    ) -> list[OutboundMessage]:
        self.in_turn = True
        try:
            if text == "yes":
                await self.container.privacy.erase(conversation_id)
                return [OutboundMessage(text="Done: your data is erased")]
            return [OutboundMessage(text=f"echo {text}")]
        finally:
            self.in_turn = False

    async def erase_history(self, conversation_id: str) -> None:
        self.erased.append((conversation_id, self.in_turn))


@pytest.fixture
async def wired(make_container: ContainerFactory) -> tuple[Container, ErasingDialogue]:
    container = await make_container()
    dialogue = ErasingDialogue(container)
    container.turns = TurnService(
        container.uow, container.clock, dialogue, container.privacy, dialogue
    )
    return container, dialogue


async def say(container: Container, sender: str, text: str) -> list[str]:
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post("/webchat/messages", json={"sender": sender, "text": text})
    return [m["text"] for m in response.json()["messages"]]


async def test_the_notice_comes_once_and_consent_is_recorded_when_the_resident_goes_on(
    wired: tuple[Container, ErasingDialogue],
) -> None:
    container, _ = wired
    first = await say(container, web_sender("s-1"), "namaste")
    assert first[0].startswith("Privacy:") and first[1] == "echo namaste"
    conversation = await container.conversations.open(Channel.WEBCHAT, web_sender("s-1"))
    async with container.uow() as tx:
        shown = await tx.privacy.consent(conversation.conversation_id)
    assert shown is not None and shown.notice_version == NOTICE_VERSION
    assert shown.consented_at is None

    assert await say(container, web_sender("s-1"), "bill") == ["echo bill"]
    async with container.uow() as tx:
        agreed = await tx.privacy.consent(conversation.conversation_id)
    assert agreed is not None and agreed.consented_at == container.clock.now()


async def test_the_erased_residents_histories_go_after_the_turn(
    wired: tuple[Container, ErasingDialogue],
) -> None:
    container, dialogue = wired
    await say(container, web_sender("s-2"), "hello")
    cid = await link_webchat(container, web_sender("s-2"), "ramesh.kumar")

    replies = await say(container, web_sender("s-2"), "yes")

    assert replies == ["Done: your data is erased"]
    assert dialogue.erased == [(cid, False)]
    assert await container.conversations.resident(cid) is None
    # a fresh start: the notice is shown again
    assert (await say(container, web_sender("s-2"), "hi"))[0].startswith("Privacy")


async def test_an_erasure_reaches_every_chat_that_named_the_residents_identifiers(
    wired: tuple[Container, ErasingDialogue],
) -> None:
    """Issue 13: another chat that typed the SSO ID kept it in its history after erasure."""
    from bot.model.billing import SavedAccount, Utility

    container, dialogue = wired
    await say(container, "s-4", "hello")
    cid = await link_webchat(container, "s-4", "ramesh.kumar")
    async with container.uow() as tx:
        account = SavedAccount(
            "acc-1", "resident-ramesh.kumar", Utility.ELECTRICITY, "JVVNL0000RAJ01", "210145678912"
        )
        await tx.accounts.add(account)
        await tx.commit()
    await say(container, "stranger", "link my sso id Ramesh.Kumar please")
    await say(container, "payer", "pay the bill of 2101 4567 8912")
    await say(container, "caller", "call me on 98291 00001")
    await say(container, "bystander", "my sso id is sita.devi and pin 302001")
    stranger, payer, caller, bystander = [
        (await container.conversations.open(Channel.WEBCHAT, s)).conversation_id
        for s in ("stranger", "payer", "caller", "bystander")
    ]

    await say(container, "s-4", "yes")

    erased = {conversation for conversation, _ in dialogue.erased}
    assert erased == {cid, stranger, payer, caller}
    assert bystander not in erased
    async with container.uow() as tx:
        # The hashes go with them; the bystander's stay.
        assert await tx.privacy.conversations_mentioning({"ramesh.kumar", "210145678912"}) == []
        assert await tx.privacy.conversations_mentioning({"sita.devi"}) == [bystander]


class CountedTransactions:
    """The container's unit of work factory, counting the transactions a turn opens."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        return self.inner()


class ButtonsDialogue(ErasingDialogue):
    """Offers two buttons on every turn and records the texts it was given."""

    def __init__(self, container: Container) -> None:
        super().__init__(container)
        self.texts: list[str] = []

    async def converse(
        self,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel = Channel.WEBCHAT,
        message_key: str = "",
    ) -> list[OutboundMessage]:
        self.texts.append(text)
        buttons = (Button("Pay", "/pay_bill"), Button("Menu", "/menu"))
        return [OutboundMessage(text=f"echo {text}", buttons=buttons)]


async def test_after_the_dialogue_one_transaction_does_the_buttons_notice_and_erasures(
    make_container: ContainerFactory,
) -> None:
    """A web chat turn: one transaction before the dialogue, one after it (the buttons for a
    typed number, the notice delivered, the histories waiting for erasure read)."""
    container = await make_container()
    dialogue = ButtonsDialogue(container)
    counted = CountedTransactions(container.uow)
    privacy = PrivacyService(counted, container.clock)
    container.turns = TurnService(counted, container.clock, dialogue, privacy, dialogue)
    async with container.uow() as tx:  # an erasure asked for elsewhere, its history left
        await tx.privacy.request_history_erasure("erased-elsewhere", container.clock.now())
        await tx.commit()

    first = await say(container, web_sender("s-5"), "namaste")

    assert first[0].startswith("Privacy:") and first[1] == "echo namaste"
    # And one to mark the erased history done.
    assert counted.opened == 3
    assert dialogue.erased == [("erased-elsewhere", False)]
    conversation = await container.conversations.open(Channel.WEBCHAT, web_sender("s-5"))
    async with container.uow() as tx:
        consent = await tx.privacy.consent(conversation.conversation_id)
        assert await tx.privacy.pending_history_erasures() == []
    assert consent is not None and consent.notice_delivered_at == container.clock.now()

    await say(container, web_sender("s-5"), "1")  # the first button of the last answer

    assert dialogue.texts == ["namaste", "/pay_bill"]
