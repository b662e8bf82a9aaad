"""Reminder consent from the dialogue: "remind me" / "stop reminders"."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import ResidentAction, container, language
from integrations.tasks.reminders import reminder_consents


class _ToggleReminders(ResidentAction, ABC):
    enabled: bool

    @abstractmethod
    def name(self) -> str: ...

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        resident = await container().conversations.resident(tracker.sender_id)
        if resident is None:
            dispatcher.utter_message(response="utter_not_linked")
            return []
        consent = await reminder_consents(container()).set_enabled(
            resident.resident_id, tracker.sender_id, language(tracker), self.enabled
        )
        if self.enabled:
            dispatcher.utter_message(response="utter_reminders_on", days=consent.days_before)
        else:
            dispatcher.utter_message(response="utter_reminders_off")
        return []


class ActionSetReminder(_ToggleReminders):
    enabled = True

    def name(self) -> str:
        return "action_set_reminder"


class ActionStopReminders(_ToggleReminders):
    enabled = False

    def name(self) -> str:
        return "action_stop_reminders"
