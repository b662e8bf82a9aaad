"""Button payloads in the domain survive Rasa 3.6's template filling (issue 13, finding 2).

Rasa fills `{name}` in every string of a response, button payloads included
(rasa/core/nlg/interpolator.py): a payload's JSON braces must be doubled (`{{…}}`), which
`interpolate_text` turns back into single ones through its `response.format({})` fallback.
A single-braced `/change_language{"language": "hi"}` raises KeyError on every display and
Rasa logs it at ERROR with the local variables, slot values included. Here every variation
of every response with buttons is filled by Rasa's own generator, with slots set as in a
linked conversation, and each payload must come out as Rasa's parser reads it: the intent
and entities the button means, with nothing logged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rasa.core.nlg.interpolator import interpolate_text
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from structlog.testing import capture_logs

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "bot" / "dialogue" / "domain"
DOMAIN = Domain.load(str(DOMAIN_DIR))
SLOTS = {slot.name: None for slot in DOMAIN.slots} | {
    "sso_id": "sunita.devi",
    "consumer_number": "410389012345",
    "linked": True,
}
WITH_BUTTONS = sorted(
    name
    for name, variations in DOMAIN.responses.items()
    if any(variation.get("buttons") for variation in variations)
)


def test_the_language_buttons_are_among_those_checked() -> None:
    assert {"utter_greet", "utter_help"} <= set(WITH_BUTTONS)


@pytest.mark.parametrize("language", ["en", "hi"])
@pytest.mark.parametrize("response", WITH_BUTTONS)
def test_every_payload_survives_template_filling(response: str, language: str) -> None:
    slots = SLOTS | {"language": language}
    for variation in DOMAIN.responses[response]:
        for template in variation.get("buttons") or []:
            # As TemplatedNaturalLanguageGenerator._fill_response fills it (titles may hold
            # values the uttering action passes, such as the amount: not checked here).
            with capture_logs() as logs:
                payload = interpolate_text(template["payload"], slots)
            assert not [entry for entry in logs if entry["log_level"] in ("error", "warning")]
            assert "0[" not in payload and "{{" not in payload, payload
            if not payload.startswith("/"):
                continue  # a plain text answer
            parsed = YAMLStoryReader.unpack_regex_message(Message({TEXT: payload}), DOMAIN)
            assert parsed.get(INTENT)[INTENT_NAME_KEY] in DOMAIN.intents, payload
            meant = re.search(r"\{\{(.*)\}\}", template["payload"])
            if meant:  # the entities the button means, as Rasa's parser reads them
                expected = json.loads("{" + meant.group(1) + "}")
                got = {e["entity"]: e["value"] for e in parsed.get(ENTITIES, [])}
                assert got == expected, payload
