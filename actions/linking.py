"""Linking a chat to an SSO ID (the link form), unlinking, and leaving a form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.effects import send_code_once
from actions.replies import utter_error
from actions.runtime import ResidentAction, ResidentFormValidation, container
from bot.errors import BotError, NoPendingLink, OtpAttemptsExceeded, OtpExpired
from bot.model.identifiers import mask_name
from integrations.tasks.reminders import reminder_consents

FORM_SLOTS = ("sso_id", "otp", "utility", "biller", "consumer_number")


class ValidateLinkForm(ResidentFormValidation):
    def name(self) -> str:
        return "validate_link_form"

    async def validate_sso_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            started = await send_code_once(tracker, str(value))
        except BotError as error:
            utter_error(dispatcher, error)
            return {"sso_id": None}
        dispatcher.utter_message(
            response="utter_otp_sent", mobile=started.masked_mobile, minutes=started.valid_minutes
        )
        return {"sso_id": started.sso_id}

    async def validate_otp(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            await container().linking.verify(tracker.sender_id, str(value))
        except (OtpExpired, OtpAttemptsExceeded, NoPendingLink) as error:
            utter_error(dispatcher, error)
            return {"otp": None, "sso_id": None}  # back to asking the SSO ID for a new code
        except BotError as error:
            utter_error(dispatcher, error)
            return {"otp": None}
        # The slot only marks the step done; the code itself is never kept.
        return {"otp": "verified", "linked": True}


class ActionLinkCompleted(ResidentAction):
    def name(self) -> str:
        return "action_link_completed"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SlotSet("sso_id", None), SlotSet("otp", None)]
        resident = await container().conversations.resident(tracker.sender_id)
        if resident is None:  # the code was used by a concurrent turn that failed later
            dispatcher.utter_message(response="utter_not_linked")
            return [*events, SlotSet("linked", False)]
        dispatcher.utter_message(response="utter_linked", name=mask_name(resident.name))
        # Linking is when reminder consent is asked for and recorded (with its time).
        await reminder_consents(container()).record_at_linking(
            resident.resident_id, tracker.sender_id, resident.language
        )
        dispatcher.utter_message(response="utter_reminders_consent_note")
        events += [SlotSet("linked", True), SlotSet("language", resident.language.value)]
        if tracker.get_slot("goal") in ("check", "pay"):
            return [*events, FollowupAction("bill_form")]  # carry on with what they came for
        dispatcher.utter_message(response="utter_linked_next")
        return events


class ActionConfirmUnlink(ResidentAction):
    def name(self) -> str:
        return "action_confirm_unlink"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if await container().conversations.resident(tracker.sender_id) is None:
            dispatcher.utter_message(response="utter_not_linked")
            return [SlotSet("pending_confirmation", None), SlotSet("linked", False)]
        dispatcher.utter_message(response="utter_confirm_unlink")
        return [SlotSet("pending_confirmation", "unlink")]


class ActionUnlinkAccount(ResidentAction):
    def name(self) -> str:
        return "action_unlink_account"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        was_linked = await container().linking.unlink(tracker.sender_id)
        dispatcher.utter_message(response="utter_unlinked" if was_linked else "utter_not_linked")
        return [
            SlotSet("pending_confirmation", None),
            SlotSet("linked", False),
            *[SlotSet(name, None) for name in FORM_SLOTS],
        ]


class ActionCancelForm(ResidentAction):
    def name(self) -> str:
        return "action_cancel_form"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_cancelled")
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("goal", None),
            *[SlotSet(name, None) for name in FORM_SLOTS],
        ]
