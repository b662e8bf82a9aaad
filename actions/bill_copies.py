"""The end of "bill ki copy bhejo": the bill form has found and fetched the bill (goal: copy),
and the resident gets it as a PDF, with a way to pay it when it is due."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.accounts import whole_account_payload
from actions.forms import LISTEN
from actions.replies import utter_error
from actions.runtime import language, services
from bot import messages as texts
from bot.errors import BotError
from bot.model.bill_copies import bill_copy_filename
from bot.model.billing import Bill
from bot.model.calendar import format_date
from bot.model.identifiers import mask
from bot.model.money import format_rupees

GOAL = "copy"


async def send_bill_copy(
    dispatcher: CollectingDispatcher, tracker: Tracker, bill: Bill
) -> list[dict[str, Any]]:
    """The copy of `bill` (just fetched by the bill form) as a PDF attachment: a signed link
    the channel fetches (or shows, on SMS). Nothing is saved or changed here."""
    done: list[dict[str, Any]] = [
        SlotSet("goal", None),
        SlotSet("pending_confirmation", None),
        FollowupAction(LISTEN),
    ]
    biller = services().billing.biller(bill.biller_id)
    lang = language(tracker)
    values = {
        "biller": biller.short_name,
        "consumer": mask(bill.consumer_number),
        "bill_number": bill.bill_number,
    }
    try:
        url = await services().bill_copies.link_for(
            tracker.sender_id, bill.biller_id, bill.consumer_number, lang
        )
    except BotError as error:
        utter_error(dispatcher, error, param_name=biller.param_name, **values)
        return done
    if bill.is_due:
        outstanding = format_rupees(bill.outstanding_paise)
        payload = whole_account_payload(
            "pay_bill", biller.utility, bill.biller_id, bill.consumer_number
        )
        pay = {"title": texts.render("bill_copy_pay", lang, amount=outstanding), "payload": payload}
        dispatcher.utter_message(
            response="utter_bill_copy",
            outstanding=outstanding,
            due_date=format_date(bill.due_on, lang),
            buttons=[pay],
            **values,
        )
    else:
        dispatcher.utter_message(response="utter_bill_copy_paid", **values)
    attachment = {
        "url": url,
        "filename": bill_copy_filename(biller.short_name, bill.consumer_number),
        "mime": "application/pdf",
    }
    dispatcher.utter_message(json_message={"attachment": attachment})
    return done
