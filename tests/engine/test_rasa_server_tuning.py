"""The Rasa server's speed fixes (integrations/rasa/engine/server_tuning.py) answer exactly what
Rasa itself answers, on the trained model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.engine.conftest import MODEL

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAYLOADS = [
    "/check_bill",
    "/pay_bill",
    "/affirm",
    '/inform{"biller": "JVVNL0000RAJ01"}',
    '/inform{"utility": "electricity"}',
    '/change_language{"language": "hi"}',
]
TEXTS = ["hi", "yes", "menu", "bijli ka bill kitna hai", "how much is my electricity bill?"]


@pytest.fixture(scope="module")
def processor() -> Iterator[Any]:
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make model` (make test does it)")
    from rasa.core.agent import Agent

    from integrations.rasa.engine import server_tuning

    server_tuning.apply()
    yield Agent.load(str(MODEL)).processor


def _essence(parse: dict[str, Any]) -> tuple[Any, ...]:
    entities = sorted((e["entity"], str(e["value"])) for e in parse.get("entities", []))
    return parse["text"], parse["intent"]["name"], entities


@pytest.mark.parametrize("text", PAYLOADS)
def test_a_payload_is_unpacked_as_the_full_pipeline_would(processor: Any, text: str) -> None:
    from rasa.core.channels import UserMessage

    message = UserMessage(text, sender_id="tuning-test")
    tracker = processor.tracker_store.init_tracker("tuning-test")
    fast = processor._parse_message_with_graph(message, tracker)
    full = processor._bot_untuned_parse(message, tracker)
    assert _essence(fast) == _essence(full)
    assert fast["intent"]["confidence"] == 1.0


def test_a_repeated_text_gets_the_parse_it_got_the_first_time(processor: Any) -> None:
    from rasa.core.channels import UserMessage

    tracker = processor.tracker_store.init_tracker("tuning-test")
    for text in TEXTS:
        message = UserMessage(text, sender_id="tuning-test")
        full = processor._bot_untuned_parse(message, tracker)
        first = processor._parse_message_with_graph(message, tracker)
        first["intent"]["name"] = "tampered"  # a caller mutating its copy spoils nothing
        again = processor._parse_message_with_graph(message, tracker)
        assert _essence(again) == _essence(full)


def test_the_model_graph_in_a_fixed_order_answers_as_dask_does(processor: Any) -> None:
    """Parses and next-action predictions along a conversation, with the graph run in its
    fixed order and through dask: the same intents, entities, actions and confidences."""
    from rasa.core.channels import UserMessage
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, UserUttered

    tuned, through_dask = DaskGraphRunner.run, DaskGraphRunner._bot_dask_run
    assert tuned is not through_dask

    def both(call: Any) -> tuple[Any, Any]:
        try:
            DaskGraphRunner.run = through_dask
            expected = call()
        finally:
            DaskGraphRunner.run = tuned
        return call(), expected

    tracker = processor.tracker_store.init_tracker("graph-order-test")
    tracker.update(ActionExecuted("action_listen"))
    for text in [*TEXTS, "bench.r0042", "210900000042", "thanks", "bye"]:
        message = UserMessage(text, sender_id="graph-order-test")
        parsed, expected = both(lambda m=message: processor._bot_untuned_parse(m, tracker))
        assert _essence(parsed) == _essence(expected)
        assert parsed["intent"]["confidence"] == expected["intent"]["confidence"]
        tracker.update(UserUttered(text, parsed["intent"], parsed.get("entities", [])))
        predicted, expected = both(lambda: processor._predict_next_with_tracker(tracker))
        assert (predicted.max_confidence_index, predicted.policy_name) == (
            expected.max_confidence_index,
            expected.policy_name,
        )
        assert predicted.probabilities == expected.probabilities
        tracker.update(
            ActionExecuted(processor.domain.action_names_or_texts[predicted.max_confidence_index])
        )
        tracker.update(ActionExecuted("action_listen"))
