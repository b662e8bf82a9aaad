"""Linking a chat to an SSO ID (the link form), resending a code that did not come, unlinking.

The resident's code never reaches here: the gateway checks a typed code before Rasa sees
the message and passes on only the outcome, `/inform{"otp_result": ...}`
(`bot.services.linking.LinkingService.check_typed_code`). That also makes a code that
arrives late work wherever the conversation has gone meanwhile.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.effects import resend_code_once, send_code_once
from actions.forms import LISTEN, RepairingFormValidation, turn_of
from actions.repair import LEAVE_CONFIDENCE, Turn
from actions.replies import utter_error
from actions.runtime import ResidentAction, language, services
from bot.errors import BotError, NoPendingLink, OtpLockedOut, TooManyOtpRequests
from bot.model.calendar import format_time_ist
from bot.model.identifiers import find_sso_id, mask_name

LINK_SLOTS = ("sso_id", "otp")
FORM_SLOTS = ("sso_id", "otp", "utility", "biller", "consumer_number")
# What the gateway's code check can answer (otp_result), and the response for each failure.
OTP_RESPONSES = {
    "expired": "utter_otp_expired",
    "attempts_exceeded": "utter_otp_attempts_exceeded",
    "locked": "utter_otp_locked",
    "none": "utter_no_code_pending",
    "unavailable": "utter_sso_unavailable",
}
# After these the code is gone: the SSO ID is asked again for a new one.
ENDS_CHALLENGE = frozenset({"expired", "attempts_exceeded", "locked", "none"})


def _looks_like_sso_id(turn: Turn) -> bool:
    if "sso_id" in turn.entities:
        return True
    found = find_sso_id(turn.text)
    if found is None:
        return False
    if len(turn.text.split()) > 1 or any(c.isdigit() or c in "._" for c in found):
        return True  # in a sentence only a token with a digit or a dot is taken
    # A lone plain word ("hello", "haan") is an SSO ID only when the NLU has no better idea.
    return turn.intent in (None, "inform", "nlu_fallback") or turn.confidence < LEAVE_CONFIDENCE


async def say_code_outcome(result: str, dispatcher: CollectingDispatcher) -> dict[str, Any] | None:
    """Say why a code failed; the slots to set, or None when the code was verified."""
    if result == "verified":
        return None
    if result.startswith("wrong:"):
        dispatcher.utter_message(response="utter_otp_wrong", attempts_left=result[6:])
        return {"otp": None}
    if result == "format":
        dispatcher.utter_message(response="utter_otp_format")
        return {"otp": None}
    dispatcher.utter_message(response=OTP_RESPONSES.get(result, "utter_service_unavailable"))
    if result in ENDS_CHALLENGE:
        return {"otp": None, "sso_id": None}
    return {"otp": None}


class ValidateLinkForm(RepairingFormValidation):
    slots = LINK_SLOTS

    def name(self) -> str:
        return "validate_link_form"

    def fits(self, slot: str, turn: Turn, tracker: Tracker) -> bool:
        if slot == "otp":
            return "otp_result" in turn.entities
        return _looks_like_sso_id(turn)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # A code checked by the gateway, whichever question the form is on (a late code).
        result = turn_of(tracker).entities.get("otp_result")
        if result is not None and tracker.get_slot("requested_slot"):
            failed = await say_code_outcome(result, dispatcher)
            if failed is None:
                return [SlotSet("sso_id", "linked"), SlotSet("otp", "verified")]
            slot = tracker.get_slot("requested_slot")
            return [SlotSet(name, value) for name, value in {slot: None, **failed}.items()]
        return await super().run(dispatcher, tracker, domain)

    async def explain(
        self, target: str, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=target)
        return []

    async def resend(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        return await resend_code(dispatcher, tracker)

    async def validate_sso_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        typed = next(tracker.get_latest_entity_values("sso_id"), None) or str(value)
        if not _looks_like_sso_id(turn_of(tracker)):
            # "haan", "ok", "JVVNL": not worth a lookup, and not a code sent to anyone.
            dispatcher.utter_message(response="utter_sso_invalid")
            return {"sso_id": None}
        try:
            started = await send_code_once(tracker, typed)
        except BotError as error:
            utter_error(dispatcher, error)
            return {"sso_id": None}
        dispatcher.utter_message(response="utter_otp_sent", minutes=started.valid_minutes)
        return {"sso_id": started.sso_id}

    async def validate_otp(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Reached only with text that was not a code: the gateway turns every code into an
        # otp_result, which run() handles.
        dispatcher.utter_message(response="utter_otp_format")
        return {"otp": None}


async def resend_code(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Send the code again (within the limits); the earlier code keeps working meanwhile."""
    linking = services().linking
    try:
        await resend_code_once(tracker)
    except NoPendingLink:
        dispatcher.utter_message(response="utter_no_code_pending")
        return [SlotSet("sso_id", None)]
    except (TooManyOtpRequests, OtpLockedOut):
        pending = await linking.pending(tracker.sender_id)
        if pending is None:
            dispatcher.utter_message(response="utter_otp_too_many_requests")
            return [SlotSet("sso_id", None)]
        until = format_time_ist(pending.expires_at, language(tracker))
        dispatcher.utter_message(response="utter_otp_resend_limit", until=until)
        return []
    except BotError as error:
        utter_error(dispatcher, error)
        return []
    dispatcher.utter_message(response="utter_otp_resent")
    return []


class ActionResendCode(ResidentAction):
    """ "The code did not come" with no form asking for it."""

    def name(self) -> str:
        return "action_resend_code"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return [*await resend_code(dispatcher, tracker), FollowupAction(LISTEN)]


class ActionLinkCompleted(ResidentAction):
    def name(self) -> str:
        return "action_link_completed"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SlotSet("sso_id", None), SlotSet("otp", None)]
        resident = await services().conversations.resident(tracker.sender_id)
        if resident is None:  # the code was used by a concurrent turn that failed later
            dispatcher.utter_message(response="utter_not_linked")
            return [*events, SlotSet("linked", False), FollowupAction(LISTEN)]
        dispatcher.utter_message(response="utter_linked", name=mask_name(resident.name))
        # Linking is when reminder consent is asked for and recorded (with its time).
        await services().reminder_consents.record_at_linking(
            resident.resident_id, tracker.sender_id, language(tracker)
        )
        dispatcher.utter_message(response="utter_reminders_consent_note")
        events.append(SlotSet("linked", True))
        goal = tracker.get_slot("goal")
        if goal in ("check", "pay", "copy"):
            return [*events, FollowupAction("action_start_bill")]  # what they came for
        if goal == "supply":
            return [*events, FollowupAction("action_start_supply")]
        if goal == "complaint":
            return [*events, SlotSet("goal", None), FollowupAction("complaint_form")]
        dispatcher.utter_message(response="utter_linked_next")
        return [*events, FollowupAction(LISTEN)]


class ActionConfirmUnlink(ResidentAction):
    def name(self) -> str:
        return "action_confirm_unlink"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if await services().conversations.resident(tracker.sender_id) is None:
            dispatcher.utter_message(response="utter_not_linked")
            return [SlotSet("linked", False), FollowupAction(LISTEN)]
        return [SlotSet("pending_confirmation", "unlink"), FollowupAction("confirm_form")]


async def unlink(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """The yes to "unlink this chat?" (confirm_form)."""
    was_linked = await services().linking.unlink(tracker.sender_id)
    dispatcher.utter_message(response="utter_unlinked" if was_linked else "utter_not_linked")
    return [SlotSet("linked", False), *[SlotSet(name, None) for name in FORM_SLOTS]]
