"""How `make converse-eval` judges: scenario files, goals, per-turn checks, the figures."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from scripts.converse_eval import goals
from scripts.converse_eval.channels import _OPTION, BotMessage, Button, _telegram_message
from scripts.converse_eval.metrics import language_mixups, summary
from scripts.converse_eval.residents import copy_resident, load_seed_residents
from scripts.converse_eval.responses import DEVANAGARI, DOMAIN_DIR, ResponseCatalog
from scripts.converse_eval.runner import check_turn, find_button, journey_segments
from scripts.converse_eval.scenarios import (
    Goal,
    ScenarioError,
    Turn,
    load_scenarios,
    parse_scenario,
)
from scripts.converse_eval.suite import cast_all
from scripts.converse_eval.transcript import ScenarioResult, TurnRecord

CATALOG = ResponseCatalog.from_domain()
RESPONSES = {
    name: variations
    for path in sorted(DOMAIN_DIR.glob("*.yml"))
    for name, variations in (
        yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}
    ).items()
}


# The title of a button that offers Hindi, whatever the domain calls it today.
HINDI_SWITCH = next(t for t in CATALOG.language_switch_titles if DEVANAGARI.search(t))


def text_of(name: str, hindi: bool = False) -> str:
    """What the bot says for response `name` today (the domain changes; the tests follow)."""
    variations = RESPONSES[name]
    chosen = next(
        (v for v in variations if bool(v.get("condition")) == hindi and not v.get("channel")),
        variations[0],
    )
    return re.sub(r"\{[a-z_]+\}", "X1", str(chosen["text"]))


ANITA = copy_resident(load_seed_residents()["anita.rathore"], 3)


def record(index: int, *texts: str, asked_for_menu: bool = False) -> TurnRecord:
    messages = [BotMessage(text) for text in texts]
    names = CATALOG.names_in("\n".join(texts))
    return TurnRecord(index, index, f"turn {index}", messages, names, asked_for_menu)


# --- the scenario files ---------------------------------------------------------------------
def test_the_suite_has_enough_scenarios_on_every_channel_and_language() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) >= 40
    assert min(Counter(s.channel for s in scenarios).values()) >= 8
    assert min(Counter(s.language for s in scenarios).values()) >= 10
    assert len(cast_all(scenarios, CATALOG)) == len(scenarios)  # residents, names, placeholders


def test_a_scenario_that_breaks_the_format_is_refused() -> None:
    good = {
        "name": "x",
        "channel": "sms",
        "language": "hi",
        "resident": "sunita.devi",
        "situations": ["cancel"],
        "happy_turns": 2,
        "goal": "cancelled",
        "turns": ["bill", {"say": "rehne do", "expect": "utter_cancelled|utter_ok"}],
    }
    parsed = parse_scenario(good)
    assert parsed.turns[1].expect == ("utter_cancelled|utter_ok",)
    for broken in (
        {**good, "channel": "fax"},
        {**good, "goal": "world_peace"},
        {**good, "situations": ["daydreaming"]},
        {**good, "turns": [{"say": "a", "tap": "b"}]},
        {**good, "turns": [{"say": "a", "optional": True}]},
        {**good, "turns": [{"type": "a"}]},
        {**good, "happy_turns": 0},
    ):
        with pytest.raises(ScenarioError):
            parse_scenario(broken)


# --- goals ----------------------------------------------------------------------------------
LINK = "Here is your secure payment link for ₹1,120.00:\nhttp://x/sandbox/pay/plink_abc"


def test_a_payment_link_counts_for_the_account_named_last_before_it() -> None:
    besl, tpadl = ANITA.account("BESL").consumer_number, ANITA.account("TPADL").consumer_number
    confirm = "You are paying ₹1.00 to {} for consumer no. ••••{}, plus a convenience fee"
    records = [
        record(1, confirm.format("BESL", besl[-4:])),
        record(2, confirm.format("TPADL", tpadl[-4:])),
        record(3, LINK),
    ]
    assert goals.first_reached(Goal("payment_link", "TPADL"), records, ANITA) == (3, [])
    reached, reasons = goals.first_reached(Goal("payment_link", "BESL"), records, ANITA)
    assert reached is None and "not for BESL" in reasons[0]


def test_a_cancellation_with_a_side_effect_is_not_clean() -> None:
    cancelled = record(2, text_of("utter_cancelled"))
    assert "utter_cancelled" in cancelled.responses
    assert goals.evaluate(Goal("cancelled"), (), [record(1, "hi"), cancelled], ANITA) == (2, [])
    reached, reasons = goals.evaluate(Goal("cancelled"), (), [cancelled, record(3, LINK)], ANITA)
    assert reached == 2 and reasons == ["turn 3: payment_link happened"]


def test_forbidden_goals_and_faq_goals() -> None:
    queued = record(1, text_of("utter_handoff_queued"))
    reached, reasons = goals.evaluate(
        Goal("faq_answered", faq="helplines"), ["handoff_queued"], [queued], ANITA
    )
    assert reached is None and "turn 1: handoff_queued happened" in reasons
    fees = record(1, text_of("utter_faq_fees"))
    assert goals.first_reached(Goal("faq_answered"), [fees], ANITA)[0] == 1
    assert goals.first_reached(Goal("faq_answered", faq="helplines"), [fees], ANITA)[0] is None


# --- per-turn checks and buttons --------------------------------------------------------------
def test_expect_takes_alternatives_and_not_expect_names_what_went_wrong() -> None:
    asked = record(2, text_of("utter_ask_otp"))
    assert check_turn(Turn(say="x", expect=("utter_ask_otp",)), asked, CATALOG) == []
    assert (
        check_turn(Turn(say="x", expect=("utter_cancelled|utter_ask_otp",)), asked, CATALOG) == []
    )
    failed = check_turn(
        Turn(say="x", expect=("utter_cancelled",), not_expect=("utter_ask_otp",)), asked, CATALOG
    )
    assert len(failed) == 2 and "expected utter_cancelled" in failed[0]
    assert text_of("utter_ask_otp")[:20] in failed[0]  # says what the bot said instead
    said_now = re.escape(text_of("utter_ask_otp")[:12])
    assert check_turn(Turn(say="x", expect_text=said_now), asked, CATALOG) == []
    # "name*": any response whose name starts so (a response split into variants).
    assert check_turn(Turn(say="x", expect=("utter_ask_ot*",)), asked, CATALOG) == []
    assert check_turn(Turn(say="x", not_expect=("utter_ask_*",)), asked, CATALOG) != []
    assert CATALOG.knows("utter_ask_*") and not CATALOG.knows("utter_nonsense*")


def test_buttons_are_found_by_title_prefix_or_words() -> None:
    confirm = BotMessage(
        "Shall I?", (Button("Yes, pay ₹1,120.00", "/affirm"), Button("No", "/deny"))
    )
    menu = BotMessage("Menu", (Button("🔥 Gas", "3"), Button("No thanks", "4")))
    assert find_button("yes", [confirm]) == Button("Yes, pay ₹1,120.00", "/affirm")
    assert find_button("No", [menu, confirm]) == Button("No", "/deny")  # latest message first
    assert find_button("gas", [menu]) == Button("🔥 Gas", "3")
    assert find_button("Water", [menu, confirm]) is None


def test_numbered_options_and_telegram_keyboards_become_buttons() -> None:
    body = "Which company?\n\n1. JVVNL\n2. AVVNL\n12. TPADL\nReply with a number."
    assert _OPTION.findall(body) == [("1", "JVVNL"), ("2", "AVVNL"), ("12", "TPADL")]
    sent = {
        "text": "Pay?",
        "reply_markup": '{"inline_keyboard": [[{"text": "Yes", "callback_data": "/affirm"}]]}',
    }
    assert _telegram_message(sent) == BotMessage("Pay?", (Button("Yes", "/affirm"),))


# --- the figures ----------------------------------------------------------------------------
def test_language_mixups_per_conversation_language() -> None:
    english = BotMessage(
        "Which bill? You can also type it.", (Button(HINDI_SWITCH, "/change_language"),)
    )
    hindi = BotMessage("कौन सा बिल? आप लिख भी सकते हैं।")
    link = BotMessage("http://x/sandbox/pay/plink_1")
    assert language_mixups("en", [english, link], CATALOG) == []  # the switch button is fine
    assert language_mixups("en", [english, hindi], CATALOG) == [hindi.text]
    assert language_mixups("hi", [hindi, english], CATALOG) == [english.text]
    assert language_mixups("hinglish", [hindi, hindi, english], CATALOG) == [english.text]
    assert language_mixups("hinglish", [english, english, link], CATALOG) == []


def result(
    name: str,
    channel: str,
    language: str,
    records: list[TurnRecord],
    happy: int,
    reached: int | None,
) -> ScenarioResult:
    scenario = ScenarioResult(name, channel, language, ("cancel",), happy, "payment_link", records)
    scenario.goal_reached_at = reached
    return scenario


def test_the_summary_figures() -> None:
    menu = text_of("utter_help")
    sms = [
        TurnRecord(1, 1, "a", [BotMessage("x" * 200, sms_segments=2)], frozenset()),
        TurnRecord(
            2,
            2,
            "b",
            [BotMessage(LINK, sms_segments=1), BotMessage("z", sms_segments=1)],
            frozenset(),
        ),
    ]
    results = [
        result(
            "one", "webchat", "en", [record(1, menu), record(2, menu, asked_for_menu=True)], 2, 2
        ),
        result("two", "whatsapp", "hi", [record(1, "a"), record(2, "b", "c", "d")], 1, None),
        result("three", "sms", "hinglish", sms, 2, 2),
    ]
    results[2].sms_journey_segments = journey_segments([m for r in sms for m in r.replies])
    figures = summary(results)
    assert figures["scenarios"] == 3 and figures["succeeded"] == 2
    assert figures["lost_turns"] == 1 and figures["lost_turns_per_scenario"] == 0.33
    assert figures["turns_median"] == 2 and figures["turns_ratio_median"] == 1.0
    assert figures["sms_segments_per_journey"] == 3  # up to the link, not the message after
    assert figures["whatsapp_messages_per_turn"] == 3
    assert figures["whatsapp_messages_per_turn_mean"] == 2.0
    assert figures["by_channel"]["whatsapp"] == {
        "scenarios": 1,
        "succeeded": 0,
        "lost_turns_per_scenario": 0.0,
        "turns_ratio_median": 2.0,
        "language_mixups": 0,
    }
    assert journey_segments([BotMessage("no link", sms_segments=4)]) is None
