"""A form whose validation cannot run (the action server down) keeps no unchecked value:
the slot stays empty and the same question is asked again (integrations/rasa/engine/form_faults.py).
Rasa's own FormAction, with the action server's address closed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from integrations.rasa.engine import server_tuning
from tests.engine.conftest import free_port
from tests.engine.test_action_server_faults import UNAVAILABLE_EN, close_kept_session

pytestmark = pytest.mark.slow  # imports Rasa

ASK_SSO_ID = "Please type your SSO ID."
ASK_OTP = "Please type the 6-digit code."


def link_form_turn(text: str) -> tuple[list[Any], Any]:
    """The link form asked for the SSO ID; the resident answers `text`; validation cannot
    reach the action server. The form's events and the tracker after them."""
    from rasa.core.actions.forms import FormAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    server_tuning.apply()
    asked = [{"active_loop": "link_form"}]
    domain = Domain.from_dict(
        {
            "intents": ["thank"],
            "slots": {
                "sso_id": {
                    "type": "text",
                    "mappings": [{"type": "from_text", "conditions": asked}],
                },
                "otp": {"type": "text", "mappings": [{"type": "from_text", "conditions": asked}]},
            },
            "forms": {"link_form": {"required_slots": ["sso_id", "otp"]}},
            "responses": {
                "utter_ask_sso_id": [{"text": ASK_SSO_ID}],
                "utter_ask_otp": [{"text": ASK_OTP}],
                "utter_service_unavailable": [{"text": UNAVAILABLE_EN}],
            },
            "actions": ["validate_link_form"],
        }
    )
    tracker = DialogueStateTracker.from_events(
        "form-faults",
        [
            ActiveLoop("link_form"),
            SlotSet("requested_slot", "sso_id"),
            ActionExecuted("action_listen"),
            UserUttered(text, {"name": "thank", "confidence": 1.0}),
            SlotSet("sso_id", text),  # what Rasa's action_extract_slots does first
        ],
        slots=domain.slots,
    )
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{free_port()}/webhook")
    form = FormAction("link_form", endpoint)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)

    async def run() -> list[Any]:
        try:
            return await form.run(CollectingOutputChannel(), nlg, tracker, domain)
        finally:
            await close_kept_session(endpoint)

    events = asyncio.run(run())
    for event in events:
        tracker.update(event)
    return events, tracker


def test_an_answer_its_validation_could_not_check_is_asked_for_again() -> None:
    events, tracker = link_form_turn("thanks")

    said = [event.text for event in events if hasattr(event, "text") and event.text]
    assert said == [UNAVAILABLE_EN, ASK_SSO_ID]  # nothing was changed: the same question
    assert tracker.get_slot("sso_id") is None
    assert tracker.get_slot("requested_slot") == "sso_id"
