"""The bill form: utility → company → consumer number, with the bill fetched as soon as the
number is known; its questions and the answers it explains (actions/repair.py decides when)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import (
    BILL_SLOTS,
    MAX_ACCOUNT_BUTTONS,
    SKIP_SLOT,
    account_button,
    account_key,
    bill_from_slot,
    bill_slot,
    biller_button,
    saved_accounts,
    sole_account,
)
from actions.forms import RepairingFormValidation, turn_of
from actions.repair import ANSWERING_INTENTS, Turn, yes_or_no
from actions.replies import utter_error
from actions.runtime import ResidentAction, services
from bot.errors import AmbiguousBiller, BotError, NotLinked, UnknownBiller
from bot.model.billing import Utility, parse_utility
from bot.model.identifiers import ascii_digits, mask, normalise_number

OFFER_SLOT = "offered_biller"
# "town|id,id": the companies the resident's words named, which the next question offers.
CHOICES_SLOT = "biller_choices"
# Channels that show a picture: a sample bill with the consumer number marked.
PICTURE_CHANNELS = frozenset({"webchat", "whatsapp", "telegram"})


async def fetch_into_slots(
    dispatcher: CollectingDispatcher, tracker: Tracker, biller_id: str, typed_number: str
) -> dict[str, Any]:
    """Only a number the biller knows completes the bill form: the bill is fetched here,
    once, and kept in the `bill` slot for action_show_bill. Errors ask for the number again."""
    billing = services().billing
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
            return {
                "consumer_number": None,
                "bill": None,
                OFFER_SLOT: f"{other.biller_id}|{number}",
            }
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
        if any(k in turn.entities for k in BILL_SLOTS) and turn.intent in ANSWERING_INTENTS:
            return True  # an answer, or a correction of an earlier one ("nahi, pani ka bill")
        return self.fits_alone(slot, turn, tracker)

    def fits_alone(self, slot: str, turn: Turn, tracker: Tracker) -> bool:
        """The typed text is itself an answer to `slot` (not only an entity of another)."""
        if slot == "utility":
            return parse_utility(turn.text) is not None
        if slot == "biller":
            return self._names_a_biller(turn.text, tracker) or 8 <= len(_digits(turn.text)) <= 14
        if slot == "consumer_number":
            digits = _digits(turn.text)
            return 6 <= len(digits) <= 16 and len(digits) * 2 >= len(turn.text.replace(" ", ""))
        return False

    def _names_a_company(self, tracker: Tracker) -> bool:
        """This message names the company too ("JVVNL ka bill"), so validate_biller sets it."""
        turn = turn_of(tracker)
        return "biller" in turn.entities or (
            "biller" in tracker.slots_to_validate() and self._names_a_biller(turn.text, tracker)
        )

    def _names_a_biller(self, text: str, tracker: Tracker) -> bool:
        utility = parse_utility(tracker.get_slot("utility") or "")
        try:
            services().billing.resolve_biller(text, utility)
        except AmbiguousBiller:
            return True
        except UnknownBiller:
            return False
        return True

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        offered = tracker.get_slot(OFFER_SLOT)
        if offered and tracker.get_slot("requested_slot") == "consumer_number":
            answer = yes_or_no(turn_of(tracker))
            if answer is not None:
                return await self._answer_offer(answer, offered, dispatcher, tracker)
        events = await super().run(dispatcher, tracker, domain)
        if offered and not any(e.get("name") == OFFER_SLOT for e in events):
            events.append(SlotSet(OFFER_SLOT, None))  # answered otherwise: the offer lapses
        return events

    async def _answer_offer(
        self, yes: bool, offered: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """A typed yes or no to "that number fits TPADL: is your bill from TPADL?"."""
        if not yes:  # then it was mistyped: the same question again
            return [SlotSet(OFFER_SLOT, None), SlotSet("consumer_number", None)]
        biller_id, number = offered.split("|", 1)
        slots = {
            "biller": biller_id,
            **await fetch_into_slots(dispatcher, tracker, biller_id, number),
        }
        return [SlotSet(OFFER_SLOT, None), *[SlotSet(k, v) for k, v in slots.items()]]

    def _correcting_another(self, slot: str, tracker: Tracker) -> bool:
        """The message names another slot's answer and says nothing for `slot` itself
        ("sorry, I meant AVVNL" while the number is asked): no error about `slot`."""
        turn = turn_of(tracker)
        if turn.payload and slot in turn.entities:
            # A button (a saved account's, "Pay ₹…" under a bill copy) names every slot it
            # fills: none of them corrects another. Its text is the payload, which fits none.
            return False
        others = set(turn.entities) & (set(BILL_SLOTS) - {slot})
        return bool(others) and not self.fits_alone(slot, turn, tracker)

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
        if not self._names_a_company(tracker):
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
            elif len(companies := services().billing.billers_for(utility)) == 1:
                slots["biller"] = companies[0].biller_id  # water is PHED: nothing to ask
        return slots

    async def validate_biller(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or self._correcting_another("biller", tracker):
            return {"biller": None}
        billing = services().billing
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
            return {"biller": None, CHOICES_SLOT: choices_of(ambiguous)}  # asked next, once
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
        fitting = services().billing.billers_fitting(number, utility)
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
        if value is None or self._correcting_another("consumer_number", tracker):
            return {"consumer_number": None}
        biller_id = tracker.get_slot("biller")
        typed = next(tracker.get_latest_entity_values("consumer_number"), None) or str(value)
        if typed.startswith("/"):
            return {"consumer_number": None}  # a button without a number: just ask again
        if not biller_id:
            return {"consumer_number": typed}  # checked once the company is known
        return await fetch_into_slots(dispatcher, tracker, biller_id, typed)


def choices_of(ambiguous: AmbiguousBiller) -> str:
    """What the company question offers next ("town|id,id"): only the companies named."""
    ids = ",".join(b.biller_id for b in ambiguous.candidates)
    return f"{ambiguous.town or ''}|{ids}"


def ask_which(dispatcher: CollectingDispatcher, choices: str) -> None:
    """The company question narrowed to the companies the resident's words named."""
    town, _, ids = choices.partition("|")
    billers = [services().billing.biller(b) for b in ids.split(",") if b]
    names = ", ".join(f"{b.short_name} ({b.name})" for b in billers)
    buttons = [biller_button(b) for b in billers]
    if town:
        dispatcher.utter_message(
            response="utter_biller_ambiguous", town=town.title(), choices=names, buttons=buttons
        )
    else:
        dispatcher.utter_message(response="utter_which_of_these", choices=names, buttons=buttons)


def explain_consumer_number(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Where the number is printed on this company's bill; a marked sample bill where the
    channel shows pictures."""
    biller_id = tracker.get_slot("biller")
    if not biller_id:
        dispatcher.utter_message(response="utter_explain_consumer_number_generic")
        return
    biller = services().billing.biller(biller_id)
    dispatcher.utter_message(
        response="utter_explain_consumer_number",
        param_name=biller.param_name,
        rule=biller.describe_rule(),
        biller=biller.short_name,
    )
    if tracker.get_latest_input_channel() in PICTURE_CHANNELS:
        base = services().public_base_url.rstrip("/")
        kind = biller.utility.value
        attachment = {
            "url": f"{base}/static/sample-bills/{kind}.png",
            "filename": f"sample-{kind}-bill.png",
            "mime": "image/png",
        }
        dispatcher.utter_message(json_message={"attachment": attachment})


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
        choices = tracker.get_slot(CHOICES_SLOT)
        if choices:  # "Ajmer": TP Ajmer or AVVNL, not all seven again
            ask_which(dispatcher, choices)
            return [SlotSet(CHOICES_SLOT, None)]
        utility = parse_utility(tracker.get_slot("utility") or "") or Utility.ELECTRICITY
        accounts = await saved_accounts(tracker, utility)
        buttons = [account_button(a) for a in accounts[:MAX_ACCOUNT_BUTTONS]]
        buttons += [biller_button(b) for b in services().billing.billers_for(utility)]
        dispatcher.utter_message(response="utter_ask_biller", buttons=buttons)
        return []


class ActionAskConsumerNumber(ResidentAction):
    def name(self) -> str:
        return "action_ask_consumer_number"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        biller = services().billing.biller(tracker.get_slot("biller"))
        dispatcher.utter_message(
            response="utter_ask_consumer_number",
            param_name=biller.param_name,
            rule=biller.describe_rule(),
            biller=biller.short_name,
        )
        return []
