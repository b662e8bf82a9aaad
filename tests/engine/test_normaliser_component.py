"""The pipeline component keeps training annotations on the text they mark when it rewrites."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from integrations.rasa.engine.normaliser import TextNormaliser, normalise_message


def _annotated(text: str, covered: str, entity: str, value: str | None = None) -> Message:
    start = text.index(covered)
    end = start + len(covered)
    annotation = {"entity": entity, "start": start, "end": end, "value": value or covered}
    return Message(data={"text": text, "intent": "inform", "entities": [annotation]})


def _covered(message: Message) -> list[tuple[str, str]]:
    text = message.get("text")
    return [(text[e["start"] : e["end"]], e["value"]) for e in message.get("entities")]


def test_a_grouped_number_is_joined_and_its_annotation_follows() -> None:
    message = _annotated(
        "mera number २१०१ ४५६७ ८९१२ hai, otp 482913", "२१०१ ४५६७ ८९१२", "consumer_number"
    )
    TextNormaliser().process_training_data(TrainingData([message]))
    assert message.get("text") == "mera number 210145678912 hai, otp 482913"
    assert _covered(message) == [("210145678912", "210145678912")]


def test_an_explicit_value_is_kept() -> None:
    message = _annotated("बिजली\u200d का बिल", "बिजली\u200d", "utility", value="electricity")
    normalise_message(message)
    assert _covered(message) == [("बिजली", "electricity")]


def test_live_messages_are_normalised_but_button_payloads_are_not() -> None:
    typed = Message(data={"text": "k no 2101-4567-8912"})
    button = Message(data={"text": '/inform{"consumer_number": "2101 4567 8912"}'})
    TextNormaliser().process([typed, button])
    assert typed.get("text") == "k no 210145678912"
    assert button.get("text") == '/inform{"consumer_number": "2101 4567 8912"}'
