"""The SQL unit of work: one connection, one transaction, every repository bound to it.

One class for the four kinds of unit of work the core names (bot/ports.py): each
repository is a small object over the connection, so having them all costs nothing."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import (
    AccountRepository,
    AgentRepository,
    BillCheckRepository,
    ChallengeRepository,
    ChannelStateRepository,
    ChannelUnitOfWork,
    ComplaintRepository,
    ConsentRepository,
    ConversationRepository,
    DeliveryRepository,
    EmailChallengeRepository,
    HandoffRepository,
    InboxRepository,
    OutageNoticeRepository,
    OutboxRepository,
    PaymentRepository,
    PrivacyRepository,
    ReminderRepository,
    ReminderUnitOfWork,
    ResidentRepository,
    SupplyComplaintRepository,
    SupplyUnitOfWork,
    TurnUnitOfWork,
    WebhookEventRepository,
)
from integrations.db.channel_repositories import SqlChannelStateRepository, SqlInboxRepository
from integrations.db.delivery_repository import SqlDeliveryRepository
from integrations.db.email_repositories import SqlEmailChallengeRepository
from integrations.db.outage_repositories import SqlOutageNoticeRepository
from integrations.db.outbox import SqlOutboxRepository
from integrations.db.payment_repositories import SqlPaymentRepository
from integrations.db.privacy_repositories import SqlPrivacyRepository
from integrations.db.reminder_repositories import (
    SqlBillCheckRepository,
    SqlConsentRepository,
    SqlReminderRepository,
)
from integrations.db.repositories import (
    SqlAccountRepository,
    SqlChallengeRepository,
    SqlConversationRepository,
    SqlResidentRepository,
    SqlWebhookEventRepository,
)
from integrations.db.supply_repositories import SqlSupplyComplaintRepository
from integrations.db.support_repositories import (
    SqlAgentRepository,
    SqlComplaintRepository,
    SqlHandoffRepository,
)


class SqlUnitOfWork:
    """`async with uow:` opens a connection; the first statement begins a transaction.

    `commit()` makes the work so far durable (a later statement begins a new transaction);
    leaving the block rolls back whatever was not committed, exception or not.
    Core statements on a connection, no ORM session: repositories map rows to the core's
    dataclasses themselves, so an identity map would only add state to keep in sync.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        # Not connected yet: `engine.connect()` only builds the proxy; __aenter__ starts it.
        self._connection: AsyncConnection = engine.connect()
        self.residents: ResidentRepository = SqlResidentRepository(self._connection)
        self.conversations: ConversationRepository = SqlConversationRepository(self._connection)
        self.challenges: ChallengeRepository = SqlChallengeRepository(self._connection)
        self.email_challenges: EmailChallengeRepository = SqlEmailChallengeRepository(
            self._connection
        )
        self.accounts: AccountRepository = SqlAccountRepository(self._connection)
        self.payments: PaymentRepository = SqlPaymentRepository(self._connection)
        self.webhook_events: WebhookEventRepository = SqlWebhookEventRepository(self._connection)
        self.outbox: OutboxRepository = SqlOutboxRepository(self._connection)
        self.inbox: InboxRepository = SqlInboxRepository(self._connection)
        self.channel_states: ChannelStateRepository = SqlChannelStateRepository(self._connection)
        self.deliveries: DeliveryRepository = SqlDeliveryRepository(self._connection)
        self.privacy: PrivacyRepository = SqlPrivacyRepository(self._connection)
        self.handoffs: HandoffRepository = SqlHandoffRepository(self._connection)
        self.agents: AgentRepository = SqlAgentRepository(self._connection)
        self.complaints: ComplaintRepository = SqlComplaintRepository(self._connection)
        self.reminders: ReminderRepository = SqlReminderRepository(self._connection)
        self.consents: ConsentRepository = SqlConsentRepository(self._connection)
        self.bill_checks: BillCheckRepository = SqlBillCheckRepository(self._connection)
        self.outages: OutageNoticeRepository = SqlOutageNoticeRepository(self._connection)
        self.supply_complaints: SupplyComplaintRepository = SqlSupplyComplaintRepository(
            self._connection
        )

    async def __aenter__(self) -> SqlUnitOfWork:
        await self._connection.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._connection.in_transaction():
                await self._connection.rollback()
        finally:
            await self._connection.close()

    async def commit(self) -> None:
        await self._connection.commit()


class SqlUnitOfWorkFactory:
    """Every kind of unit of work factory the services take: each call is a fresh, unstarted
    unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine)


if TYPE_CHECKING:
    # mypy checks here that the one SQL unit of work is each kind the core names.
    _turn: TurnUnitOfWork = SqlUnitOfWork(cast(AsyncEngine, None))
    _channel: ChannelUnitOfWork = SqlUnitOfWork(cast(AsyncEngine, None))
    _reminder: ReminderUnitOfWork = SqlUnitOfWork(cast(AsyncEngine, None))
    _supply: SupplyUnitOfWork = SqlUnitOfWork(cast(AsyncEngine, None))
