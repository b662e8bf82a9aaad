"""Conversation repair decisions (actions/repair.py): what a form does with a message that is
not simply its answer. Pure: the same decisions the running bot makes, without Rasa."""

from __future__ import annotations

import pytest

from actions.repair import (
    LEAVE_CONFIDENCE,
    Move,
    Repair,
    Turn,
    decide,
    keyword,
)


def turn(text: str, intent: str | None = None, confidence: float = 0.95, **entities: str) -> Turn:
    return Turn(text=text, intent=intent, confidence=confidence, entities=entities)


@pytest.mark.parametrize(
    "text",
    [
        "cancel",
        "Cancel!",
        "stop",
        "STOP.",
        "रद्द करें",
        "वापस",
        "band karo",
        "रहने दो",
        "छोड़ो",
        "wapas",
    ],
)
def test_every_way_of_cancelling_leaves_any_form(text: str) -> None:
    # A lone "stop" also looks like an SSO ID: the keyword wins whatever the NLU said.
    for form, slot in (("link_form", "sso_id"), ("bill_form", "consumer_number")):
        assert decide(form, slot, turn(text, "inform"), fits=True).move is Move.CANCEL


def test_cancel_words_match_whatever_way_the_nukta_was_typed() -> None:
    composed, decomposed = "\u091b\u094b\u095c\u094b", "\u091b\u094b\u0921\u093c\u094b"  # छोड़ो
    assert keyword(composed) == keyword(decomposed)


def test_a_question_about_the_sso_id_is_explained_not_taken_as_one() -> None:
    repair = decide("link_form", "sso_id", turn("SSO ID kya hoti hai?", "faq_sso_id"), fits=False)
    assert repair == Repair(Move.EXPLAIN, "utter_explain_sso_id")


def test_where_the_consumer_number_is_printed_is_explained_for_that_biller() -> None:
    repair = decide(
        "bill_form", "consumer_number", turn("CID kya hai", "faq_consumer_number"), False
    )
    assert repair == Repair(Move.EXPLAIN, "explain_consumer_number")
    repair = decide("bill_form", "consumer_number", turn("pata nahi", "dont_know"), False)
    assert repair.move is Move.EXPLAIN


def test_the_code_that_did_not_come_is_sent_again() -> None:
    repair = decide("link_form", "otp", turn("OTP nahi aaya", "otp_not_received"), fits=False)
    assert repair.move is Move.RESEND


def test_a_well_formed_answer_wins_over_a_weak_intent_guess() -> None:
    assert (
        decide("link_form", "sso_id", turn("ramesh.kumar", "faq_fees", 0.7), True).move is Move.FILL
    )


@pytest.mark.parametrize(
    ("intent", "response"),
    [
        ("faq_fees", "utter_faq_fees"),
        ("bot_challenge", "utter_iamabot"),
        ("faq_offline_payment", "utter_faq_offline_payment"),
        ("greet", None),
    ],
)
def test_a_digression_is_answered_and_the_form_stays(intent: str, response: str | None) -> None:
    assert decide("bill_form", "biller", turn("...", intent), fits=False) == Repair(
        Move.DIGRESS, response
    )


def test_no_at_a_yes_no_question_answers_it_instead_of_cancelling() -> None:
    assert decide("confirm_form", "confirmed", turn("nahi", "deny"), False, yes_no=True).move is (
        Move.FILL
    )
    assert decide("bill_form", "consumer_number", turn("nahi", "deny"), fits=False).move is (
        Move.CANCEL
    )


def test_another_bill_inside_the_bill_form_starts_it_again() -> None:
    assert decide("bill_form", "consumer_number", turn("dusra bill", "check_bill"), False).move is (
        Move.RESTART
    )
    named = turn("nahi, pani ka bill", "check_bill", utility="water")
    assert decide("bill_form", "consumer_number", named, fits=True).move is Move.FILL


def test_asking_for_the_bill_while_linking_keeps_linking() -> None:
    repair = decide("link_form", "sso_id", turn("bijli ka bill kitna hai", "check_bill"), False)
    assert repair == Repair(Move.DIGRESS, "utter_link_first")


def test_a_confident_other_task_leaves_the_form_for_it() -> None:
    repair = decide("bill_form", "biller", turn("payment history", "payment_history"), False)
    assert repair == Repair(Move.SWITCH, "action_payment_history")


def test_an_unsure_guess_never_pulls_the_resident_out_of_a_form() -> None:
    unsure = LEAVE_CONFIDENCE - 0.1
    for intent in ("payment_history", "talk_to_human", "deny", "help"):
        assert decide("bill_form", "biller", turn("xyz", intent, unsure), False).move is Move.FILL


def test_asking_for_a_person_or_the_menu_leaves_the_form() -> None:
    assert decide("link_form", "otp", turn("agent", "talk_to_human"), False).move is Move.HANDOFF
    assert decide("link_form", "otp", turn("menu"), False).move is Move.MENU


def test_out_of_scope_mid_form_is_answered_in_place() -> None:
    repair = decide("bill_form", "biller", turn("pension kab aayegi", "out_of_scope"), False)
    assert repair == Repair(Move.DIGRESS, "utter_out_of_scope")


def test_a_pressed_button_is_certain_whatever_the_confidence() -> None:
    pressed = turn("/talk_to_human", "talk_to_human", confidence=0.0)
    assert decide("bill_form", "biller", pressed, fits=False).move is Move.HANDOFF


def test_at_a_yes_no_question_another_task_gets_the_question_again() -> None:
    asked = turn("what happens to my payments then?", "payment_history")
    assert decide("confirm_form", "confirmed", asked, False, yes_no=True).move is Move.FILL


def test_what_is_held_about_me_is_answered_in_the_middle_of_any_question() -> None:
    asked = turn("what do you know about me", "my_data")
    assert decide("confirm_form", "confirmed", asked, False, yes_no=True) == Repair(
        Move.DIGRESS, "my_data"
    )


def test_a_new_task_with_its_own_question_leaves_a_yes_no_question() -> None:
    """ "delete my data" at "shall I make the payment link?": the next yes must not pay."""
    asked = turn("delete my data", "delete_my_data")
    assert decide("confirm_form", "confirmed", asked, False, yes_no=True) == Repair(
        Move.SWITCH, "action_confirm_delete_data"
    )
