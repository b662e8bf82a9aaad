"""The base of every form's validation: conversation repair first, then the slot's own check.

`RepairingFormValidation.run` asks `actions.repair.decide` what the resident's message is
before rasa-sdk validates any slot: an answer (the slot's `validate_<slot>` decides), or a
question back, a digression, a cancellation... which it carries out here the same way for
every form. Leaving a form ends with an explicit FollowupAction, because no rule follows a
form that was left half way.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.repair import Move, Repair, Turn, decide
from actions.runtime import ResidentFormValidation, services
from bot.model.residents import Language

LISTEN = "action_listen"
# A side effect (a person, no more reminders) is carried out at once only above this NLU
# confidence, or from a button; below it the resident is asked first (confirm_form).
CERTAIN_CONFIDENCE = 0.85


def turn_of(tracker: Tracker) -> Turn:
    """The resident's latest message as the repair rules see it."""
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    entities: dict[str, str] = {}
    for entity in message.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") and entity.get("value") is not None:
            entities.setdefault(str(entity["entity"]), str(entity["value"]))
    return Turn(
        text=str(message.get("text") or ""),
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        entities=entities,
    )


def is_certain(turn: Turn, intent: str) -> bool:
    """The resident clearly asked for `intent`: a button, or a confident prediction."""
    return turn.intent == intent and (turn.payload or turn.confidence >= CERTAIN_CONFIDENCE)


def leave_form(slots: tuple[str, ...], then: str = LISTEN) -> list[dict[str, Any]]:
    """Events that end the active form (its slots forgotten) and go on with `then`."""
    return [
        *[SlotSet(name, None) for name in slots],
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        FollowupAction(then),
    ]


class RepairingFormValidation(ResidentFormValidation):
    """Subclasses name their form's slots and say when a message fits a slot; `explain` and
    `resend` cover the form's own questions back."""

    # The slots this form fills, forgotten when the resident leaves it.
    slots: tuple[str, ...] = ()
    # A yes/no question: "no" answers it instead of cancelling it.
    yes_no = False

    @abstractmethod
    def fits(self, slot: str, turn: Turn, tracker: Tracker) -> bool:
        """True when `turn` holds a well-formed answer for `slot` (checked further by
        `validate_<slot>`); it then wins over a weak guess of the NLU."""

    async def explain(
        self, target: str, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """Answer a question about `slot`; by default `target` is a response to say."""
        dispatcher.utter_message(response=target)
        return []

    async def resend(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        return []

    async def restart(self, tracker: Tracker) -> list[dict[str, Any]]:
        return [SlotSet(name, None) for name in self.slots]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        slot = tracker.get_slot("requested_slot")
        # Only for a message typed in answer to the form's question: not at activation, and
        # not when the form comes back after something else ran.
        if slot and slot in tracker.slots_to_validate():
            turn = turn_of(tracker)
            repair = decide(
                self.form_name(), slot, turn, self.fits(slot, turn, tracker), self.yes_no
            )
            if repair.move is not Move.FILL:
                return await self._guarded_repair(repair, slot, dispatcher, tracker)
        return await super().run(dispatcher, tracker, domain)

    async def _guarded_repair(
        self, repair: Repair, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        try:
            return await self.repair(repair, slot, dispatcher, tracker)
        except Exception:  # the same promise as every action: never silence
            dispatcher.utter_message(response="utter_service_unavailable")
            return [SlotSet(slot, None)]

    async def repair(
        self, repair: Repair, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        ask_again = [SlotSet(slot, None)]  # the form asks the same question again
        move, target = repair.move, repair.target
        if move is Move.EXPLAIN and target:
            return [*await self.explain(target, slot, dispatcher, tracker), *ask_again]
        if move is Move.DIGRESS:
            if target == "my_data":
                # Imported here: actions.privacy imports the linking form, which imports this.
                from actions.privacy import tell_my_data

                await tell_my_data(dispatcher, tracker)
            elif target:
                dispatcher.utter_message(response=target)
            return ask_again
        if move is Move.RESEND:
            return [*await self.resend(dispatcher, tracker), *ask_again]
        if move is Move.RESTART:
            return await self.restart(tracker)
        if move is Move.LANGUAGE:
            return [*await self._switch_language(tracker), *ask_again]
        if move is Move.CANCEL:
            dispatcher.utter_message(response=target or "utter_cancelled")
            return [*leave_form(self.slots), SlotSet("goal", None)]
        if move is Move.MENU:
            dispatcher.utter_message(response="utter_help")
            return [*leave_form(self.slots), SlotSet("goal", None)]
        if move is Move.HANDOFF:
            return leave_form(self.slots, then="action_talk_to_human")
        if move is Move.SWITCH and target:
            return leave_form(self.slots, then=target)
        return ask_again

    async def _switch_language(self, tracker: Tracker) -> list[dict[str, Any]]:
        wanted = turn_of(tracker).entities.get("language")
        current = tracker.get_slot("language")
        language = Language(wanted) if wanted in ("en", "hi") else None
        if language is None:  # "change language" without saying which: the other one
            language = Language.EN if current == "hi" else Language.HI
        await services().conversations.set_language(tracker.sender_id, language)
        return [SlotSet("language", language.value)]

    @abstractmethod
    def name(self) -> str: ...
