"""Switching between English and Hindi on request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import ResidentAction, language, services
from bot.model.residents import Language


class ActionChangeLanguage(ResidentAction):
    """Sets the language slot; the rule's next step (utter_language_changed) then speaks in
    the new language, because responses render against the tracker as it was before the
    action's own events."""

    def name(self) -> str:
        return "action_change_language"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        asked = next(tracker.get_latest_entity_values("language"), None)
        if asked in ("en", "hi"):
            chosen = Language(asked)
        else:  # "change language" without saying which: switch to the other one
            chosen = Language.EN if language(tracker) is Language.HI else Language.HI
        await services().conversations.set_language(tracker.sender_id, chosen)
        return [SlotSet("language", chosen.value)]
