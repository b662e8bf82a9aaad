"""The dialogue definition is complete: every response speaks both languages, every custom
action the domain names is implemented, and the intent catalog matches CONTRACTS.md."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DIR = ROOT / "bot" / "dialogue" / "domain"

CONTRACT_INTENTS = """greet goodbye thank affirm deny help bot_challenge out_of_scope inform
link_account unlink_account check_bill pay_bill payment_history get_receipt set_reminder
stop_reminders raise_complaint track_complaint talk_to_human change_language my_data
delete_my_data faq_sso_register faq_forgot_password faq_fees faq_payment_methods
faq_offline_payment""".split()
# Extensions of the catalog (CONTRACTS.md allows extending, not renaming).
EXTRA_INTENTS = [
    "faq_payment_not_credited",
    "faq_helplines",
    # Conversation repair: questions about the question, "I don't know", no code came.
    "faq_sso_id",
    "faq_consumer_number",
    "dont_know",
    "otp_not_received",
    # Issue 16: the current bill as a PDF; "is this message really from you?".
    "bill_copy",
    "faq_fraud",
    # Issue 16: receipts and reminders by email.
    "add_email",
    "remove_email",
    # Issue 16: "bijli nahi hai", a no-power complaint with the electricity company.
    "report_no_power",
]
CONTRACT_ENTITIES = "utility biller consumer_number sso_id otp amount date language".split()
# Extensions, never found by NLU: reminder_option comes from the settings screen's buttons,
# otp_result from the gateway, which checks a typed code and passes on only the outcome.
# email_code_result likewise; email is an address typed in a message (issue 16).
EXTRA_ENTITIES = ["reminder_option", "otp_result", "email_code_result", "email"]
HINDI = {"type": "slot", "name": "language", "value": "hi"}
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


@functools.cache
def domain() -> dict:
    merged: dict = {"intents": [], "entities": [], "actions": [], "responses": {}, "forms": {}}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("intents", "entities", "actions"):
            merged[key] += part.get(key, [])
        merged["responses"].update(part.get("responses", {}))
        merged["forms"].update(part.get("forms", {}))
    return merged


def test_intents_and_entities_are_exactly_the_contract_catalog() -> None:
    assert sorted(domain()["intents"]) == sorted(CONTRACT_INTENTS + EXTRA_INTENTS)
    assert sorted(domain()["entities"]) == sorted(CONTRACT_ENTITIES + EXTRA_ENTITIES)


@pytest.mark.parametrize("name", sorted(domain()["responses"]))
def test_every_response_has_english_and_hindi(name: str) -> None:
    """Per channel: the default variations, and any written for SMS (shorter, no emoji)."""
    for channel in (None, "sms"):
        variations = [v for v in domain()["responses"][name] if v.get("channel") == channel]
        if channel is None or variations:
            check_both_languages(name, variations)


def check_both_languages(name: str, variations: list[dict]) -> None:
    english = [v for v in variations if not v.get("condition")]
    hindi = [v for v in variations if HINDI in (v.get("condition") or [])]
    assert english and hindi, f"{name} needs an English and a Hindi variation"
    for variation in hindi:
        assert DEVANAGARI.search(variation["text"]), f"{name}'s Hindi text is not in Devanagari"
    # Placeholders must match, or one language shows a raw {name} to residents.
    for en, hi in zip(english, hindi, strict=True):
        assert set(re.findall(r"{(\w+)}", en["text"])) == set(re.findall(r"{(\w+)}", hi["text"]))
        assert len(en.get("buttons", [])) == len(hi.get("buttons", []))
        for b_en, b_hi in zip(en.get("buttons", []), hi.get("buttons", []), strict=True):
            same_payload = b_en["payload"] == b_hi["payload"]
            language_switch = "change_language" in b_en["payload"]
            assert same_payload or language_switch, f"{name}: buttons differ by language"


def test_every_custom_action_in_the_domain_is_implemented() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = set(executor.actions)
    custom = {a for a in domain()["actions"] if not a.startswith("utter_")}
    assert custom <= registered, f"not implemented: {sorted(custom - registered)}"
    implemented_but_unlisted = {
        a for a in registered if a.startswith(("action_", "validate_"))
    } - custom
    assert not implemented_but_unlisted, f"missing from the domain: {implemented_but_unlisted}"


GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


@pytest.mark.parametrize("name", sorted(domain()["responses"]))
def test_english_sms_texts_stay_in_gsm_7(name: str) -> None:
    """One character outside GSM-7 (an emoji, ₹, a Devanagari button) makes the whole SMS
    UCS-2: 70 characters a segment instead of 160."""
    for variation in domain()["responses"][name]:
        if variation.get("channel") != "sms" or variation.get("condition"):
            continue
        titles = "".join(b["title"] for b in variation.get("buttons", []))
        outside = set(variation["text"] + titles) - GSM7
        assert not outside, f"{name}: {sorted(outside)} are not GSM-7"


def test_every_form_slot_has_a_way_to_be_asked() -> None:
    d = domain()
    askers = set(d["responses"]) | set(d["actions"])
    for form in d["forms"].values():
        for slot in form["required_slots"]:
            assert f"utter_ask_{slot}" in askers or f"action_ask_{slot}" in askers, slot
