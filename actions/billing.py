"""The bill form (utility → company → consumer number) and showing the bill."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import utter_error
from actions.runtime import ResidentAction, ResidentFormValidation, container, language
from bot.errors import BotError, NotLinked, UnknownBiller
from bot.model.billing import Bill, SavedAccount, Utility, parse_utility
from bot.model.calendar import format_date
from bot.model.identifiers import mask, mask_name, normalise_number
from bot.model.money import format_rupees
from bot.services.payments import PaymentQuote

UTILITY_ICONS = {Utility.ELECTRICITY: "⚡", Utility.WATER: "💧", Utility.GAS: "🔥"}


def account_label(account: SavedAccount) -> str:
    """How a saved account is named to its owner: company and masked consumer number."""
    biller = container().billing.biller(account.biller_id)
    return f"{biller.short_name} {mask(account.consumer_number)}"


def account_button(account: SavedAccount) -> dict[str, str]:
    """A one-tap choice of a saved account: the payload fills all three form slots."""
    entities = {
        "utility": account.utility.value,
        "biller": account.biller_id,
        "consumer_number": account.consumer_number,
    }
    return {
        "title": f"{UTILITY_ICONS[account.utility]} {account_label(account)}",
        "payload": "/inform" + json.dumps(entities),
    }


def bill_slot(bill: Bill) -> dict[str, Any]:
    """The fetched bill as the `bill` slot holds it (JSON-safe, name already masked)."""
    return {
        "biller_id": bill.biller_id,
        "consumer_number": bill.consumer_number,
        "customer_name": mask_name(bill.customer_name),
        "bill_number": bill.bill_number,
        "bill_date": bill.bill_date.isoformat(),
        "due_on": bill.due_on.isoformat(),
        "amount_paise": bill.amount_paise,
        "outstanding_paise": bill.outstanding_paise,
    }


def bill_from_slot(value: Any) -> Bill | None:
    if not isinstance(value, dict):
        return None
    return Bill(
        biller_id=value["biller_id"],
        consumer_number=value["consumer_number"],
        customer_name=value["customer_name"],
        bill_number=value["bill_number"],
        bill_date=date.fromisoformat(value["bill_date"]),
        due_on=date.fromisoformat(value["due_on"]),
        amount_paise=int(value["amount_paise"]),
        outstanding_paise=int(value["outstanding_paise"]),
    )


async def saved_accounts(tracker: Tracker, utility: Utility | None = None) -> list[SavedAccount]:
    if not tracker.get_slot("linked"):
        return []
    try:
        return await container().billing.saved_accounts(tracker.sender_id, utility)
    except NotLinked:
        return []


async def fetch_into_slots(
    dispatcher: CollectingDispatcher, tracker: Tracker, biller_id: str, typed_number: str
) -> dict[str, Any]:
    """Only a number the biller knows completes the bill form: the bill is fetched here,
    once, and kept in the `bill` slot for action_show_bill. Errors ask for the number again."""
    biller = container().billing.biller(biller_id)
    try:
        fetched = await container().billing.fetch(tracker.sender_id, biller_id, typed_number)
    except NotLinked as error:
        utter_error(dispatcher, error)
        return {"consumer_number": None, "bill": None, "linked": False}
    except BotError as error:
        utter_error(
            dispatcher,
            error,
            biller=biller.short_name,
            param_name=biller.param_name,
            rule=biller.describe_rule(),
            consumer=mask(normalise_number(typed_number)),
        )
        return {"consumer_number": None, "bill": None}
    return {"consumer_number": fetched.bill.consumer_number, "bill": bill_slot(fetched.bill)}


class ValidateBillForm(ResidentFormValidation):
    def name(self) -> str:
        return "validate_bill_form"

    async def validate_utility(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        utility = parse_utility(str(value))
        if utility is None:
            if "biller" in tracker.slots_to_validate():
                return {"utility": None}  # "JVVNL" typed here: validate_biller sets both
            dispatcher.utter_message(response="utter_utility_unknown")
            return {"utility": None}
        slots: dict[str, Any] = {"utility": utility.value}
        if "biller" not in tracker.slots_to_validate():
            # A newly named utility: forget the company and number of the previous one, and
            # pre-fill them when the resident has exactly one saved account for it.
            only = await container().billing.sole_account(tracker.sender_id, utility)
            slots.update(biller=only.biller_id if only else None, consumer_number=None, bill=None)
            if only:
                slots.update(
                    await fetch_into_slots(
                        dispatcher, tracker, only.biller_id, only.consumer_number
                    )
                )
        return slots

    async def validate_biller(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        billing = container().billing
        utility = parse_utility(tracker.get_slot("utility") or "")
        named = next((b for b in billing.billers_for_all() if b.biller_id == value), None)
        if named and utility and named.utility is not utility:
            # "Jaipur gas bill": the city named Jaipur's electricity company; ask instead.
            return {"biller": None}
        try:
            biller = billing.resolve_biller(str(value), utility)
        except UnknownBiller:
            dispatcher.utter_message(response="utter_biller_unknown")
            return {"biller": None}
        slots: dict[str, Any] = {"biller": biller.biller_id, "utility": biller.utility.value}
        if "consumer_number" not in tracker.slots_to_validate():
            only = await container().billing.sole_account(
                tracker.sender_id, biller.utility, biller.biller_id
            )
            slots.update(consumer_number=None, bill=None)
            if only:
                number = only.consumer_number
                slots.update(await fetch_into_slots(dispatcher, tracker, biller.biller_id, number))
        return slots

    async def validate_consumer_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        biller_id = tracker.get_slot("biller")
        if not biller_id:
            return {"consumer_number": str(value)}  # checked once the company is known
        return await fetch_into_slots(dispatcher, tracker, biller_id, str(value))


class ActionAskUtility(ResidentAction):
    def name(self) -> str:
        return "action_ask_utility"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_ask_utility")
        accounts = await saved_accounts(tracker)
        if accounts:
            buttons = [account_button(a) for a in accounts[:5]]
            dispatcher.utter_message(response="utter_saved_accounts", buttons=buttons)
        return []


class ActionAskBiller(ResidentAction):
    def name(self) -> str:
        return "action_ask_biller"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        utility = parse_utility(tracker.get_slot("utility") or "") or Utility.ELECTRICITY
        buttons = [
            {
                "title": biller.short_name,
                "payload": "/inform" + json.dumps({"biller": biller.biller_id}),
            }
            for biller in container().billing.billers_for(utility)
        ]
        dispatcher.utter_message(response="utter_ask_biller", buttons=buttons)
        accounts = await saved_accounts(tracker, utility)
        if accounts:
            buttons = [account_button(a) for a in accounts[:5]]
            dispatcher.utter_message(response="utter_saved_accounts", buttons=buttons)
        return []


class ActionAskConsumerNumber(ResidentAction):
    def name(self) -> str:
        return "action_ask_consumer_number"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        biller = container().billing.biller(tracker.get_slot("biller"))
        dispatcher.utter_message(
            response="utter_ask_consumer_number",
            param_name=biller.param_name,
            rule=biller.describe_rule(),
            biller=biller.short_name,
        )
        return []


class ActionShowBill(ResidentAction):
    """Show the bill the form just fetched; when the resident came to pay, ask to confirm."""

    def name(self) -> str:
        return "action_show_bill"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        bill = bill_from_slot(tracker.get_slot("bill"))
        current = (tracker.get_slot("biller"), tracker.get_slot("consumer_number"))
        if bill is None or (bill.biller_id, bill.consumer_number) != current:
            dispatcher.utter_message(response="utter_help")
            return [SlotSet("pending_confirmation", None)]
        biller = container().billing.biller(bill.biller_id)
        consumer = mask(bill.consumer_number)
        if not bill.is_due:
            dispatcher.utter_message(
                response="utter_nothing_due", biller=biller.short_name, consumer=consumer
            )
            return [SlotSet("goal", None), SlotSet("pending_confirmation", None)]
        dispatcher.utter_message(
            response="utter_bill",
            biller=biller.short_name,
            name=bill.customer_name,
            consumer=consumer,
            bill_number=bill.bill_number,
            amount=format_rupees(bill.amount_paise),
            outstanding=format_rupees(bill.outstanding_paise),
            due_date=format_date(bill.due_on, language(tracker)),
        )
        if tracker.get_slot("goal") != "pay":
            dispatcher.utter_message(response="utter_bill_options")
            return [SlotSet("pending_confirmation", None)]
        quote = PaymentQuote(biller=biller, bill=bill)
        dispatcher.utter_message(
            response="utter_confirm_payment",
            amount=format_rupees(bill.outstanding_paise),
            fee=format_rupees(quote.fee_paise),
            total=format_rupees(quote.total_paise),
            biller=biller.short_name,
            consumer=consumer,
        )
        return [SlotSet("pending_confirmation", "pay")]
