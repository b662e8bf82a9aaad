"""A resident's rights over their data (DPDP Act 2023): notice and consent at first contact,
access ("what do you know about me"), erasure ("delete my data").

Consent reading (see README, "Privacy"): the notice is shown with the first reply of every
new conversation and consent is recorded, with its time and the notice's version, when the
resident writes again after seeing it: a clear affirmative act by someone told that
continuing means agreeing and how to withdraw. Nothing personal beyond the chat address is
stored before that second message; linking (which stores the SSO ID and mobile) always
takes at least two more turns.

"After seeing it" is kept exactly, whatever fails in between: the notice is tied to the
message whose turn shows it. That turn run again (a crash before its replies were queued)
shows it again; a turn whose replies were never queued leaves it to the next turn; and only a
message received after the notice was delivered (the web chat's answer returned, or the
channel delivery of that turn's last reply sent) records consent. A burst of messages sent
before the notice arrived records none.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.errors import DialogueUnavailable
from bot.model.email import mask_email
from bot.model.identifiers import mask, mask_name
from bot.model.mentions import forms_of, identifiers_in
from bot.model.privacy import (
    NOTICE_VERSION,
    Consent,
    DataHeld,
    Erasure,
    HeldAccount,
    HeldSupplyComplaint,
)
from bot.ports import Clock, ConversationHistory, TurnUnitOfWork, TurnUnitOfWorkFactory
from bot.services.conversations import get_conversation

log = logging.getLogger(__name__)


class PrivacyService:
    def __init__(self, uow: TurnUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def note_message(
        self,
        tx: TurnUnitOfWork,
        conversation_id: str,
        message_key: str = "",
        received_at: datetime | None = None,
    ) -> bool:
        """Record notice and consent for one incoming message, in the turn's transaction (the
        caller commits); True when the notice must be shown with this turn's replies (the
        conversation's first message, a new version, or a notice that never left)."""
        now = self._clock.now()
        consent = await tx.privacy.consent(conversation_id)
        if consent is None or consent.notice_version != NOTICE_VERSION:
            await tx.privacy.save_consent(
                Consent(conversation_id, NOTICE_VERSION, now, notice_key=message_key or None)
            )
            return True
        if consent.notice_delivered_at is None:
            if consent.notice_sequence is not None:
                return False  # queued with its turn's replies, on its way to the resident
            # Its turn never finished (or this is that turn again): show it with this one.
            consent.notice_key, consent.notice_shown_at = message_key or None, now
            await tx.privacy.save_consent(consent)
            return True
        if consent.consented_at is None and (received_at or now) >= consent.notice_delivered_at:
            consent.consented_at = now  # wrote again after the notice reached them
            await tx.privacy.save_consent(consent)
        return False

    async def note_mentions(self, tx: TurnUnitOfWork, conversation_id: str, text: str) -> None:
        """Remember (as keyed hashes) which identifiers this message names, in the turn's
        transaction: an erasure then reaches this conversation's history too."""
        identifiers = identifiers_in(text)
        if identifiers:
            await tx.privacy.record_mentions(conversation_id, identifiers, self._clock.now())

    async def notice_delivered(self, conversation_id: str) -> None:
        """The notice went out with its turn's answer (the web chat: in the HTTP answer)."""
        async with self._uow() as tx:
            await self.note_notice_delivered(tx, conversation_id)
            await tx.commit()

    async def note_notice_delivered(self, tx: TurnUnitOfWork, conversation_id: str) -> None:
        """As `notice_delivered`, in the caller's transaction (the caller commits)."""
        await tx.privacy.notice_delivered(conversation_id, self._clock.now())

    async def data_held(self, conversation_id: str) -> DataHeld:
        """What we store about the person in this conversation, masked to the last 4."""
        async with self._uow() as tx:
            conversation = await get_conversation(tx, conversation_id)
            consent = await tx.privacy.consent(conversation_id)
            resident = (
                await tx.residents.get(conversation.resident_id)
                if conversation.resident_id
                else None
            )
            if resident is None:
                chat = ((conversation.channel, mask(conversation.address)),)
                return DataHeld(linked=False, chats=chat, consent=consent)
            chats = await tx.privacy.conversations_of(resident.resident_id)
            accounts = await tx.accounts.list_for(resident.resident_id)
            payments = await tx.privacy.count_payments(resident.resident_id)
            supply = await tx.supply_complaints.for_resident(resident.resident_id)
        return DataHeld(
            linked=True,
            masked_sso_id=mask(resident.sso_id),
            masked_name=mask_name(resident.name),
            masked_mobile=mask(resident.mobile),
            masked_email=mask_email(resident.email) if resident.email else "",
            linked_at=resident.linked_at,
            chats=tuple((c.channel, mask(c.address)) for c in chats),
            accounts=tuple(HeldAccount(a.biller_id, mask(a.consumer_number)) for a in accounts),
            payments=payments,
            consent=consent,
            supply_complaints=tuple(
                HeldSupplyComplaint(c.biller_id, c.ticket_number, mask(c.consumer_number))
                for c in supply
            ),
        )

    async def erase(self, conversation_id: str) -> Erasure:
        """Erase the personal data of the person in this conversation, in one transaction.

        Their other conversations go entirely; this one keeps only its row, unlinked, because
        the confirmation of the erasure must still reach them on it. The dialogue engine's
        histories are erased after the turn (`erase_histories`): Rasa saves the tracker at
        the end of the turn that runs this, so erasing it from inside would be undone.
        That includes the histories of anyone else's chats that named the resident's SSO
        ID, mobile or consumer numbers (bot/model/mentions.py): those words are in them."""
        now = self._clock.now()
        async with self._uow() as tx:
            conversation = await get_conversation(tx, conversation_id)
            resident = (
                await tx.residents.get(conversation.resident_id)
                if conversation.resident_id
                else None
            )
            others = []
            accounts = payments = 0
            mentioned: list[str] = []
            identifiers: frozenset[str] = frozenset()
            if resident is not None:
                others = [
                    c
                    for c in await tx.privacy.conversations_of(resident.resident_id)
                    if c.conversation_id != conversation_id
                ]
                numbers = [
                    a.consumer_number for a in await tx.accounts.list_for(resident.resident_id)
                ] + [
                    c.consumer_number
                    for c in await tx.supply_complaints.for_resident(resident.resident_id)
                ]
                emails = [resident.email] if resident.email else []
                identifiers = forms_of(resident.sso_id, resident.mobile, numbers, emails)
                mentioned = await tx.privacy.conversations_mentioning(identifiers)
                accounts, payments = await tx.privacy.erase_resident(resident)
                await tx.supply_complaints.delete_for_resident(resident.resident_id)
            for other in others:
                await tx.privacy.erase_conversation(other, keep_row=False)
                await tx.privacy.request_history_erasure(other.conversation_id, now)
            await tx.privacy.erase_conversation(conversation, keep_row=True)
            erased = {conversation_id, *(c.conversation_id for c in others), *mentioned}
            for cid in sorted(erased):
                await tx.privacy.request_history_erasure(cid, now)
            await tx.privacy.forget_mentions(identifiers, erased)
            await tx.commit()
        return Erasure(resident is not None, 1 + len(others), accounts, payments)

    async def erase_histories(
        self, history: ConversationHistory, pending: list[str] | None = None
    ) -> int:
        """Erase the dialogue histories waiting for it (`pending`, as `pending_erasures` read
        them; read here when not given); the number erased. One that fails stays waiting and
        is tried again after the next turn."""
        if pending is None:
            async with self._uow() as tx:
                pending = await self.pending_erasures(tx)
        erased = 0
        for conversation_id in pending:
            try:
                await history.erase_history(conversation_id)
            except DialogueUnavailable as exc:
                log.warning("dialogue history not erased yet: %s", exc)
                continue
            async with self._uow() as tx:
                await tx.privacy.history_erased(conversation_id)
                await tx.commit()
            erased += 1
        return erased

    async def pending_erasures(self, tx: TurnUnitOfWork) -> list[str]:
        """The conversations whose dialogue histories wait for erasure, in the caller's
        transaction."""
        return await tx.privacy.pending_history_erasures()
