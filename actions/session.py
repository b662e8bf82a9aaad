"""Session start: carry the resident's state into a new session from our database, which
outlives Rasa's tracker store (in memory on embedded defaults)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import ResidentAction, services

# Slots worth keeping across sessions; an open yes/no question or a half-typed OTP is not.
CARRIED_SLOTS = ("language", "utility", "biller", "consumer_number")


class ActionSessionStart(ResidentAction):
    def name(self) -> str:
        return "action_session_start"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        events += [
            SlotSet(name, tracker.get_slot(name))
            for name in CARRIED_SLOTS
            if tracker.get_slot(name) is not None
        ]
        # The language slot is the gateway's to set (one language per conversation, which
        # may differ from the resident's on another channel): carried, never replaced here.
        resident = await services().conversations.resident(tracker.sender_id)
        events.append(SlotSet("linked", resident is not None))
        events.append(ActionExecuted("action_listen"))
        return events

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # A failing database must not leave the session unstarted: fall back to Rasa's default.
        events = await super().run(dispatcher, tracker, domain)
        return events or [SessionStarted(), ActionExecuted("action_listen")]
