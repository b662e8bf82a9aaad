"""The core's use cases wired to the fakes of `tests/fakes.py`, one fresh world per test."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Conversation, Language
from bot.ports import SsoHolder
from bot.services.billing import BillingService
from bot.services.conversations import ConversationService
from bot.services.linking import LinkingService
from bot.services.payments import PaymentService
from bot.services.receipts import ReceiptLinks
from bot.services.turns import TurnService
from tests.fakes import (
    FakeBillerDirectory,
    FakeClock,
    FakeDialogueEngine,
    FakePaymentGateway,
    FakeSmsSender,
    FakeSsoRegistry,
    InMemoryDatabase,
    InMemoryUnitOfWorkFactory,
)

OTP_KEY = b"unit-test-otp-key"
RECEIPT_KEY = b"unit-test-receipt-key"
PUBLIC_BASE_URL = "https://bills.example.in"


@pytest.fixture
def ramesh() -> SsoHolder:
    """An SSO holder who reads English."""
    return SsoHolder("ramesh.kumar", "Ramesh Kumar", "+919812345678", Language.EN)


@pytest.fixture
def sunita() -> SsoHolder:
    """An SSO holder registered in Hindi."""
    return SsoHolder("sunita1985", "Sunita Sharma", "+919829012345", Language.HI)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def uow(db: InMemoryDatabase) -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory(db)


@pytest.fixture
def sso(ramesh: SsoHolder, sunita: SsoHolder) -> FakeSsoRegistry:
    return FakeSsoRegistry([ramesh, sunita])


@pytest.fixture
def billers() -> FakeBillerDirectory:
    return FakeBillerDirectory()


@pytest.fixture
def gateway() -> FakePaymentGateway:
    return FakePaymentGateway()


@pytest.fixture
def sms() -> FakeSmsSender:
    return FakeSmsSender()


@pytest.fixture
def dialogue() -> FakeDialogueEngine:
    return FakeDialogueEngine()


@pytest.fixture
def receipt_links(clock: FakeClock) -> ReceiptLinks:
    return ReceiptLinks(PUBLIC_BASE_URL, RECEIPT_KEY, clock)


@pytest.fixture
def conversations(uow: InMemoryUnitOfWorkFactory, clock: FakeClock) -> ConversationService:
    return ConversationService(uow, clock)


@pytest.fixture
def linking(
    uow: InMemoryUnitOfWorkFactory, sso: FakeSsoRegistry, sms: FakeSmsSender, clock: FakeClock
) -> LinkingService:
    return LinkingService(uow, sso, sms, clock, otp_key=OTP_KEY)


@pytest.fixture
def billing(uow: InMemoryUnitOfWorkFactory, billers: FakeBillerDirectory) -> BillingService:
    return BillingService(uow, billers)


@pytest.fixture
def payments(
    uow: InMemoryUnitOfWorkFactory,
    billers: FakeBillerDirectory,
    gateway: FakePaymentGateway,
    clock: FakeClock,
    receipt_links: ReceiptLinks,
) -> PaymentService:
    return PaymentService(
        uow,
        billers,
        gateway,
        clock,
        receipt_links,
        callback_url=f"{PUBLIC_BASE_URL}/payments/return",
    )


@pytest.fixture
def turns(
    uow: InMemoryUnitOfWorkFactory, clock: FakeClock, dialogue: FakeDialogueEngine
) -> TurnService:
    return TurnService(uow, clock, dialogue)


OpenChat = Callable[..., Awaitable[str]]
Say = Callable[..., Awaitable[tuple[Conversation, list[OutboundMessage]]]]


@pytest.fixture
def say(conversations: ConversationService) -> Say:
    """`await say(turns, channel, address, text, **options)`: one resident message as the
    channels hand it over, the conversation opened (created on first contact) and then the
    turn taken in it; the conversation and the replies."""

    async def say(
        turns: TurnService, channel: Channel, address: str, text: str, **options: Any
    ) -> tuple[Conversation, list[OutboundMessage]]:
        conversation = await conversations.open(channel, address)
        return conversation, await turns.handle(conversation, text, **options)

    return say


@pytest.fixture
def open_chat(conversations: ConversationService) -> OpenChat:
    """Open a new chat (a new WhatsApp number unless told otherwise); its conversation id."""
    numbers = itertools.count(1)

    async def open_chat(channel: Channel = Channel.WHATSAPP, address: str | None = None) -> str:
        address = address or f"+9170000{next(numbers):05d}"
        conversation = await conversations.open(channel, address)
        return conversation.conversation_id

    return open_chat


LinkChat = Callable[..., Awaitable[str]]


@pytest.fixture
def linked_chat(open_chat: OpenChat, linking: LinkingService, sms: FakeSmsSender) -> LinkChat:
    """Open a chat and link it to `holder` with the code the holder's phone received."""

    async def linked_chat(holder: SsoHolder, channel: Channel = Channel.WHATSAPP) -> str:
        conversation_id = await open_chat(channel)
        await linking.start(conversation_id, holder.sso_id)
        await linking.verify(conversation_id, sms.codes_sent_to(holder.mobile)[-1])
        return conversation_id

    return linked_chat
