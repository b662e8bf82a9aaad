"""A Rasa pipeline component that puts each message in canonical form before tokenising.

The rewriting itself is `bot.model.text.normalise_text`; this adapter applies it to live
messages and to the training data, moving annotated entity spans along with the characters
they cover so that DIET still learns the right tokens.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.model.text import normalise_with_origins


# A featurizer, not a tokenizer, by type: the default recipe runs featurizers in pipeline
# order in both the training and the inference graph, which is all this needs; it learns
# nothing, so it has no train step.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormaliser(GraphComponent):  # rasa has no py.typed: an Any base (allowed here)
    """Rewrites `message.data["text"]` into the form of `normalise_text` (first in the pipeline)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormaliser:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            normalise_message(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            normalise_message(example)
        return training_data


def normalise_message(message: Message) -> None:
    """Normalise the message text in place, moving its entity annotations with it."""
    text = message.get(TEXT)
    # "/intent{...}" payloads (buttons) are parsed by Rasa as they are: leave them alone.
    if not isinstance(text, str) or not text or text.startswith(INTENT_MESSAGE_PREFIX):
        return
    normalised = normalise_with_origins(text)
    if normalised.text == text:
        return
    for entity in message.get(ENTITIES) or []:
        start, end = entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]
        new_start, new_end = normalised.position(start), normalised.position(end)
        # A value that was just the annotated text becomes the normalised text; an explicit
        # value (a synonym such as "electricity") stays.
        if entity.get(ENTITY_ATTRIBUTE_VALUE) == text[start:end]:
            entity[ENTITY_ATTRIBUTE_VALUE] = normalised.text[new_start:new_end]
        entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END] = new_start, new_end
    message.set(TEXT, normalised.text)
