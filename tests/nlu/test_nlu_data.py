"""Checks on the NLU training data and the held-out test set, read as plain YAML (no model).

Each intent block carries `metadata: {lang: en | hi | hinglish}`; these tests hold the
data to the intent catalog of the contract (CONTRACTS.md, "Intent catalog") in all three
forms residents write in, keep the test set out of the training data, and make sure the
pattern extractor cannot hand the dialogue a value it does not know.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from scripts.nlu_corpus import (
    LANGUAGES,
    block_lang,
    block_lines,
    by_intent_and_lang,
    intent_examples,
    load_blocks,
)

ROOT = Path(__file__).resolve().parents[2]
NLU_DATA = ROOT / "nlu_data"
TEST_SET = ROOT / "tests" / "nlu" / "test_nlu.yml"

INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "help", "bot_challenge", "out_of_scope",
    "inform", "link_account", "unlink_account", "check_bill", "pay_bill", "payment_history",
    "get_receipt", "set_reminder", "stop_reminders", "raise_complaint", "track_complaint",
    "talk_to_human", "change_language", "my_data", "delete_my_data", "faq_sso_register",
    "faq_forgot_password", "faq_fees", "faq_payment_methods", "faq_offline_payment",
    # beyond the contract's catalog
    "faq_payment_not_credited", "faq_helplines",
    # conversation repair: questions about the question, "I don't know", no code came
    "faq_sso_id", "faq_consumer_number", "dont_know", "otp_not_received",
    # issue 16: the current bill as a PDF, "is this message genuine?"
    "bill_copy", "faq_fraud",
    # issue 16: receipts and reminders by email
    "add_email", "remove_email",
    # issue 16: "bijli nahi hai", a no-power complaint with the electricity company
    "report_no_power",
}  # fmt: skip
ENTITIES = {
    "utility", "biller", "consumer_number", "sso_id", "otp", "amount", "date", "language", "email"
}  # fmt: skip
# Entities whose value the dialogue compares against a closed set.
CANONICAL_VALUES = {
    "utility": {"electricity", "water", "gas"},
    "biller": {
        "JVVNL0000RAJ01", "AVVNL0000RAJ01", "JDVVNL000RAJ01", "KEDLOB000RAJ02", "BKESL0000RAJ02",
        "BESLOB000RAJ02", "TPADL0000RAJ01", "PHED00000RAJ01", "RSGL00000RAJ01", "TGPL00000RAJ01",
        # a town two companies serve: the bill form asks which (catalog.yml shared_towns)
        "ajmer",
    },
    "language": {"en", "hi"},
}  # fmt: skip
MIN_TRAINING_PER_LANGUAGE = 7
MIN_TEST_PER_LANGUAGE = 2

DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def _key(text: str) -> str:
    """What makes two sentences "the same": case, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"[^\w\s\u0900-\u097F₹]", " ", text)
    return " ".join(text.split())


TRAINING_FILES = sorted(NLU_DATA.glob("*.yml"))
TRAINING_BLOCKS = [block for path in TRAINING_FILES for block in load_blocks(path)]
TRAINING = by_intent_and_lang(intent_examples(TRAINING_BLOCKS))
TEST = by_intent_and_lang(intent_examples(load_blocks(TEST_SET)))


def _synonyms() -> dict[str, str]:
    """Lower-cased text -> value, as EntitySynonymMapper builds it."""
    mapping = {}
    for block in TRAINING_BLOCKS:
        if "synonym" in block:
            value = str(block["synonym"])
            mapping[value.lower()] = value
            for example in block_lines(block):
                mapping[example.lower()] = value
    for examples in TRAINING.values():
        for example in examples:
            for annotation in example.annotations:
                if annotation.value is not None:
                    mapping[annotation.text.lower()] = annotation.value
    return mapping


def _entity_patterns() -> list[tuple[str, str]]:
    return [
        (block["regex"], pattern)
        for block in TRAINING_BLOCKS
        if "regex" in block
        for pattern in block_lines(block)
    ]


def _extract(text: str) -> list[tuple[str, str]]:
    """(entity, value) the way RegexEntityExtractor (case-insensitive) + synonyms would give them."""
    synonyms = _synonyms()
    found = []
    for name, pattern in _entity_patterns():
        if name not in ENTITIES:
            continue
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            found.append((name, synonyms.get(match.group().lower(), match.group())))
    return found


def test_every_block_is_tagged_with_a_known_language() -> None:
    for path in [*TRAINING_FILES, TEST_SET]:
        for block in load_blocks(path):
            if "intent" in block:
                lang = block_lang(block)
                assert lang in LANGUAGES, f"{path.name}: {block['intent']} has lang {lang!r}"


def test_training_data_has_exactly_the_catalog_intents() -> None:
    assert {intent for intent, _lang in TRAINING} == INTENTS


@pytest.mark.parametrize("intent", sorted(INTENTS))
def test_intent_is_trained_in_english_hindi_and_hinglish(intent: str) -> None:
    for lang in LANGUAGES:
        assert len(TRAINING[(intent, lang)]) >= MIN_TRAINING_PER_LANGUAGE, (intent, lang)


@pytest.mark.parametrize("intent", sorted(INTENTS))
def test_intent_is_in_the_test_set_in_every_language(intent: str) -> None:
    for lang in LANGUAGES:
        assert len(TEST[(intent, lang)]) >= MIN_TEST_PER_LANGUAGE, (intent, lang)


@pytest.mark.parametrize("dataset", ["training", "test"])
def test_examples_are_written_in_the_script_of_their_language(dataset: str) -> None:
    data = TRAINING if dataset == "training" else TEST
    for (intent, lang), examples in data.items():
        for example in examples:
            text = example.text
            if lang == "hi":
                assert DEVANAGARI.search(text), f"{intent}/hi without Devanagari: {text!r}"
            else:
                # Bare ASCII answers ("210145678912", "₹500") are script-neutral.
                assert not DEVANAGARI.search(text), f"{intent}/{lang} in Devanagari: {text!r}"


def test_no_test_sentence_is_also_a_training_sentence() -> None:
    training = {_key(e.text) for examples in TRAINING.values() for e in examples}
    copies = [e.text for examples in TEST.values() for e in examples if _key(e.text) in training]
    assert copies == []


def test_no_sentence_is_trained_under_two_intents() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for (intent, _lang), examples in TRAINING.items():
        for example in examples:
            key = _key(example.text)
            if seen.setdefault(key, intent) != intent:
                clashes.append((example.text, seen[key], intent))
    assert clashes == []


def test_files_are_nfc_normalised() -> None:
    # The gateway hands Rasa NFC text; a decomposed nukta in the data would never match it.
    for path in [*TRAINING_FILES, TEST_SET]:
        text = path.read_text(encoding="utf-8")
        assert unicodedata.normalize("NFC", text) == text, path.name


def test_annotations_use_catalog_entities_with_known_values() -> None:
    synonyms = _synonyms()
    for data in (TRAINING, TEST):
        for examples in data.values():
            for example in examples:
                for annotation in example.annotations:
                    entity = annotation.entity
                    assert entity in ENTITIES, example
                    if entity in CANONICAL_VALUES:
                        text = annotation.text
                        resolved = annotation.value or synonyms.get(text.lower(), text)
                        assert resolved in CANONICAL_VALUES[entity], (example, resolved)


def test_every_pattern_alternative_maps_to_a_canonical_value() -> None:
    # The extractor returns the matched text; only a synonym turns it into the value.
    synonyms = _synonyms()
    for name, pattern in _entity_patterns():
        if name not in CANONICAL_VALUES:
            continue
        group = re.search(r"\(\?:([^()]*)\)", pattern)
        assert group, pattern
        for alternative in group.group(1).split("|"):
            assert synonyms.get(alternative.lower()) in CANONICAL_VALUES[name], alternative


def test_patterns_compile() -> None:
    for _name, pattern in _entity_patterns():
        re.compile(pattern)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mera k number 2101 4567 8912 hai", [("consumer_number", "2101 4567 8912")]),
        ("२१०१४५६७८९१२", [("consumer_number", "२१०१४५६७८९१२")]),
        ("K no. 2101-4567-8912", [("consumer_number", "2101-4567-8912")]),
        ("otp 482913 hai", [("otp", "482913")]),
        ("ओटीपी ५८२९१३", [("otp", "५८२९१३")]),
        ("pay Rs 1,250", [("amount", "Rs 1,250")]),
        ("500 rupaye jama karo", [("amount", "500 rupaye")]),
        ("Rs 125000 bharne hain", [("amount", "Rs 125000")]),
        ("बिजली का बिल", [("utility", "electricity")]),
        ("paani ka bill", [("utility", "water")]),
        ("current ka bill kitna hai", [("utility", "electricity")]),
        ("Kota wale ghar ka", [("biller", "KEDLOB000RAJ02")]),
        ("Tata Power Ajmer", [("biller", "TPADL0000RAJ01")]),
        ("जलदाय विभाग", [("biller", "PHED00000RAJ01")]),
        ("hindi mein baat karo", [("language", "hi")]),
        ("5 tarikh ko yaad dilana", [("date", "5 tarikh")]),
        ("remind me on 20 January", [("date", "20 January")]),
        ("mera email Ramesh.K@gmail.com hai", [("email", "Ramesh.K@gmail.com")]),
        ("मेरा ईमेल sunita1985@yahoo.co.in है", [("email", "sunita1985@yahoo.co.in")]),
        # A utility word inside a biller's name gives only the biller.
        ("pay my Torrent Gas bill", [("biller", "TGPL00000RAJ01")]),
        ("Rajasthan State Gas connection", [("biller", "RSGL00000RAJ01")]),
        ("Ajmer Vidyut Vitran Nigam", [("biller", "AVVNL0000RAJ01")]),
        ("जयपुर विद्युत वितरण निगम का बिल", [("biller", "JVVNL0000RAJ01")]),
        ("Bikaner Electricity Supply Limited", [("biller", "BKESL0000RAJ02")]),
        ("jal vibhag ka bill", [("biller", "PHED00000RAJ01")]),
        ("टोरेंट गैस", [("biller", "TGPL00000RAJ01")]),
        # ...but a utility next to a place name is still a utility.
        ("Jaipur bijli ka bill", [("biller", "JVVNL0000RAJ01"), ("utility", "electricity")]),
        ("gas bill kitna hai", [("utility", "gas")]),
        ("electricity supply is cut", [("utility", "electricity")]),
        # Words that only contain an entity must not produce one.
        ("jaldi karo", []),
        ("kotak bank ka loan", []),
        ("current month ka statement", []),
        ("pichle 3 mahine ke payment", []),
    ],
)
def test_pattern_extraction(text: str, expected: list[tuple[str, str]]) -> None:
    assert sorted(_extract(text)) == sorted(expected)


def test_annotation_spans_cover_their_text() -> None:
    # scripts/nlu_eval.py scores entities by these spans.
    for data in (TRAINING, TEST):
        for examples in data.values():
            for example in examples:
                for annotation in example.annotations:
                    assert example.text[annotation.start : annotation.end] == annotation.text
