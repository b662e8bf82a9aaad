"""A long Rasa session is closed at a resting point, never in the middle of a form or an
open question (integrations/rasa/engine/server_tuning.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from integrations.rasa.engine import server_tuning

pytestmark = pytest.mark.slow  # imports Rasa


def tracker_with(turns: int, **state: Any) -> Any:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_dict(
        {
            "session_config": {"session_expiration_time": 60},
            "slots": {
                "pending_confirmation": {"type": "text", "mappings": [{"type": "custom"}]},
                "requested_slot": {"type": "text", "mappings": [{"type": "custom"}]},
            },
            "forms": {"link_form": {"required_slots": []}},
        }
    )
    events: list[Any] = []
    for _ in range(turns):
        events += [
            ActionExecuted("action_listen"),
            UserUttered("hi", {"name": "greet", "confidence": 1.0}),
            ActionExecuted("utter_greet"),
        ]
    if state.get("pending"):
        events.append(SlotSet("pending_confirmation", "pay"))
    if state.get("form"):
        events.append(ActiveLoop("link_form"))
    tracker = DialogueStateTracker.from_events("cap", events, slots=domain.slots)
    return SimpleNamespace(domain=domain), tracker


def expired(processor: Any, tracker: Any) -> bool:
    from rasa.core.processor import MessageProcessor

    server_tuning.apply()
    return bool(MessageProcessor._has_session_expired(processor, tracker))


def test_a_short_session_goes_on() -> None:
    assert not expired(*tracker_with(turns=10))


def test_a_long_session_at_rest_is_closed() -> None:
    assert expired(*tracker_with(turns=server_tuning.MAX_SESSION_EVENTS // 3 + 1))


def test_a_long_session_is_never_closed_with_a_question_open_or_a_form_running() -> None:
    turns = server_tuning.MAX_SESSION_EVENTS // 3 + 1
    assert not expired(*tracker_with(turns=turns, pending=True))
    assert not expired(*tracker_with(turns=turns, form=True))
