"""Complaints (a form: which payment, what went wrong, a few words), tracking them, and
handing the conversation to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.effects import raise_complaint_once
from actions.forms import LISTEN, RepairingFormValidation, is_certain, turn_of
from actions.payments import STATUS_ICONS
from actions.repair import Turn, keyword
from actions.replies import utter_error
from actions.runtime import ResidentAction, language, services
from actions.supply import tell_supply_status
from bot import messages as texts
from bot.errors import BotError, ComplaintNotFound, InvalidComplaint
from bot.model.calendar import IST, format_date, format_datetime_ist
from bot.model.complaints import Disposition, find_complaint_id
from bot.model.identifiers import mask
from bot.model.money import format_rupees
from bot.model.residents import Language

COMPLAINT_SLOTS = ("complaint_payment", "complaint_disposition", "complaint_description")
SERVICE = "service"
# Buttons and typed numbers pick a disposition; the order is the one the question lists.
DISPOSITIONS = [d for d in Disposition if d is not Disposition.SERVICE]


class ActionAskComplaintPayment(ResidentAction):
    """Offers the resident's recent payments as numbered buttons, and the service itself."""

    def name(self) -> str:
        return "action_ask_complaint_payment"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        payments = await services().complaints.payments_to_complain_about(tracker.sender_id)
        lang = language(tracker)
        buttons = [
            {
                "title": " · ".join(
                    (
                        f"{number}. {STATUS_ICONS[p.status]}",
                        format_date(p.created_at.astimezone(IST).date(), lang),
                        services().billing.biller(p.biller_id).short_name,
                        mask(p.consumer_number),
                        format_rupees(p.total_paise),
                    )
                ),
                "payload": str(number),
            }
            for number, p in enumerate(payments, start=1)
        ]
        buttons.append({"title": texts.render("complaint_about_service", lang), "payload": SERVICE})
        response = "utter_ask_complaint_payment" if payments else "utter_ask_complaint_no_payments"
        dispatcher.utter_message(response=response, buttons=buttons)
        return []


def about_the_service(typed: str) -> bool:
    """The "About the service" choice, pressed or typed in either language."""
    titles = {texts.render("complaint_about_service", lang).casefold() for lang in Language}
    return keyword(typed) in {keyword(t) for t in (SERVICE, "सेवा", *titles)}


class ValidateComplaintForm(RepairingFormValidation):
    slots = COMPLAINT_SLOTS

    def name(self) -> str:
        return "validate_complaint_form"

    def fits(self, slot: str, turn: Turn, tracker: Tracker) -> bool:
        choice = turn.text.strip().casefold()
        if slot == "complaint_payment":
            return choice.isdigit() or about_the_service(choice)
        if slot == "complaint_disposition":
            return choice.isdigit() or choice in {d.value for d in Disposition}
        # The description is free text: anything but a clear request to stop or for a person.
        return turn.intent not in ("deny", "help", "talk_to_human") or turn.confidence < 0.85

    async def validate_complaint_payment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        choice = str(value).strip().casefold()
        if about_the_service(choice):
            return {"complaint_payment": SERVICE, "complaint_disposition": SERVICE}
        payments = await services().complaints.payments_to_complain_about(tracker.sender_id)
        if choice.isdigit() and 1 <= int(choice) <= len(payments):
            return {"complaint_payment": payments[int(choice) - 1].payment_id}
        dispatcher.utter_message(response="utter_complaint_choice_invalid")
        return {"complaint_payment": None}

    async def validate_complaint_disposition(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        choice = str(value).strip().casefold()
        if choice.isdigit() and 1 <= int(choice) <= len(DISPOSITIONS):
            return {"complaint_disposition": DISPOSITIONS[int(choice) - 1].value}
        if choice in {d.value for d in Disposition}:
            return {"complaint_disposition": choice}
        dispatcher.utter_message(response="utter_complaint_choice_invalid")
        return {"complaint_disposition": None}

    async def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if len(str(value).strip()) < 3:
            dispatcher.utter_message(response="utter_complaint_description_short")
            return {"complaint_description": None}
        return {"complaint_description": str(value).strip()}


class ActionRaiseComplaint(ResidentAction):
    def name(self) -> str:
        return "action_raise_complaint"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        done = _cleared()
        payment = tracker.get_slot("complaint_payment")
        try:
            complaint = await raise_complaint_once(
                tracker,
                Disposition(tracker.get_slot("complaint_disposition") or SERVICE),
                tracker.get_slot("complaint_description") or "",
                None if payment in (None, SERVICE) else payment,
            )
        except (InvalidComplaint, ValueError):
            dispatcher.utter_message(response="utter_complaint_invalid")
            return done
        except BotError as error:
            utter_error(dispatcher, error)
            return done
        dispatcher.utter_message(
            response="utter_complaint_raised", complaint_id=complaint.complaint_id
        )
        return done


class ActionTrackComplaint(ResidentAction):
    def name(self) -> str:
        return "action_track_complaint"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        complaint_id = find_complaint_id(tracker.latest_message.get("text") or "")
        if complaint_id is None:
            # Not one of ours ("RJC…"): a power complaint with the company, by its number
            # or the latest; else ask for the number.
            if not await tell_supply_status(dispatcher, tracker):
                dispatcher.utter_message(response="utter_ask_complaint_id")
            return []
        try:
            complaint = await services().complaints.status(tracker.sender_id, complaint_id)
        except ComplaintNotFound:
            dispatcher.utter_message(
                response="utter_complaint_not_found", complaint_id=complaint_id
            )
            return []
        except BotError as error:
            utter_error(dispatcher, error)
            return []
        lang = language(tracker)
        dispatcher.utter_message(
            response="utter_complaint_status",
            complaint_id=complaint.complaint_id,
            status=texts.render(f"complaint_status_{complaint.status.value}", lang),
            raised_on=format_datetime_ist(complaint.created_at, lang),
        )
        return []


class ActionTalkToHuman(ResidentAction):
    """A person is asked for only when the resident clearly asked; a guess asks first, since
    the bot falls silent for as long as the conversation waits for an agent."""

    def name(self) -> str:
        return "action_talk_to_human"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if not is_certain(turn_of(tracker), "talk_to_human"):
            return [
                SlotSet("pending_confirmation", "talk_to_human"),
                FollowupAction("confirm_form"),
            ]
        said = turn_of(tracker).text
        said = "" if said.startswith("/") else said
        return [*await request_person(dispatcher, tracker, said), FollowupAction(LISTEN)]


async def request_person(
    dispatcher: CollectingDispatcher, tracker: Tracker, said: str = ""
) -> list[dict[str, Any]]:
    """Put the conversation in the agent queue (`said`, the request, starts the agent's
    transcript) and say when someone will answer."""
    requested = await services().handoff.request(tracker.sender_id, said)
    if requested.answer_by is None:
        dispatcher.utter_message(response="utter_handoff_queued")
    else:
        dispatcher.utter_message(
            response="utter_handoff_after_hours",
            when=format_datetime_ist(requested.answer_by, language(tracker)),
        )
    return []


def _cleared() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in COMPLAINT_SLOTS]
