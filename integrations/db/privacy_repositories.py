"""SQL repository of the privacy feature: consents, access and erasure across the tables."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model.identifiers import mask
from bot.model.privacy import ERASED, Consent
from bot.model.residents import Conversation, Resident
from integrations.db.crypto import without_hashes
from integrations.db.privacy_tables import consents, history_erasures, identifier_mentions
from integrations.db.reminder_tables import (
    bill_checks,
    reminder_account_policies,
    reminder_consents,
    reminders,
)
from integrations.db.repositories import from_row, upsert_insert
from integrations.db.support_tables import complaints, handoff_transcript, handoffs
from integrations.db.tables import (
    channel_states,
    conversations,
    email_challenges,
    email_code_sends,
    inbox,
    link_challenges,
    otp_sends,
    outbox,
    outbox_deliveries,
    payments,
    residents,
    saved_accounts,
)


class SqlPrivacyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def consent(self, conversation_id: str) -> Consent | None:
        result = await self._connection.execute(
            select(consents).where(consents.c.conversation_id == conversation_id)
        )
        return from_row(Consent, result.mappings().first())

    async def save_consent(self, consent: Consent) -> None:
        values = asdict(consent)
        statement = upsert_insert(self._connection, consents).values(**values)
        del values["conversation_id"]
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=["conversation_id"], set_=values)
        )

    async def notice_queued(self, conversation_id: str, notice_key: str, sequence: int) -> None:
        await self._connection.execute(
            update(consents)
            .where(
                consents.c.conversation_id == conversation_id,
                consents.c.notice_key == notice_key,
                consents.c.notice_delivered_at.is_(None),
            )
            .values(notice_sequence=sequence)
        )

    async def notice_delivered(
        self, conversation_id: str, at: datetime, sent_sequence: int | None = None
    ) -> None:
        conditions = [
            consents.c.conversation_id == conversation_id,
            consents.c.notice_delivered_at.is_(None),
        ]
        if sent_sequence is not None:
            conditions.append(consents.c.notice_sequence <= sent_sequence)
        await self._connection.execute(
            update(consents).where(*conditions).values(notice_delivered_at=at)
        )

    async def conversations_of(self, resident_id: str) -> list[Conversation]:
        result = await self._connection.execute(
            select(conversations)
            .where(conversations.c.resident_id == resident_id)
            .order_by(conversations.c.created_at)
        )
        return [Conversation(**without_hashes(row)) for row in result.mappings()]

    async def count_payments(self, resident_id: str) -> int:
        result = await self._connection.execute(
            select(func.count()).select_from(payments).where(payments.c.resident_id == resident_id)
        )
        return int(result.scalar_one())

    async def erase_conversation(self, conversation: Conversation, *, keep_row: bool) -> None:
        cid = conversation.conversation_id
        sequences = select(outbox.c.sequence).where(outbox.c.conversation_id == cid)
        run = self._connection.execute
        await run(delete(outbox_deliveries).where(outbox_deliveries.c.sequence.in_(sequences)))
        await run(delete(outbox).where(outbox.c.conversation_id == cid))
        await run(
            delete(inbox).where(
                inbox.c.channel == conversation.channel,
                inbox.c.address_hash == conversation.address,
            )
        )
        await run(delete(channel_states).where(channel_states.c.conversation_id == cid))
        await run(delete(link_challenges).where(link_challenges.c.conversation_id == cid))
        await run(delete(consents).where(consents.c.conversation_id == cid))
        # What was said to an agent goes with the conversation.
        its_handoffs = select(handoffs.c.handoff_id).where(handoffs.c.conversation_id == cid)
        await run(
            delete(handoff_transcript).where(handoff_transcript.c.handoff_id.in_(its_handoffs))
        )
        await run(delete(handoffs).where(handoffs.c.conversation_id == cid))
        if keep_row:
            await run(
                update(conversations)
                .where(conversations.c.conversation_id == cid)
                .values(resident_id=None, language=None)
            )
        else:
            await run(delete(conversations).where(conversations.c.conversation_id == cid))

    async def erase_resident(self, resident: Resident) -> tuple[int, int]:
        run = self._connection.execute
        kept = await run(
            select(payments.c.payment_id, payments.c.consumer_number).where(
                payments.c.resident_id == resident.resident_id
            )
        )
        rows = kept.all()
        for payment_id, consumer_number in rows:
            await run(
                update(payments)
                .where(payments.c.payment_id == payment_id)
                .values(
                    resident_id=ERASED,
                    conversation_id=ERASED,
                    consumer_number=mask(consumer_number),
                    link_url=None,
                )
            )
        # A complaint about a payment is kept with the payment, de-identified, its words gone.
        await run(
            update(complaints)
            .where(complaints.c.resident_id == resident.resident_id)
            .values(resident_id=ERASED, conversation_id=ERASED, description=ERASED)
        )
        # Reminders hold amounts, due dates and masked numbers of the resident's bills.
        its_accounts = select(saved_accounts.c.account_id).where(
            saved_accounts.c.resident_id == resident.resident_id
        )
        await run(delete(bill_checks).where(bill_checks.c.account_id.in_(its_accounts)))
        policies = reminder_account_policies.c
        await run(delete(reminder_account_policies).where(policies.account_id.in_(its_accounts)))
        await run(delete(reminders).where(reminders.c.resident_id == resident.resident_id))
        await run(
            delete(reminder_consents).where(reminder_consents.c.resident_id == resident.resident_id)
        )
        accounts = await run(
            delete(saved_accounts).where(saved_accounts.c.resident_id == resident.resident_id)
        )
        await run(delete(otp_sends).where(otp_sends.c.sso_id_hash == resident.sso_id))
        # The email address goes with the resident's row; its codes and their log here.
        await run(
            delete(email_challenges).where(email_challenges.c.resident_id == resident.resident_id)
        )
        await run(
            delete(email_code_sends).where(email_code_sends.c.resident_id == resident.resident_id)
        )
        await run(delete(link_challenges).where(link_challenges.c.sso_id_hash == resident.sso_id))
        await run(delete(residents).where(residents.c.resident_id == resident.resident_id))
        return int(accounts.rowcount), len(rows)

    async def record_mentions(
        self, conversation_id: str, identifiers: Collection[str], at: datetime
    ) -> None:
        rows = [
            {"identifier_hash": value, "conversation_id": conversation_id, "mentioned_at": at}
            for value in sorted(identifiers)
        ]
        statement = upsert_insert(self._connection, identifier_mentions).on_conflict_do_nothing(
            index_elements=["identifier_hash", "conversation_id"]
        )
        await self._connection.execute(statement, rows)

    async def conversations_mentioning(self, identifiers: Collection[str]) -> list[str]:
        mentions = identifier_mentions.c
        result = await self._connection.execute(
            select(mentions.conversation_id)
            .where(mentions.identifier_hash.in_(sorted(identifiers)))
            .distinct()
            .order_by(mentions.conversation_id)
        )
        return list(result.scalars())

    async def forget_mentions(
        self, identifiers: Collection[str], conversation_ids: Collection[str]
    ) -> None:
        mentions = identifier_mentions.c
        await self._connection.execute(
            delete(identifier_mentions).where(mentions.identifier_hash.in_(sorted(identifiers)))
        )
        await self._connection.execute(
            delete(identifier_mentions).where(
                mentions.conversation_id.in_(sorted(conversation_ids))
            )
        )

    async def request_history_erasure(self, conversation_id: str, requested_at: datetime) -> None:
        statement = (
            upsert_insert(self._connection, history_erasures)
            .values(conversation_id=conversation_id, requested_at=requested_at)
            .on_conflict_do_nothing(index_elements=["conversation_id"])
        )
        await self._connection.execute(statement)

    async def pending_history_erasures(self) -> list[str]:
        result = await self._connection.execute(
            select(history_erasures.c.conversation_id).order_by(history_erasures.c.requested_at)
        )
        return list(result.scalars())

    async def history_erased(self, conversation_id: str) -> None:
        await self._connection.execute(
            delete(history_erasures).where(history_erasures.c.conversation_id == conversation_id)
        )
