"""Paying a bill through a hosted payment link, and acting on the gateway's signed webhooks.

A bill is marked paid only from a verified webhook, never from the browser redirect
(which the resident's browser could forge). Webhooks arrive at least once and in any
order, so every step here is idempotent: event ids are recorded, and a payment's status
changes by compare-and-set so two deliveries of the same news push one receipt.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum
from typing import Protocol

from bot import messages
from bot.errors import BillerUnavailable, NothingDue, PaymentGatewayUnavailable, ReceiptNotFound
from bot.model.billing import Bill, Biller
from bot.model.calendar import IST
from bot.model.identifiers import mask
from bot.model.money import format_rupees
from bot.model.outbound import Attachment, Button, OutboundMessage
from bot.model.payments import (
    Payment,
    PaymentEvent,
    PaymentEventKind,
    PaymentStatus,
    Receipt,
    receipt_number_for,
)
from bot.model.residents import Language
from bot.ports import (
    BillerDirectory,
    Clock,
    PaymentGateway,
    PaymentLinkRequest,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bot.services.conversations import get_conversation, language_of, linked_resident
from bot.services.receipts import ReceiptLinks, receipt_of

log = logging.getLogger(__name__)

# Razorpay needs expire_by at least 15 minutes ahead; half an hour leaves time to pay.
LINK_VALIDITY = timedelta(minutes=30)


@dataclass(frozen=True)
class PaymentQuote:
    biller: Biller
    bill: Bill

    @property
    def fee_paise(self) -> int:
        return self.biller.convenience_fee_paise

    @property
    def total_paise(self) -> int:
        return self.bill.outstanding_paise + self.fee_paise


class EventOutcome(str, Enum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"  # this event id was handled before
    ALREADY_APPLIED = "already_applied"  # another event already moved the payment
    UNKNOWN_LINK = "unknown_link"
    MISMATCH = "mismatch"  # amount or reference differs from what we created: ignored


class ReceiptEmail(Protocol):
    """Emails a paid payment's receipt to its resident's confirmed address, if any
    (bot/services/email_delivery.py). Never raises."""

    async def send(self, payment_id: str) -> bool: ...


class PaymentService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        billers: BillerDirectory,
        gateway: PaymentGateway,
        clock: Clock,
        receipt_links: ReceiptLinks,
        callback_url: str,
        receipt_email: ReceiptEmail | None = None,
    ) -> None:
        self._receipt_email = receipt_email
        self._uow = uow
        self._billers = billers
        self._gateway = gateway
        self._clock = clock
        self._receipt_links = receipt_links
        self._callback_url = callback_url

    async def quote(
        self, conversation_id: str, biller_id: str, consumer_number: str
    ) -> PaymentQuote:
        """The amount due now plus our fee. Raises NothingDue, NotLinked, biller errors."""
        biller = self._billers.get(biller_id)
        number = biller.normalise_consumer_number(consumer_number)
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
        bill = await self._billers.fetch_bill(biller, number, resident.mobile)
        if not bill.is_due:
            raise NothingDue(number)
        return PaymentQuote(biller=biller, bill=bill)

    async def request_link(
        self, conversation_id: str, biller_id: str, consumer_number: str
    ) -> tuple[Payment, PaymentQuote]:
        """A payment link for the bill as it stands now. Asking twice for the same bill
        gives the same open link instead of a second one that could be paid twice."""
        quote = await self.quote(conversation_id, biller_id, consumer_number)
        now = self._clock.now()
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            existing = await tx.payments.open_for_bill(
                resident.resident_id, biller_id, quote.bill.bill_number
            )
            if (
                existing is not None
                and existing.link_url
                and existing.amount_paise == quote.bill.outstanding_paise
                and existing.created_at + LINK_VALIDITY > now + timedelta(minutes=5)
            ):
                return existing, quote
            payment = Payment(
                payment_id="pay_" + secrets.token_hex(10),
                resident_id=resident.resident_id,
                conversation_id=conversation_id,
                biller_id=biller_id,
                consumer_number=quote.bill.consumer_number,
                bill_number=quote.bill.bill_number,
                amount_paise=quote.bill.outstanding_paise,
                fee_paise=quote.fee_paise,
                status=PaymentStatus.CREATED,
                created_at=now,
            )
            await tx.payments.add(payment)
            await tx.commit()
        # The payment row exists before the link does: a webhook can never name a link
        # whose payment we have not recorded.
        try:
            link = await self._gateway.create_link(
                PaymentLinkRequest(
                    reference_id=payment.payment_id,
                    amount_paise=payment.total_paise,
                    description=f"{quote.biller.short_name} bill {quote.bill.bill_number}",
                    customer_name=resident.name,
                    customer_mobile=resident.mobile,
                    expire_by=now + LINK_VALIDITY,
                    callback_url=self._callback_url,
                )
            )
        except PaymentGatewayUnavailable:
            async with self._uow() as tx:
                failed = replace(payment, status=PaymentStatus.FAILED)
                await tx.payments.update(failed, expected_status=PaymentStatus.CREATED)
                await tx.commit()
            raise
        payment.link_id, payment.link_url = link.link_id, link.short_url
        async with self._uow() as tx:
            await tx.payments.update(payment, expected_status=PaymentStatus.CREATED)
            await tx.commit()
        return payment, quote

    async def handle_event(self, event: PaymentEvent) -> EventOutcome:
        """Apply one verified gateway event exactly once, pushing the news to the resident."""
        now = self._clock.now()
        async with self._uow() as tx:
            if not await tx.webhook_events.record("payments", event.event_id, now):
                return EventOutcome.DUPLICATE
            payment = await tx.payments.by_link_id(event.link_id)
            if payment is None and event.reference_id:
                # We crashed between creating the link and saving its id: the reference id
                # (our payment id) still finds the payment.
                payment = await tx.payments.get(event.reference_id)
                if payment is not None and payment.link_id not in (None, event.link_id):
                    payment = None
                elif payment is not None:
                    payment.link_id = event.link_id
            if payment is None:
                await tx.commit()
                log.warning("payment event %s for unknown link %s", event.event_id, event.link_id)
                return EventOutcome.UNKNOWN_LINK
            outcome = await self._apply(tx, payment, event)
            await tx.commit()
        if outcome is EventOutcome.PROCESSED and event.kind is PaymentEventKind.PAID:
            await self.confirm_with_biller(payment.payment_id)
            if self._receipt_email is not None:
                # Only the event that moved the payment to PAID gets here (compare-and-set),
                # so a replayed webhook never emails the receipt twice.
                await self._receipt_email.send(payment.payment_id)
        return outcome

    async def _apply(self, tx: UnitOfWork, payment: Payment, event: PaymentEvent) -> EventOutcome:
        # Razorpay's payment.failed carries no reference id; the verified signature and the
        # link id are enough for news that moves no money.
        if (event.reference_id and event.reference_id != payment.payment_id) or (
            event.kind is PaymentEventKind.PAID and event.amount_paise != payment.total_paise
        ):
            log.warning(
                "payment event %s does not match payment %s", event.event_id, payment.payment_id
            )
            return EventOutcome.MISMATCH
        previous = payment.status
        if previous is PaymentStatus.PAID or (
            previous is PaymentStatus.EXPIRED and event.kind is not PaymentEventKind.PAID
        ):
            return EventOutcome.ALREADY_APPLIED
        now = self._clock.now()
        if event.kind is PaymentEventKind.PENDING:
            # News only: the outcome (paid or failed) follows as its own event.
            conversation = await get_conversation(tx, payment.conversation_id)
            resident = await tx.residents.get(payment.resident_id)
            text = messages.render(
                "payment_pending",
                language_of(conversation, resident),
                amount=format_rupees(payment.total_paise),
                biller=self._billers.get(payment.biller_id).short_name,
            )
            await tx.outbox.push(payment.conversation_id, OutboundMessage(text=text), now)
            return EventOutcome.PROCESSED
        if event.kind is PaymentEventKind.PAID:
            payment.status = PaymentStatus.PAID
            payment.paid_at = now
            payment.gateway_payment_id = event.gateway_payment_id
            payment.receipt_number = receipt_number_for(payment.payment_id, now.astimezone(IST))
        elif event.kind is PaymentEventKind.FAILED:
            if previous is PaymentStatus.FAILED:
                return EventOutcome.ALREADY_APPLIED
            payment.status = PaymentStatus.FAILED  # the link stays usable for another try
        else:
            payment.status = PaymentStatus.EXPIRED
        if not await tx.payments.update(payment, expected_status=previous):
            return EventOutcome.ALREADY_APPLIED
        conversation = await get_conversation(tx, payment.conversation_id)
        resident = await tx.residents.get(payment.resident_id)
        language = language_of(conversation, resident)
        message = self._news(payment, language)
        await tx.outbox.push(payment.conversation_id, message, now)
        return EventOutcome.PROCESSED

    def _news(self, payment: Payment, language: Language) -> OutboundMessage:
        biller = self._billers.get(payment.biller_id)
        amount = format_rupees(payment.total_paise)
        if payment.status is PaymentStatus.PAID:
            receipt = receipt_of(payment, biller)
            text = messages.render(
                "payment_received",
                language,
                amount=amount,
                biller=biller.short_name,
                consumer=mask(payment.consumer_number),
                receipt_number=receipt.receipt_number,
                transaction=receipt.transaction_reference,
            )
            attachment = Attachment(
                url=self._receipt_links.url_for(receipt.receipt_number, language),
                filename=f"receipt-{receipt.receipt_number}.pdf",
                mime="application/pdf",
            )
            history = Button(messages.render("receipt_button", language), "/payment_history")
            return OutboundMessage(text=text, buttons=(history,), attachment=attachment)
        if payment.status is PaymentStatus.FAILED:
            text = messages.render(
                "payment_failed",
                language,
                amount=amount,
                biller=biller.short_name,
                link=payment.link_url,
            )
            return OutboundMessage(text=text)
        text = messages.render("payment_expired", language, amount=amount, biller=biller.short_name)
        return OutboundMessage(text=text)

    async def confirm_with_biller(self, payment_id: str) -> bool:
        """Post a paid payment to its biller (BBPS). Safe to repeat: the biller dedupes on
        our reference id. False when the biller is down; reconciliation retries later."""
        async with self._uow() as tx:
            payment = await tx.payments.get(payment_id)
        if payment is None or payment.status is not PaymentStatus.PAID or payment.biller_confirmed:
            return payment is not None and payment.biller_confirmed
        try:
            await self._billers.post_payment(
                self._billers.get(payment.biller_id),
                payment.consumer_number,
                payment.bill_number,
                payment.amount_paise,
                payment.payment_id,
            )
        except BillerUnavailable:
            log.warning("biller did not confirm payment %s; left for reconciliation", payment_id)
            return False
        async with self._uow() as tx:
            payment.biller_confirmed = True
            await tx.payments.update(payment, expected_status=PaymentStatus.PAID)
            await tx.commit()
        return True

    async def history(self, conversation_id: str, limit: int = 5) -> list[tuple[Payment, Biller]]:
        """The resident's latest payments, newest first, with their billers."""
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            payments = await tx.payments.recent_for(resident.resident_id, limit)
        return [(p, self._billers.get(p.biller_id)) for p in payments]

    async def receipt(
        self, conversation_id: str, receipt_number: str | None = None
    ) -> tuple[Receipt, str]:
        """A past receipt of this resident (the latest when no number is given) and a fresh
        download link for it. Raises ReceiptNotFound, NotLinked."""
        async with self._uow() as tx:
            conversation, resident = await linked_resident(tx, conversation_id)
            if receipt_number:
                payment = await tx.payments.by_receipt_number(receipt_number.strip().upper())
            else:
                paid = [
                    p
                    for p in await tx.payments.recent_for(resident.resident_id, 20)
                    if p.status is PaymentStatus.PAID
                ]
                payment = paid[0] if paid else None
        if payment is None or payment.resident_id != resident.resident_id:
            raise ReceiptNotFound(receipt_number or "latest")
        receipt = receipt_of(payment, self._billers.get(payment.biller_id))
        url = self._receipt_links.url_for(
            receipt.receipt_number, language_of(conversation, resident)
        )
        return receipt, url

    async def receipt_by_number(self, receipt_number: str) -> Receipt:
        """For the download route, after it has verified the link's signature."""
        async with self._uow() as tx:
            payment = await tx.payments.by_receipt_number(receipt_number)
        if payment is None or payment.status is not PaymentStatus.PAID:
            raise ReceiptNotFound(receipt_number)
        return receipt_of(payment, self._billers.get(payment.biller_id))
