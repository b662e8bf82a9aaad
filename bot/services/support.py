"""Complaints: raised by a linked resident against one of their payments (with a BBPS
disposition) or about the service, tracked by id, and moved along by help-desk agents,
each status change pushed to the resident's own channel."""

from __future__ import annotations

from bot import messages as texts
from bot.errors import ComplaintNotFound, InvalidComplaint
from bot.model.complaints import (
    MAX_DESCRIPTION_CHARS,
    Complaint,
    ComplaintKind,
    ComplaintStatus,
    Disposition,
    new_complaint_id,
)
from bot.model.outbound import OutboundMessage
from bot.model.payments import Payment
from bot.ports import Clock, TurnUnitOfWorkFactory
from bot.services.conversations import get_conversation, language_of, linked_resident

RECENT_PAYMENTS = 3


class ComplaintService:
    def __init__(self, uow: TurnUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def payments_to_complain_about(self, conversation_id: str) -> list[Payment]:
        """The resident's most recent payments, newest first (offered as buttons).
        Raises NotLinked."""
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            return await tx.payments.recent_for(resident.resident_id, RECENT_PAYMENTS)

    async def raise_complaint(
        self,
        conversation_id: str,
        disposition: Disposition,
        description: str,
        payment_id: str | None = None,
    ) -> Complaint:
        """Record a complaint and return it with its id. A transaction complaint needs one of
        the resident's own payments. Raises NotLinked or InvalidComplaint."""
        description = " ".join(description.split())[:MAX_DESCRIPTION_CHARS]
        if not description:
            raise InvalidComplaint("empty description")
        now = self._clock.now()
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            if disposition.kind is ComplaintKind.TRANSACTION:
                payment = await tx.payments.get(payment_id) if payment_id else None
                if payment is None or payment.resident_id != resident.resident_id:
                    raise InvalidComplaint("no such payment of this resident")
            else:
                payment_id = None
            complaint_id = new_complaint_id()
            while await tx.complaints.get(complaint_id) is not None:
                complaint_id = new_complaint_id()
            complaint = Complaint(
                complaint_id=complaint_id,
                resident_id=resident.resident_id,
                conversation_id=conversation_id,
                disposition=disposition,
                description=description,
                status=ComplaintStatus.OPEN,
                created_at=now,
                updated_at=now,
                payment_id=payment_id,
            )
            await tx.complaints.add(complaint)
            await tx.commit()
        return complaint

    async def status(self, conversation_id: str, complaint_id: str) -> Complaint:
        """The resident's own complaint; ComplaintNotFound for anybody else's."""
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            complaint = await tx.complaints.get(complaint_id.upper())
            if complaint is None or complaint.resident_id != resident.resident_id:
                raise ComplaintNotFound(complaint_id)
            return complaint

    async def recent(self, limit: int = 50) -> list[tuple[Complaint, Payment | None]]:
        """The most recently updated complaints (the console's list), each with its payment."""
        async with self._uow() as tx:
            return [
                (c, await tx.payments.get(c.payment_id) if c.payment_id else None)
                for c in await tx.complaints.recent(limit)
            ]

    async def change_status(self, complaint_id: str, status: ComplaintStatus) -> Complaint:
        """An agent moved the complaint along: saved, and the resident told on the channel
        they complained from, in the same transaction. No change, no message."""
        async with self._uow() as tx:
            complaint = await tx.complaints.get(complaint_id)
            if complaint is None:
                raise ComplaintNotFound(complaint_id)
            if complaint.status is status:
                return complaint
            now = self._clock.now()
            complaint.status, complaint.updated_at = status, now
            await tx.complaints.update(complaint)
            conversation = await get_conversation(tx, complaint.conversation_id)
            language = language_of(conversation, await tx.residents.get(complaint.resident_id))
            text = texts.render(
                "complaint_status_changed",
                language,
                complaint_id=complaint.complaint_id,
                status=texts.render(f"complaint_status_{status.value}", language),
            )
            await tx.outbox.push(complaint.conversation_id, OutboundMessage(text), now)
            await tx.commit()
        return complaint
