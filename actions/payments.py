"""Creating the payment link after a yes (confirm_form), payment history, past receipts."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import utter_error
from actions.runtime import ResidentAction, language, services
from bot.errors import BotError, NothingDue
from bot.model.calendar import IST, format_date, format_datetime_ist
from bot.model.identifiers import mask
from bot.model.money import format_rupees
from bot.model.payments import PaymentStatus, find_receipt_number
from bot.services.payments import LINK_VALIDITY

STATUS_ICONS = {
    PaymentStatus.PAID: "✅",
    PaymentStatus.CREATED: "⏳",
    PaymentStatus.FAILED: "❌",
    PaymentStatus.EXPIRED: "⌛",
}


async def create_payment_link(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """The yes to "shall I make the payment link?" (confirm_form)."""
    done = [SlotSet("goal", None)]
    biller_id = tracker.get_slot("biller")
    consumer_number = tracker.get_slot("consumer_number")
    if not biller_id or not consumer_number:
        dispatcher.utter_message(response="utter_anything_else")
        return done
    biller = services().billing.biller(biller_id)
    try:
        payment, _quote = await services().payments.request_link(
            tracker.sender_id, biller_id, consumer_number
        )
    except NothingDue:
        dispatcher.utter_message(
            response="utter_nothing_due",
            biller=biller.short_name,
            consumer=mask(consumer_number),
        )
        return done
    except BotError as error:
        utter_error(dispatcher, error, biller=biller.short_name)
        return done
    dispatcher.utter_message(
        response="utter_payment_link",
        link=payment.link_url,
        total=format_rupees(payment.total_paise),
        minutes=int(LINK_VALIDITY.total_seconds() // 60),
    )
    return done


class ActionPaymentHistory(ResidentAction):
    def name(self) -> str:
        return "action_payment_history"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            history = await services().payments.history(tracker.sender_id, limit=5)
        except BotError as error:
            utter_error(dispatcher, error)
            return []
        if not history:
            dispatcher.utter_message(response="utter_no_history")
            return []
        lang = language(tracker)
        # Icons instead of status words keep each line the same in both languages.
        lines = [
            " · ".join(
                part
                for part in (
                    STATUS_ICONS[p.status],
                    format_date(p.created_at.astimezone(IST).date(), lang),
                    biller.short_name,
                    mask(p.consumer_number),
                    format_rupees(p.total_paise),
                    p.receipt_number or "",
                )
                if part
            )
            for p, biller in history
        ]
        dispatcher.utter_message(response="utter_history", items="\n".join(lines))
        return []


class ActionGetReceipt(ResidentAction):
    def name(self) -> str:
        return "action_get_receipt"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        asked = find_receipt_number(tracker.latest_message.get("text") or "")
        try:
            receipt, url = await services().payments.receipt(tracker.sender_id, asked)
        except BotError as error:
            utter_error(dispatcher, error)
            return []
        dispatcher.utter_message(
            response="utter_receipt",
            receipt_number=receipt.receipt_number,
            total=format_rupees(receipt.total_paise),
            biller=receipt.biller_name,
            paid_on=format_datetime_ist(receipt.paid_at, language(tracker)),
        )
        attachment = {
            "url": url,
            "filename": f"receipt-{receipt.receipt_number}.pdf",
            "mime": "application/pdf",
        }
        dispatcher.utter_message(json_message={"attachment": attachment})
        return []
