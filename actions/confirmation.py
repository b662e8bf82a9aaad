"""The one yes/no question (confirm_form) in front of every side effect: making a payment
link, unlinking, erasing data, stopping reminders, calling a person.

`pending_confirmation` says what the question is about. The answer is typed or pressed:
yes/no/haan/nahi/हाँ/नहीं, an option number (resolved to the button by the gateway), or
anything else, which gets the same question again with its options (questions about it
and digressions are answered first, as in every form).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import bill_from_slot
from actions.billing import offer_other_accounts, payment_question
from actions.email import remove_email
from actions.forms import LISTEN, RepairingFormValidation, turn_of
from actions.linking import unlink
from actions.payments import create_payment_link
from actions.privacy import delete_my_data
from actions.reminders import stop_reminders
from actions.repair import Turn, yes_or_no
from actions.runtime import ResidentAction, services
from actions.supply import PENDING as SUPPLY
from actions.supply import ask_supply_confirmation, register_supply_complaint
from actions.support import request_person

YES, NO = "yes", "no"

QUESTIONS = {
    "unlink": "utter_confirm_unlink",
    "delete_data": "utter_confirm_delete_data",
    "stop_reminders": "utter_confirm_stop_reminders",
    "talk_to_human": "utter_confirm_talk_to_human",
    "remove_email": "utter_confirm_remove_email",
}

Effect = Callable[[CollectingDispatcher, Tracker], Awaitable[list[dict[str, Any]]]]
EFFECTS: dict[str, Effect] = {
    "pay": create_payment_link,
    "unlink": unlink,
    "delete_data": delete_my_data,
    "stop_reminders": stop_reminders,
    "talk_to_human": request_person,
    "remove_email": remove_email,
    SUPPLY: register_supply_complaint,
}


def answer_of(turn: Turn, pending: str | None) -> str | None:
    """ "yes", "no", or None when the message does not answer the question."""
    answer = yes_or_no(turn)
    if answer is not None:
        return YES if answer else NO
    # "Pay now" at the payment question is a yes, whatever else the NLU thought.
    if pending == "pay" and turn.intent == "pay_bill" and not turn.entities:
        return YES
    return None


class ValidateConfirmForm(RepairingFormValidation):
    slots = ("confirmed",)
    yes_no = True

    def name(self) -> str:
        return "validate_confirm_form"

    def fits(self, slot: str, turn: Turn, tracker: Tracker) -> bool:
        return answer_of(turn, tracker.get_slot("pending_confirmation")) is not None

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_of(turn_of(tracker), tracker.get_slot("pending_confirmation"))
        if answer is None:
            dispatcher.utter_message(response="utter_please_yes_no")
        return {"confirmed": answer}


class ActionAskConfirmed(ResidentAction):
    """The question itself, with its Yes/No buttons, for what is pending."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending_confirmation")
        if pending == "pay":
            bill = bill_from_slot(tracker.get_slot("bill"))
            if bill is not None:
                biller = services().billing.biller(bill.biller_id)
                response, values = payment_question(bill, biller)
                dispatcher.utter_message(response=response, **values)
                return []
        if pending == "remove_email":
            address = await services().email.address(tracker.sender_id)
            dispatcher.utter_message(response=QUESTIONS[pending], email=address or "-")
            return []
        if pending == SUPPLY:
            ask_supply_confirmation(dispatcher, tracker)
            return []
        dispatcher.utter_message(response=QUESTIONS.get(pending or "", "utter_please_yes_no"))
        return []


class ActionConfirmed(ResidentAction):
    """Carries out what was asked after a yes; after a no nothing changes, and the resident
    is told so, with what they can do next."""

    def name(self) -> str:
        return "action_confirmed"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending_confirmation")
        done: list[dict[str, Any]] = [
            SlotSet("pending_confirmation", None),
            SlotSet("confirmed", None),
        ]
        effect = EFFECTS.get(pending or "")
        if tracker.get_slot("confirmed") == YES and effect is not None:
            events = await effect(dispatcher, tracker)
            if pending == "pay" and tracker.get_latest_input_channel() != "sms":
                dispatcher.utter_message(response="utter_anything_else")
            return [*done, *events, FollowupAction(LISTEN)]
        if pending == "pay":
            dispatcher.utter_message(response="utter_payment_cancelled")
            shown = bill_from_slot(tracker.get_slot("bill"))
            if shown is not None:
                await offer_other_accounts(dispatcher, tracker, shown)
            return [*done, SlotSet("goal", None), FollowupAction(LISTEN)]
        dispatcher.utter_message(response="utter_ok")
        if pending == SUPPLY:  # the goal that brought the bill form is over
            done.append(SlotSet("goal", None))
        return [*done, FollowupAction(LISTEN)]
