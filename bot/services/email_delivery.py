"""Receipts (PDF attached) and reminders by email, in addition to the chat (issue 16).

At most once, and never at the chat's expense. Each email is sent by the one caller that
won the step it follows, so a retry cannot send it twice: a receipt by the webhook whose
compare-and-set moved the payment to PAID (a replayed or concurrent webhook finds it PAID
and sends nothing), a reminder by the dispatcher that moved the row to SENDING and has just
delivered the chat message. The price is the other side of at-most-once: a crash between
that step and the send loses the email (the chat still has the receipt, and "send my
receipt" gives it again), and a mail server that is down is logged, not retried. An email
failure never changes what the chat got.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot import messages
from bot.errors import BotError
from bot.model.calendar import format_date
from bot.model.email import OutgoingEmail, mask_email
from bot.model.money import format_rupees
from bot.model.outbound import OutboundMessage
from bot.model.payments import Receipt
from bot.model.reminders import Reminder, ReminderRecipient
from bot.ports import EmailSender, ReceiptRenderer, UnitOfWorkFactory
from bot.services.conversations import get_conversation, language_of

log = logging.getLogger(__name__)


class PrintableReceipts(Protocol):
    """The part of ReceiptChecks an email needs: the receipt with its check printed on it."""

    async def printable(self, receipt_number: str) -> Receipt: ...


class EmailReceipts:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sender: EmailSender,
        receipts: PrintableReceipts,
        renderer: ReceiptRenderer,
    ) -> None:
        self._uow = uow
        self._sender = sender
        self._receipts = receipts
        self._renderer = renderer

    async def send(self, payment_id: str) -> bool:
        """Email the receipt of a payment just marked paid to its resident's confirmed
        address, in the language the chat speaks. False when there is no address or the
        mail server refused; never raises for the caller's chat delivery to worry about."""
        try:
            return await self._send(payment_id)
        except Exception:  # the chat's receipt is already queued: an email must not undo it
            log.exception("receipt email for payment %s failed", payment_id)
            return False

    async def _send(self, payment_id: str) -> bool:
        async with self._uow() as tx:
            payment = await tx.payments.get(payment_id)
            if payment is None or payment.receipt_number is None or payment.resident_id is None:
                return False
            resident = await tx.residents.get(payment.resident_id)
            if resident is None or resident.email is None:
                return False
            conversation = await get_conversation(tx, payment.conversation_id)
            language = language_of(conversation, resident)
        receipt = await self._receipts.printable(payment.receipt_number)
        # Drawing a PDF takes ~0.1 s of CPU: off the event loop.
        pdf = await asyncio.to_thread(self._renderer.render, receipt, language)
        values = {
            "amount": format_rupees(receipt.amount_paise + receipt.fee_paise),
            "biller": receipt.biller_name,
            "consumer": receipt.consumer_number_masked,
            "receipt_number": receipt.receipt_number,
            "transaction": receipt.transaction_reference,
        }
        email = OutgoingEmail(
            to=resident.email,
            subject=messages.render("email_receipt_subject", language, **values),
            text=messages.render("email_receipt_text", language, **values),
            attachments=((f"receipt-{receipt.receipt_number}.pdf", pdf, "application/pdf"),),
        )
        try:
            await self._sender.send(email)
        except BotError as exc:
            log.warning("receipt email to %s not sent: %s", mask_email(resident.email), exc)
            return False
        return True


class EmailReminders:
    def __init__(self, sender: EmailSender) -> None:
        self._sender = sender

    async def send(
        self,
        reminder: Reminder,
        recipient: ReminderRecipient,
        biller: str,
        notice: OutboundMessage | None = None,
    ) -> bool:
        """Email a reminder just delivered in the chat to the resident's confirmed address
        (`notice`: a planned power cut's notice, sent as the chat had it). False when there
        is none or it failed (logged); never raises."""
        if recipient.email is None:
            return False
        language = recipient.language
        if notice is not None:
            values = {"biller": biller, "consumer": reminder.consumer_hint}
            return await self._send(
                reminder,
                OutgoingEmail(
                    to=recipient.email,
                    subject=messages.render("email_outage_subject", language, **values),
                    text=notice.text + messages.render("email_footer", language),
                ),
            )
        if not reminder.kind.about_bill:
            return False  # a notice whose text the dispatcher did not give
        values = {
            "biller": biller,
            "consumer": reminder.consumer_hint,
            "amount": format_rupees(reminder.amount_paise),
            "due": format_date(reminder.due_on, language),
        }
        email = OutgoingEmail(
            to=recipient.email,
            subject=messages.render("email_reminder_subject", language, **values),
            text=messages.render(f"email_reminder_{reminder.kind.value}", language, **values),
        )
        return await self._send(reminder, email)

    async def _send(self, reminder: Reminder, email: OutgoingEmail) -> bool:
        try:
            await self._sender.send(email)
        except Exception as exc:  # the chat's reminder went: an email must not change that
            log.warning("reminder email %d not sent: %s", reminder.reminder_id, exc)
            return False
        return True
