"""Power cuts: "bijli nahi hai" starts the bill form on the resident's electricity account
(goal: supply); once it has found the connection, what the company knows of outages there
is told and a no-power complaint is registered after a yes (confirm_form). The status of
those complaints is asked through track_complaint (actions/support.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import SKIP_SLOT, saved_accounts
from actions.forms import LISTEN, turn_of
from actions.replies import utter_error
from actions.runtime import ResidentAction, language, services
from bot import messages as texts
from bot.errors import BotError, NotLinked, SupplyComplaintNotFound
from bot.model.billing import Utility
from bot.model.calendar import format_datetime_ist
from bot.model.identifiers import mask
from bot.model.outages import Outage
from bot.model.residents import Language
from bot.services.supply import OutageNews, ticket_number_in

GOAL = "supply"
PENDING = "supply"  # confirm_form's question: register the complaint?
DESCRIPTION = "No supply, reported in chat"


class ActionStartSupply(ResidentAction):
    """The resident's one electricity account at once (no bill fetched: the company's own
    system says whether it knows the connection); else the bill form finds the connection
    the message names or asks (saved accounts as buttons), the utility set already."""

    def name(self) -> str:
        return "action_start_supply"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        entities = turn_of(tracker).entities
        named = {k: v for k, v in entities.items() if k in ("biller", "consumer_number")}
        if not named:
            accounts = await saved_accounts(tracker, Utility.ELECTRICITY)
            if len(accounts) == 1:
                only = accounts[0]
                # Straight to the outages and the question: through the bill form, a utility
                # named in the message ("light chali gayi") would read as a new choice.
                events = await offer_supply_complaint(
                    dispatcher, tracker, only.biller_id, only.consumer_number
                )
                return [
                    SlotSet("utility", Utility.ELECTRICITY.value),
                    SlotSet("biller", only.biller_id),
                    SlotSet("consumer_number", only.consumer_number),
                    SlotSet("bill", None),
                    SlotSet("goal", GOAL),
                    *events,
                ]
        return [
            SlotSet("utility", Utility.ELECTRICITY.value),
            SlotSet("biller", named.get("biller")),
            SlotSet("consumer_number", named.get("consumer_number")),
            SlotSet("bill", None),
            SlotSet(SKIP_SLOT, None),
            SlotSet("goal", GOAL),
            FollowupAction("bill_form"),
        ]


async def offer_supply_complaint(
    dispatcher: CollectingDispatcher, tracker: Tracker, biller_id: str, consumer_number: str
) -> list[dict[str, Any]]:
    """The connection is known: tell the company's outages there, then ask before
    registering anything."""
    values = _values(biller_id, consumer_number)
    try:
        news = await services().supply.outages(biller_id, consumer_number)
    except BotError as error:
        utter_error(dispatcher, error, **values)
        return [
            SlotSet("goal", None),
            SlotSet("pending_confirmation", None),
            FollowupAction(LISTEN),
        ]
    tell_outages(dispatcher, news, language(tracker), values)
    if not news.current and not news.ahead:
        dispatcher.utter_message(response="utter_supply_no_outage_known", **values)
    return [SlotSet("pending_confirmation", PENDING), FollowupAction("confirm_form")]


def ask_supply_confirmation(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """confirm_form's question for PENDING."""
    dispatcher.utter_message(
        response="utter_confirm_supply",
        **_values(tracker.get_slot("biller"), tracker.get_slot("consumer_number")),
    )


async def register_supply_complaint(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """The yes to "register a no-power complaint?"."""
    biller_id, number = tracker.get_slot("biller"), tracker.get_slot("consumer_number")
    values = _values(biller_id, number)
    done = [SlotSet("goal", None)]
    try:
        report = await services().supply.report(tracker.sender_id, biller_id, number, DESCRIPTION)
    except BotError as error:
        utter_error(dispatcher, error, **values)
        return done
    lang = language(tracker)
    status = texts.render(f"supply_status_{report.ticket.status.value}", lang)
    response = "utter_supply_already_open" if report.already_open else "utter_supply_registered"
    dispatcher.utter_message(
        response=response, ticket=report.ticket.ticket_number, status=status, **values
    )
    return done


async def tell_supply_status(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """ "Bijli ki complaint ka status", or a company's complaint number: the resident's own
    power complaints, as the company has them now. False when there is nothing of the kind
    to tell (the caller asks for a complaint number instead)."""
    text = turn_of(tracker).text
    try:
        statuses = await services().supply.status(tracker.sender_id, text)
    except SupplyComplaintNotFound:
        named = ticket_number_in(text)
        if named is None:
            return False
        dispatcher.utter_message(response="utter_supply_complaint_not_found", ticket=named)
        return True
    except NotLinked:
        return False
    except BotError as error:
        utter_error(dispatcher, error)
        return True
    lang = language(tracker)
    for found in statuses:
        complaint = found.complaint
        note = texts.render("supply_note", lang, note=complaint.note) if complaint.note else ""
        dispatcher.utter_message(
            response="utter_supply_status",
            ticket=complaint.ticket_number,
            biller=found.biller.short_name,
            consumer=mask(complaint.consumer_number),
            registered=format_datetime_ist(complaint.registered_at, lang),
            status=texts.render(f"supply_status_{complaint.status.value}", lang),
            note=note,
        )
    return True


def tell_outages(
    dispatcher: CollectingDispatcher, news: OutageNews, lang: Language, values: dict[str, str]
) -> None:
    for outage in news.current:
        dispatcher.utter_message(
            response="utter_supply_outage_now", **values, **_outage_values(outage, lang)
        )
    for outage in news.ahead:
        dispatcher.utter_message(
            response="utter_supply_outage_planned", **values, **_outage_values(outage, lang)
        )


def _outage_values(outage: Outage, lang: Language) -> dict[str, str]:
    return {
        "reason": outage.reason,
        "area": f" ({outage.area})" if outage.area else "",
        "starts": format_datetime_ist(outage.starts_at, lang),
        "until": format_datetime_ist(outage.ends_at, lang),
    }


def _values(biller_id: str | None, consumer_number: str | None) -> dict[str, str]:
    try:
        biller = services().billing.biller(biller_id or "").short_name
    except BotError:
        biller = biller_id or ""
    return {"biller": biller, "consumer": mask(consumer_number or "")}
