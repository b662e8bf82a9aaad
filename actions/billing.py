"""The bill form (utility → company → consumer number), starting it, and showing the bill."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import LISTEN, RepairingFormValidation, turn_of
from actions.repair import Turn
from actions.replies import utter_error
from actions.runtime import ResidentAction, container, language
from bot.errors import AmbiguousBiller, BotError, NotLinked, UnknownBiller
from bot.model.billing import Bill, Biller, SavedAccount, Utility, parse_utility
from bot.model.calendar import format_date
from bot.model.identifiers import ascii_digits, mask, mask_name, normalise_number
from bot.model.money import format_rupees
from bot.services.payments import PaymentQuote

UTILITY_ICONS = {Utility.ELECTRICITY: "⚡", Utility.WATER: "💧", Utility.GAS: "🔥"}
BILL_SLOTS = ("utility", "biller", "consumer_number")
# The saved account to leave out of pre-filling and the offered buttons: the one just shown,
# when the resident asked for "another bill".
SKIP_SLOT = "skip_account"
ANOTHER_WORDS = frozenset("another other dusra doosra dusre doosre दूसरा दूसरे दूसरी aur और".split())
# Channels that show a picture: a sample bill with the consumer number marked.
PICTURE_CHANNELS = frozenset({"webchat", "whatsapp", "telegram"})
# Button-only options, kept off the list on SMS where each one costs characters.
MAX_ACCOUNT_BUTTONS = 4


def account_key(biller_id: str, consumer_number: str) -> str:
    return f"{biller_id}|{consumer_number}"


def account_label(account: SavedAccount) -> str:
    """How a saved account is named to its owner: company and masked consumer number."""
    biller = container().billing.biller(account.biller_id)
    return f"{biller.short_name} {mask(account.consumer_number)}"


def account_payload(account: SavedAccount) -> str:
    """A one-tap choice of a saved account: the payload fills all three form slots."""
    entities = {
        "utility": account.utility.value,
        "biller": account.biller_id,
        "consumer_number": account.consumer_number,
    }
    return "/inform" + json.dumps(entities)


def account_button(account: SavedAccount) -> dict[str, str]:
    return {
        "title": f"{UTILITY_ICONS[account.utility]} {account_label(account)}",
        "payload": account_payload(account),
    }


def biller_button(biller: Biller, consumer_number: str | None = None) -> dict[str, str]:
    entities = {"biller": biller.biller_id}
    if consumer_number:
        entities["consumer_number"] = consumer_number
    return {"title": biller.short_name, "payload": "/inform" + json.dumps(entities)}


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
    """The resident's saved accounts, without the one they asked to move away from."""
    if not tracker.get_slot("linked"):
        return []
    try:
        accounts = await container().billing.saved_accounts(tracker.sender_id, utility)
    except NotLinked:
        return []
    skip = tracker.get_slot(SKIP_SLOT)
    return [a for a in accounts if account_key(a.biller_id, a.consumer_number) != skip]


async def sole_account(
    tracker: Tracker, utility: Utility, biller_id: str | None = None
) -> SavedAccount | None:
    """The account to pre-fill when the resident names a utility (or a company): their only
    saved account for it, unless that is the one they asked to move away from."""
    accounts = [
        a
        for a in await saved_accounts(tracker, utility)
        if biller_id is None or a.biller_id == biller_id
    ]
    return accounts[0] if len(accounts) == 1 else None


async def fetch_into_slots(
    dispatcher: CollectingDispatcher, tracker: Tracker, biller_id: str, typed_number: str
) -> dict[str, Any]:
    """Only a number the biller knows completes the bill form: the bill is fetched here,
    once, and kept in the `bill` slot for action_show_bill. Errors ask for the number again."""
    billing = container().billing
    biller = billing.biller(biller_id)
    number = normalise_number(typed_number)
    if not biller.accepts(number):
        others = billing.billers_fitting(number, biller.utility)
        if others:  # a TPADL number typed for AVVNL: offer the company it fits
            other = others[0]
            dispatcher.utter_message(
                response="utter_number_fits_other_biller",
                length=str(len(number)),
                other=other.short_name,
                other_name=other.name,
                biller=biller.short_name,
                buttons=[biller_button(b, number) for b in others],
            )
            return {"consumer_number": None, "bill": None}
    try:
        fetched = await billing.fetch(tracker.sender_id, biller_id, typed_number)
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
            consumer=mask(number),
        )
        return {"consumer_number": None, "bill": None}
    return {"consumer_number": fetched.bill.consumer_number, "bill": bill_slot(fetched.bill)}


def _digits(text: str) -> str:
    return "".join(c for c in ascii_digits(text) if c.isdigit())


class ValidateBillForm(RepairingFormValidation):
    slots = (*BILL_SLOTS, "bill")

    def name(self) -> str:
        return "validate_bill_form"

    def fits(self, slot: str, turn: Turn, tracker: Tracker) -> bool:
        if any(k in turn.entities for k in BILL_SLOTS):
            return True  # an answer, or a correction of an earlier one
        if slot == "utility":
            return parse_utility(turn.text) is not None
        if slot == "biller":
            return self._names_a_biller(turn.text, tracker) or 8 <= len(_digits(turn.text)) <= 14
        if slot == "consumer_number":
            digits = _digits(turn.text)
            return 6 <= len(digits) <= 16 and len(digits) * 2 >= len(turn.text.replace(" ", ""))
        return False

    def _names_a_biller(self, text: str, tracker: Tracker) -> bool:
        utility = parse_utility(tracker.get_slot("utility") or "")
        try:
            container().billing.resolve_biller(text, utility)
        except AmbiguousBiller:
            return True
        except UnknownBiller:
            return False
        return True

    async def explain(
        self, target: str, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if target == "explain_consumer_number":
            explain_consumer_number(dispatcher, tracker)
            return []
        if target == "explain_biller":
            dispatcher.utter_message(response="utter_explain_biller")
            return []
        dispatcher.utter_message(response=target)
        return []

    async def restart(self, tracker: Tracker) -> list[dict[str, Any]]:
        """ "Another bill" in the middle of the form: from the first question again."""
        shown = bill_from_slot(tracker.get_slot("bill"))
        skip = account_key(shown.biller_id, shown.consumer_number) if shown else None
        return [*[SlotSet(name, None) for name in self.slots], SlotSet(SKIP_SLOT, skip)]

    async def validate_utility(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        utility = parse_utility(str(value)) if value is not None else None
        if utility is None:
            if value is None or "biller" in tracker.slots_to_validate():
                return {"utility": None}  # "JVVNL" typed here: validate_biller sets both
            dispatcher.utter_message(response="utter_utility_unknown")
            return {"utility": None}
        slots: dict[str, Any] = {"utility": utility.value}
        if "biller" not in tracker.slots_to_validate():
            # A newly named utility: forget the company and number of the previous one, and
            # pre-fill them when the resident has exactly one saved account for it.
            only = await sole_account(tracker, utility)
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
        if value is None:
            return {"biller": None}
        billing = container().billing
        utility = parse_utility(tracker.get_slot("utility") or "")
        typed = turn_of(tracker).text
        asked = tracker.get_slot("requested_slot") == "biller"
        if asked and not typed.startswith("/") and 8 <= len(_digits(typed)) <= 14:
            return await self._number_typed_for_biller(dispatcher, tracker, _digits(typed))
        named = next((b for b in billing.billers_for_all() if b.biller_id == value), None)
        if named and utility and named.utility is not utility:
            # "Jaipur gas bill": the city named Jaipur's electricity company; ask instead.
            return {"biller": None}
        try:
            # The words typed first: "Ajmer" is two companies, though the NLU maps it to one.
            biller = billing.resolve_biller(value if typed.startswith("/") else typed, utility)
        except AmbiguousBiller as ambiguous:
            ask_which(dispatcher, ambiguous)
            return {"biller": None}
        except UnknownBiller:
            try:
                biller = billing.resolve_biller(str(value), utility)
            except UnknownBiller:
                dispatcher.utter_message(response="utter_biller_unknown")
                return {"biller": None}
        slots: dict[str, Any] = {"biller": biller.biller_id, "utility": biller.utility.value}
        if "consumer_number" not in tracker.slots_to_validate():
            kept = tracker.get_slot("consumer_number")  # typed before the company was known
            only = await sole_account(tracker, biller.utility, biller.biller_id)
            number = kept if kept and biller.accepts(normalise_number(kept)) else None
            number = number or (only.consumer_number if only else None)
            slots.update(consumer_number=None, bill=None)
            if number:
                slots.update(await fetch_into_slots(dispatcher, tracker, biller.biller_id, number))
        return slots

    async def _number_typed_for_biller(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str
    ) -> dict[str, Any]:
        """The consumer number typed when the company was asked: kept, and the company is
        the one whose numbers look like it, or asked for (the buttons follow)."""
        utility = parse_utility(tracker.get_slot("utility") or "") or Utility.ELECTRICITY
        fitting = container().billing.billers_fitting(number, utility)
        if len(fitting) == 1:
            biller = fitting[0]
            return {
                "biller": biller.biller_id,
                **await fetch_into_slots(dispatcher, tracker, biller.biller_id, number),
            }
        dispatcher.utter_message(response="utter_number_kept", consumer=mask(number))
        return {"biller": None, "consumer_number": number}

    async def validate_consumer_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"consumer_number": None}
        biller_id = tracker.get_slot("biller")
        typed = next(tracker.get_latest_entity_values("consumer_number"), None) or str(value)
        if typed.startswith("/"):
            return {"consumer_number": None}  # a button without a number: just ask again
        if not biller_id:
            return {"consumer_number": typed}  # checked once the company is known
        return await fetch_into_slots(dispatcher, tracker, biller_id, typed)


def ask_which(dispatcher: CollectingDispatcher, ambiguous: AmbiguousBiller) -> None:
    names = ", ".join(f"{b.short_name} ({b.name})" for b in ambiguous.candidates)
    dispatcher.utter_message(
        response="utter_biller_ambiguous",
        town=ambiguous.typed.strip().title(),
        choices=names,
        buttons=[biller_button(b) for b in ambiguous.candidates],
    )


def explain_consumer_number(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Where the number is printed on this company's bill; a marked sample bill where the
    channel shows pictures."""
    biller_id = tracker.get_slot("biller")
    if not biller_id:
        dispatcher.utter_message(response="utter_explain_consumer_number_generic")
        return
    biller = container().billing.biller(biller_id)
    dispatcher.utter_message(
        response="utter_explain_consumer_number",
        param_name=biller.param_name,
        rule=biller.describe_rule(),
        biller=biller.short_name,
    )
    if tracker.get_latest_input_channel() in PICTURE_CHANNELS:
        base = container().settings.public_base_url.rstrip("/")
        kind = biller.utility.value
        attachment = {
            "url": f"{base}/static/sample-bills/{kind}.png",
            "filename": f"sample-{kind}-bill.png",
            "mime": "image/png",
        }
        dispatcher.utter_message(json_message={"attachment": attachment})


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
        if turn.intent not in ("check_bill", "pay_bill") and not named:
            # Carrying on after linking: the request ("bijli ka bill") was a few turns ago,
            # and what it named is in the slots already.
            return [SlotSet("bill", None), SlotSet(SKIP_SLOT, None), FollowupAction("bill_form")]
        events: list[dict[str, Any]] = [SlotSet(name, named.get(name)) for name in BILL_SLOTS]
        events.append(SlotSet("bill", None))
        shown = bill_from_slot(tracker.get_slot("bill"))
        words = set(turn.text.casefold().split())
        if shown is not None and words & ANOTHER_WORDS:
            events.append(SlotSet(SKIP_SLOT, account_key(shown.biller_id, shown.consumer_number)))
        else:
            events.append(SlotSet(SKIP_SLOT, None))
        if tracker.get_slot("goal") not in ("check", "pay"):
            events.append(SlotSet("goal", "check"))
        return [*events, FollowupAction("bill_form")]


class ActionAskUtility(ResidentAction):
    def name(self) -> str:
        return "action_ask_utility"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # One message, one list: the saved accounts first, then the three utilities.
        accounts = await saved_accounts(tracker)
        buttons = [account_button(a) for a in accounts[:MAX_ACCOUNT_BUTTONS]]
        dispatcher.utter_message(response="utter_ask_utility", buttons=buttons)
        return []


class ActionAskBiller(ResidentAction):
    def name(self) -> str:
        return "action_ask_biller"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        utility = parse_utility(tracker.get_slot("utility") or "") or Utility.ELECTRICITY
        accounts = await saved_accounts(tracker, utility)
        buttons = [account_button(a) for a in accounts[:MAX_ACCOUNT_BUTTONS]]
        buttons += [biller_button(b) for b in container().billing.billers_for(utility)]
        dispatcher.utter_message(response="utter_ask_biller", buttons=buttons)
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
        biller = container().billing.biller(bill.biller_id)
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
