"""What Rasa answers a message it has answered before (integrations/rasa/engine/keyed_turns.py):
the replies that message's turn gave, found by its key in the tracker's events. The whole
path (gateway crash, Rasa's REST channel, the tracker store) runs in tests/faults."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from integrations.rasa.engine.keyed_turns import earlier_replies, message_key

pytestmark = pytest.mark.slow  # imports Rasa


def said(text: str, key: str | None) -> UserUttered:
    return UserUttered(text, {"name": "greet"}, metadata={"message_key": key} if key else None)


EVENTS = [
    said("hi", "wa:1"),
    BotUttered("Privacy: …"),
    BotUttered(
        "Namaste!", data={"buttons": [{"title": "Check my bill", "payload": "/check_bill"}]}
    ),
    ActionExecuted("action_listen"),
    said("my bill", "wa:2"),
    SlotSet("goal", "check"),
    BotUttered("Which utility?"),
    ActionExecuted("action_listen"),
    said("thanks", None),
    BotUttered("You're welcome"),
]


def test_a_message_seen_before_gets_exactly_its_own_turns_replies() -> None:
    first = earlier_replies(EVENTS, "wa:1")
    assert first is not None
    assert [m["text"] for m in first] == ["Privacy: …", "Namaste!"]
    assert first[1]["buttons"] == [{"title": "Check my bill", "payload": "/check_bill"}]
    second = earlier_replies(EVENTS, "wa:2")
    assert second is not None and [m["text"] for m in second] == ["Which utility?"]


def test_a_new_message_is_not_found() -> None:
    assert earlier_replies(EVENTS, "wa:3") is None
    assert earlier_replies([], "wa:1") is None


def test_the_key_is_read_only_from_a_string_in_the_metadata() -> None:
    assert message_key({"message_key": "wa:1"}) == "wa:1"
    assert message_key({"message_key": 7}) == ""
    assert message_key(None) == ""
