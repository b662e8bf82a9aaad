"""Starting a bill (what the message names, or the one saved account) and showing it: a bill
that is due goes on to the payment question, anything else offers what to do next."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import (
    BILL_SLOTS,
    MAX_ACCOUNT_BUTTONS,
    SKIP_SLOT,
    account_button,
    account_key,
    all_saved_accounts,
    bill_from_slot,
    saved_accounts,
)
from actions.bill_copies import GOAL as BILL_COPY_GOAL
from actions.bill_copies import send_bill_copy
from actions.forms import LISTEN, turn_of
from actions.runtime import ResidentAction, language, services
from actions.supply import GOAL as SUPPLY_GOAL
from actions.supply import offer_supply_complaint
from bot.model.billing import Bill, Biller
from bot.model.calendar import format_date
from bot.model.identifiers import mask
from bot.model.money import format_rupees
from bot.services.payments import PaymentQuote

ANOTHER_WORDS = frozenset("another other dusra doosra dusre doosre दूसरा दूसरे दूसरी aur और".split())


class ActionStartBill(ResidentAction):
    """Every bill starts from what this message says: the company and number of the previous
    bill are forgotten unless named again, so "another bill" never lands on the last one."""

    def name(self) -> str:
        return "action_start_bill"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        turn = turn_of(tracker)
        named = {k: v for k, v in turn.entities.items() if k in BILL_SLOTS}
        if turn.intent not in ("check_bill", "pay_bill", "bill_copy") and not named:
            # Carrying on after linking: the request ("bijli ka bill") was a few turns ago,
            # and what it named is in the slots already.
            return [SlotSet("bill", None), SlotSet(SKIP_SLOT, None), FollowupAction("bill_form")]
        shown = bill_from_slot(tracker.get_slot("bill"))
        if turn.intent == "bill_copy" and shown is not None and not named:
            named = account_slots(shown)  # "send me a copy of it", after a bill was shown
        skip = None
        if shown is not None and set(turn.text.casefold().split()) & ANOTHER_WORDS:
            skip = account_key(shown.biller_id, shown.consumer_number)
        if not named and skip is None:
            # "Check my bill" from someone with one saved account: that account, at once.
            accounts = await all_saved_accounts(tracker)
            if len(accounts) == 1:
                only = accounts[0]
                named = {
                    "utility": only.utility.value,
                    "biller": only.biller_id,
                    "consumer_number": only.consumer_number,
                }
        events: list[dict[str, Any]] = [SlotSet(name, named.get(name)) for name in BILL_SLOTS]
        events += [SlotSet("bill", None), SlotSet(SKIP_SLOT, skip)]
        if tracker.get_slot("goal") not in ("check", "pay", BILL_COPY_GOAL):
            events.append(SlotSet("goal", "check"))
        return [*events, FollowupAction("bill_form")]


class ActionShowBill(ResidentAction):
    """Show the bill the form just fetched; a bill that is due goes on to the payment
    question (confirm_form), anything else offers what the resident can do next."""

    def name(self) -> str:
        return "action_show_bill"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        bill = bill_from_slot(tracker.get_slot("bill"))
        current = (tracker.get_slot("biller"), tracker.get_slot("consumer_number"))
        if bill is None or (bill.biller_id, bill.consumer_number) != current:
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("pending_confirmation", None), FollowupAction(LISTEN)]
        if tracker.get_slot("goal") == BILL_COPY_GOAL:
            return await send_bill_copy(dispatcher, tracker, bill)
        if tracker.get_slot("goal") == SUPPLY_GOAL:
            return await offer_supply_complaint(
                dispatcher, tracker, bill.biller_id, bill.consumer_number
            )
        biller = services().billing.biller(bill.biller_id)
        consumer = mask(bill.consumer_number)
        if not bill.is_due:
            dispatcher.utter_message(
                response="utter_nothing_due", biller=biller.short_name, consumer=consumer
            )
            await offer_other_accounts(dispatcher, tracker, bill)
            return [
                SlotSet("goal", None),
                SlotSet("pending_confirmation", None),
                FollowupAction(LISTEN),
            ]
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
        return [SlotSet("pending_confirmation", "pay"), FollowupAction("confirm_form")]


def account_slots(bill: Bill) -> dict[str, str]:
    """The bill form's slots naming the account of `bill`."""
    utility = services().billing.biller(bill.biller_id).utility
    return {
        "utility": utility.value,
        "biller": bill.biller_id,
        "consumer_number": bill.consumer_number,
    }


async def offer_other_accounts(
    dispatcher: CollectingDispatcher, tracker: Tracker, shown: Bill
) -> None:
    """No dead end: the resident's other saved accounts, else another bill or the menu."""
    this = account_key(shown.biller_id, shown.consumer_number)
    others = [
        a
        for a in await saved_accounts(tracker)
        if account_key(a.biller_id, a.consumer_number) != this
    ]
    if not others:
        dispatcher.utter_message(response="utter_anything_else")
        return
    buttons = [account_button(a) for a in others[:MAX_ACCOUNT_BUTTONS]]
    dispatcher.utter_message(response="utter_other_accounts_due", buttons=buttons)


def payment_question(bill: Bill, biller: Biller) -> tuple[str, dict[str, str]]:
    """The yes/no question before a payment link: the response and its values."""
    quote = PaymentQuote(biller=biller, bill=bill)
    values = {
        "amount": format_rupees(bill.outstanding_paise),
        "fee": format_rupees(quote.fee_paise),
        "total": format_rupees(quote.total_paise),
    }
    return ("utter_confirm_payment" if quote.fee_paise else "utter_confirm_payment_no_fee"), values
