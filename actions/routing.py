"""Messages that arrive with no question open: a bare answer ("पानी का बिल", a saved account's
button, a code that arrived late) starts what it names; a message the NLU is unsure of gets
its best guesses as buttons instead of "I did not understand"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.email import say_email_code_outcome
from actions.forms import LISTEN, turn_of
from actions.linking import say_code_outcome
from actions.repair import Turn
from actions.runtime import ResidentAction, language
from bot import messages as texts
from bot.model.billing import parse_utility

# Offered as "did you mean" buttons when the NLU is unsure; others are never guessed at.
SUGGESTIBLE = (
    "check_bill",
    "pay_bill",
    "bill_copy",
    "payment_history",
    "get_receipt",
    "link_account",
    "raise_complaint",
    "track_complaint",
    "talk_to_human",
    "set_reminder",
    "my_data",
    "faq_offline_payment",
    "faq_fees",
    "faq_fraud",
)
MIN_SUGGESTION_CONFIDENCE = 0.1
MAX_SUGGESTIONS = 3


def start_bill(tracker: Tracker, utility: str | None = None) -> list[dict[str, Any]]:
    """Begin the bill flow for what the message named (linking first when needed)."""
    events: list[dict[str, Any]] = []
    if utility:
        events.append(SlotSet("utility", utility))
    if tracker.get_slot("goal") not in ("check", "pay"):
        events.append(SlotSet("goal", "check"))
    if tracker.get_slot("linked"):
        return [*events, FollowupAction("action_start_bill")]
    return [*events, FollowupAction("link_form")]


class ActionRouteInform(ResidentAction):
    def name(self) -> str:
        return "action_route_inform"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        turn = turn_of(tracker)
        emailed = turn.entities.get("email_code_result")
        if emailed is not None:  # an email code the gateway checked, with no form asking
            if say_email_code_outcome(emailed, dispatcher) is None:
                return [FollowupAction("action_email_completed")]
            return [FollowupAction(LISTEN)]
        result = turn.entities.get("otp_result")
        if result is not None:  # a code the gateway checked, typed with no form asking
            if await say_code_outcome(result, dispatcher) is None:
                return [FollowupAction("action_link_completed")]
            return [FollowupAction(LISTEN)]
        utility = turn.entities.get("utility") or _utility_in(turn)
        if utility or {"biller", "consumer_number"} & set(turn.entities):
            if not tracker.get_slot("linked"):
                dispatcher.utter_message(response="utter_link_first")
            return start_bill(tracker, utility)
        if "sso_id" in turn.entities and not tracker.get_slot("linked"):
            return [FollowupAction("link_form")]
        dispatcher.utter_message(response="utter_help")
        return [FollowupAction(LISTEN)]


class ActionClarify(ResidentAction):
    """The NLU's confidence was too low to act on: a utility in the words starts that bill,
    otherwise the likeliest meanings are offered; "did not understand" only as a last resort."""

    def name(self) -> str:
        return "action_clarify"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        turn = turn_of(tracker)
        utility = _utility_in(turn)
        if utility:
            if not tracker.get_slot("linked"):
                dispatcher.utter_message(response="utter_link_first")
            return start_bill(tracker, utility)
        guesses = [
            str(ranked["name"])
            for ranked in (tracker.latest_message or {}).get("intent_ranking") or []
            if ranked.get("name") in SUGGESTIBLE
            and float(ranked.get("confidence") or 0) >= MIN_SUGGESTION_CONFIDENCE
        ][:MAX_SUGGESTIONS]
        if not guesses:
            dispatcher.utter_message(response="utter_default")
            return [FollowupAction(LISTEN)]
        lang = language(tracker)
        buttons = [
            {"title": texts.render(f"intent_{name}", lang), "payload": f"/{name}"}
            for name in guesses
        ]
        buttons.append({"title": texts.render("intent_help", lang), "payload": "/help"})
        dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return [FollowupAction(LISTEN)]


# A utility named in a message the NLU is unsure of starts that bill only when the message is
# about a bill (or is nothing but the utility): "बिजली नहीं है" is a power cut, not a bill.
BILL_WORDS = frozenset("bill bil bills बिल bhugtan भुगतान payment pay".split())


def _utility_in(turn: Turn) -> str | None:
    if turn.payload:
        return None
    utility = parse_utility(turn.text)
    words = set(turn.text.casefold().replace("?", " ").split())
    if utility is None or not (words & BILL_WORDS or len(words) <= 2):
        return None
    return utility.value
