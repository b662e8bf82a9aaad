"""Email for receipts and reminders (issue 16): the address and its code (email_form), the
confirmation, and removal after a yes.

The code never reaches here: the gateway checks it and passes on only the outcome,
`/inform{"email_code_result": ...}` (`bot.services.email_opt_in.EmailOptIn.check_typed_code`),
so a code that arrives late works wherever the conversation has gone meanwhile.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import LISTEN, RepairingFormValidation, turn_of
from actions.repair import Turn
from actions.runtime import ResidentAction, services
from bot.errors import (
    BotError,
    EmailUnavailable,
    InvalidEmail,
    NoPendingEmail,
    NotLinked,
    TooManyEmailCodes,
)
from bot.model.email import find_email

EMAIL_SLOTS = ("email_address", "email_code")
# The response for each failure the gateway's code check can report.
CODE_RESPONSES = {
    "expired": "utter_email_code_expired",
    "attempts_exceeded": "utter_email_code_attempts_exceeded",
    "unavailable": "utter_service_unavailable",
}
# After these the code is void: the address is asked again, for a new code.
ENDS_CODE = frozenset({"expired", "attempts_exceeded"})
_START_ERRORS = {
    InvalidEmail: "utter_email_invalid",
    TooManyEmailCodes: "utter_email_too_many_codes",
    EmailUnavailable: "utter_email_unavailable",
    NotLinked: "utter_not_linked",
}


def say_email_code_outcome(result: str, dispatcher: CollectingDispatcher) -> dict[str, Any] | None:
    """Say why a code failed; the slots to set, or None when the code was verified."""
    if result == "verified":
        return None
    if result.startswith("wrong:"):
        dispatcher.utter_message(response="utter_email_code_wrong", attempts_left=result[6:])
        return {"email_code": None}
    dispatcher.utter_message(response=CODE_RESPONSES.get(result, "utter_service_unavailable"))
    if result in ENDS_CODE:
        return {"email_code": None, "email_address": None}
    return {"email_code": None}


def _say_start_error(dispatcher: CollectingDispatcher, error: BotError) -> None:
    response = next(
        (name for kind, name in _START_ERRORS.items() if isinstance(error, kind)),
        "utter_service_unavailable",
    )
    dispatcher.utter_message(response=response)


class ValidateEmailForm(RepairingFormValidation):
    slots = EMAIL_SLOTS

    def name(self) -> str:
        return "validate_email_form"

    def fits(self, slot: str, turn: Turn, tracker: Tracker) -> bool:
        if slot == "email_code":
            return "email_code_result" in turn.entities
        return find_email(turn.text) is not None

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # A code checked by the gateway, whichever question the form is on (a late code).
        result = turn_of(tracker).entities.get("email_code_result")
        slot = tracker.get_slot("requested_slot")
        if result is not None and slot:
            failed = say_email_code_outcome(result, dispatcher)
            if failed is None:
                return [SlotSet("email_address", "confirmed"), SlotSet("email_code", "verified")]
            return [SlotSet(name, value) for name, value in {slot: None, **failed}.items()]
        if slot == "email_code" and find_email(turn_of(tracker).text) is not None:
            # Another address while the code is awaited (a typo seen too late): the code goes
            # to the corrected one instead, within the same limits.
            filled = await self.validate_email_address(None, dispatcher, tracker, domain)
            return [SlotSet("email_address", filled["email_address"]), SlotSet("email_code", None)]
        return await super().run(dispatcher, tracker, domain)

    async def resend(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        try:
            sent = await services().email.resend(tracker.sender_id)
        except NoPendingEmail:
            dispatcher.utter_message(response="utter_email_code_expired")
            return [SlotSet("email_address", None)]
        except BotError as error:
            _say_start_error(dispatcher, error)
            return []
        dispatcher.utter_message(response="utter_email_code_resent", email=sent.masked_address)
        return []

    async def validate_email_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        typed = turn_of(tracker).text
        if find_email(typed) is None:
            typed = str(value)  # the entity the NLU found when the form began
        try:
            sent = await services().email.start(tracker.sender_id, typed)
        except BotError as error:
            _say_start_error(dispatcher, error)
            return {"email_address": None}
        dispatcher.utter_message(
            response="utter_email_code_sent", email=sent.masked_address, minutes=sent.valid_minutes
        )
        # The slot keeps the masked address only: the tracker never needs the whole of it.
        return {"email_address": sent.masked_address}

    async def validate_email_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Reached only with text that was not a code: the gateway turns every code into an
        # email_code_result, which run() handles.
        dispatcher.utter_message(response="utter_email_code_format")
        return {"email_code": None}


class ActionEmailCompleted(ResidentAction):
    """The code was right: say where receipts and reminders now go (masked)."""

    def name(self) -> str:
        return "action_email_completed"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SlotSet(name, None) for name in EMAIL_SLOTS]
        address = await services().email.address(tracker.sender_id)
        if address is None:  # unlinked, or removed, in the meantime
            dispatcher.utter_message(response="utter_no_email")
        else:
            dispatcher.utter_message(response="utter_email_added", email=address)
        return [*events, FollowupAction(LISTEN)]


class ActionConfirmRemoveEmail(ResidentAction):
    """Removing the address is only done after an explicit yes (confirm_form)."""

    def name(self) -> str:
        return "action_confirm_remove_email"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        address = await services().email.address(tracker.sender_id)
        if address is None:
            # A code on its way is void too: "remove my email" means stop, whatever the state.
            await services().email.remove(tracker.sender_id)
            dispatcher.utter_message(response="utter_no_email")
            return [FollowupAction(LISTEN)]
        # confirm_form asks (actions/confirmation.py), naming the address masked.
        return [SlotSet("pending_confirmation", "remove_email"), FollowupAction("confirm_form")]


async def remove_email(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """The yes to "remove r•••@gmail.com?"."""
    if await services().email.remove(tracker.sender_id):
        dispatcher.utter_message(response="utter_email_removed")
    else:
        dispatcher.utter_message(response="utter_no_email")
    return []
