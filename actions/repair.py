"""Conversation repair: what a form does with a message that is not simply its answer.

Every form slot takes whatever is typed while it is asked (a `from_text` mapping), so each
message reaches the form's validation action, which asks `decide` first. The patterns are the
ones a dialogue engine should handle (those Rasa's CALM ships built in): cancellation, a
question about the question (clarification), digression (an FAQ or "are you a person?" in the
middle of a form, after which the same question is asked again), chitchat, "I don't know",
a correction of an earlier answer, switching to another task, and asking for a person.

Pure: no Rasa types, so the decisions are tested on their own (tests/unit/test_repair.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import Enum

# Below this NLU confidence an intent does not pull a resident out of a form: the text is
# treated as an attempt at the answer, which the form checks and explains if it does not fit.
LEAVE_CONFIDENCE = 0.6
# Questions back and digressions are answered in place, so a wrong guess costs little.
ANSWER_CONFIDENCE = 0.45


class Move(str, Enum):
    FILL = "fill"  # the message is (an attempt at) the answer: the slot's own check decides
    EXPLAIN = "explain"  # a question about the question, or "I don't know": explain, ask again
    DIGRESS = "digress"  # an unrelated question: answer it, ask the same question again
    CANCEL = "cancel"  # stop the form, nothing changes
    MENU = "menu"  # stop the form and show the menu
    SWITCH = "switch"  # stop the form and start another task
    HANDOFF = "handoff"  # stop the form and ask for a person
    LANGUAGE = "language"  # switch language, ask the same question again
    RESEND = "resend"  # the OTP did not arrive: send it again within the limits
    RESTART = "restart"  # "another bill" inside the bill form: start it again from the top


@dataclass(frozen=True)
class Turn:
    """What the NLU made of the resident's message."""

    text: str
    intent: str | None = None
    confidence: float = 0.0
    entities: dict[str, str] = field(default_factory=dict)

    @property
    def payload(self) -> bool:
        """A pressed button (or typed payload): its intent is certain."""
        return self.text.startswith("/")


@dataclass(frozen=True)
class Repair:
    move: Move
    # EXPLAIN/DIGRESS: the response to say; SWITCH: the action or form to continue with.
    target: str | None = None


# Whole-message words that always mean "stop this" inside a form, whatever the NLU says: a
# lone "stop" is also a valid-looking SSO ID, and "वापस" is not in every NLU's vocabulary.
_CANCEL_WORDS = """
    cancel stop exit quit back abort band bandh radd wapas vapas chhodo chodo rehnedo
    रद्द रद्दकरें रद्दकरो रद्दकरदो वापस वापसजाओ बंद बंदकरो रहनेदो छोड़ो छोड़दो रुको
    cancelkaro cancelkardo bandkaro bandhkaro raddkaro rehnedobhai wapasjao
    """.split()
_MENU_WORDS = "menu help मेनू मदद madad".split()

# Answered in place, whatever the form: the response of the same name.
DIGRESSIONS = {
    "faq_sso_register": "utter_faq_sso_register",
    "faq_forgot_password": "utter_faq_forgot_password",
    "faq_fees": "utter_faq_fees",
    "faq_payment_methods": "utter_faq_payment_methods",
    "faq_offline_payment": "utter_faq_offline_payment",
    "faq_payment_not_credited": "utter_faq_payment_not_credited",
    "faq_helplines": "utter_faq_helplines",
    "faq_sso_id": "utter_explain_sso_id",
    "faq_consumer_number": "utter_explain_consumer_number_generic",
    "faq_fraud": "utter_faq_fraud",
    "bot_challenge": "utter_iamabot",
    "out_of_scope": "utter_out_of_scope",
    "greet": None,  # chitchat: no answer of its own, the question is simply asked again
    "thank": None,
}
# Tasks a resident may switch to from the middle of any form: (action or form, side effect?).
SWITCHES = {
    "payment_history": "action_payment_history",
    "get_receipt": "action_get_receipt",
    "delete_my_data": "action_confirm_delete_data",
    "set_reminder": "action_set_reminder",
    "stop_reminders": "action_stop_reminders",
    "track_complaint": "action_track_complaint",
    "raise_complaint": "complaint_form",
    "unlink_account": "action_confirm_unlink",
    "remove_email": "action_confirm_remove_email",
}
# At a yes/no question these are more likely a question about it ("what happens to my
# payments then?" at "erase my data?"): the question is asked again instead of switching.
QUESTIONS_AT_YES_NO = frozenset({"payment_history", "get_receipt"})
# The questions about each question: intents that ask what the slot means or where to find it.
EXPLANATIONS = {
    "sso_id": {
        "faq_sso_id": "utter_explain_sso_id",
        "dont_know": "utter_explain_sso_id",
        "faq_forgot_password": "utter_faq_forgot_password",
    },
    "otp": {"faq_sso_id": "utter_explain_otp"},
    "email_address": {"dont_know": "utter_ask_email_address"},
    "consumer_number": {
        "faq_consumer_number": "explain_consumer_number",
        "dont_know": "explain_consumer_number",
    },
    "biller": {
        "dont_know": "explain_biller",
        "faq_consumer_number": "utter_explain_consumer_number_generic",
    },
    "utility": {"dont_know": "utter_ask_utility"},
}


def keyword(text: str) -> str:
    """The message folded for whole-message keyword checks ("Band Karo!" -> "bandkaro").

    Only spaces, punctuation and symbols go: Devanagari vowel signs and the virama are marks,
    which a `\\W` class would strip too ("रद्द" would become "रदद")."""
    folded = unicodedata.normalize("NFC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] not in "PSZC")


# Folded the way messages are, so "छोड़ो" matches whichever way its nukta was typed.
CANCEL_WORDS = frozenset(keyword(w) for w in _CANCEL_WORDS)
MENU_WORDS = frozenset(keyword(w) for w in _MENU_WORDS)
# Typed answers to a yes/no question the NLU may not be sure of (whole message, folded).
YES_WORDS = frozenset(
    keyword(w)
    for w in "yes y yeah yep ok okay sure haan han haa ha ji hanji haanji हाँ हां जी ठीक ठीकहै".split()
)
NO_WORDS = frozenset(keyword(w) for w in "no n nope nahi nahin nhi na नहीं नही ना".split())
# Intents with which a message's entities are an answer (or a correction), not a side remark:
# "bijli chali jaye to kis number pe call karein?" names electricity but asks for a helpline.
ANSWERING_INTENTS = frozenset(
    {"inform", "check_bill", "pay_bill", "bill_copy", "deny", "nlu_fallback", ""}
)


def yes_or_no(turn: Turn) -> bool | None:
    """True for a yes, False for a no, None for anything else."""
    word = keyword(turn.text)
    if turn.intent == "affirm" or word in YES_WORDS:
        return True
    if turn.intent == "deny" or word in NO_WORDS:
        return False
    return None


def decide(form: str, slot: str, turn: Turn, fits: bool, yes_no: bool = False) -> Repair:
    """What to do with `turn`, typed while `form` asks for `slot`.

    `fits`: the text holds a well-formed answer for the slot (a 6-digit code, a number of
    the right length, a known utility...): it wins over a weak intent guess. `yes_no`: the
    question is a yes/no one, where "no" is an answer and not a cancellation.
    """
    word = keyword(turn.text)
    intent = turn.intent or ""
    certain = turn.payload
    if word in MENU_WORDS:
        return Repair(Move.MENU)
    if word in CANCEL_WORDS and not (yes_no and intent == "deny"):
        return Repair(Move.CANCEL)
    if fits and not certain:
        return Repair(Move.FILL)

    confidence = 1.0 if certain else turn.confidence
    answering = confidence >= ANSWER_CONFIDENCE
    leaving = confidence >= LEAVE_CONFIDENCE

    if yes_no and intent in ("affirm", "deny"):
        return Repair(Move.FILL)
    if intent == "otp_not_received" and slot in ("otp", "email_code") and answering:
        return Repair(Move.RESEND)
    explanation = EXPLANATIONS.get(slot, {}).get(intent)
    if explanation and answering:
        return Repair(Move.EXPLAIN, explanation)
    if intent == "deny" and leaving:
        return Repair(Move.CANCEL)
    if intent == "help" and leaving:
        return Repair(Move.MENU)
    if intent == "talk_to_human" and leaving:
        return Repair(Move.HANDOFF)
    if intent == "change_language" and (leaving or "language" in turn.entities):
        return Repair(Move.LANGUAGE)
    if intent == "goodbye" and leaving:
        return Repair(Move.CANCEL, "utter_goodbye")
    if intent == "my_data" and answering:
        return Repair(Move.DIGRESS, "my_data")  # read-only: answered, then the same question
    if intent in DIGRESSIONS and answering and intent != "out_of_scope":
        return Repair(Move.DIGRESS, DIGRESSIONS[intent])
    if intent in ("check_bill", "pay_bill", "bill_copy") and leaving:
        return _another_bill(form, turn)
    if intent == "link_account" and leaving and form != "link_form":
        return Repair(Move.SWITCH, "link_form")
    if intent in SWITCHES and leaving and not (yes_no and intent in QUESTIONS_AT_YES_NO):
        return Repair(Move.SWITCH, SWITCHES[intent])
    if intent == "out_of_scope" and leaving and not turn.entities:
        return Repair(Move.DIGRESS, DIGRESSIONS["out_of_scope"])
    return Repair(Move.FILL)


def _another_bill(form: str, turn: Turn) -> Repair:
    """ "Check my bill" said inside a form: inside the bill form it corrects or restarts it;
    elsewhere the form it interrupts is left for the bill."""
    names_account = any(k in turn.entities for k in ("utility", "biller", "consumer_number"))
    if form == "bill_form":
        return Repair(Move.FILL) if names_account else Repair(Move.RESTART)
    if form == "link_form":
        # The bill needs the link first: say so and keep linking (the goal slot remembers it).
        return Repair(Move.DIGRESS, "utter_link_first")
    return Repair(Move.SWITCH, "action_start_bill")
