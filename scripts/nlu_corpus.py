"""Reading our NLU YAML (nlu_data/*.yml, tests/nlu/test_nlu.yml) as plain data, without Rasa.

Every intent block carries `metadata: {lang: en | hi | hinglish}`; the data checks
(tests/nlu/test_nlu_data.py) and the evaluation (scripts/nlu_eval.py) both group by it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("en", "hi", "hinglish")
# [text](entity) or [text]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Annotation:
    """One annotated entity, with its character span in the plain text."""

    entity: str
    text: str
    value: str | None  # the explicit value of {"value": ...}, None when it is the text
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    """One training or test sentence, its annotations removed."""

    intent: str
    lang: str | None
    text: str
    annotations: tuple[Annotation, ...]


def load_blocks(path: Path) -> list[dict[str, Any]]:
    """The `nlu:` blocks of one file (intents, synonyms, regexes, lookups)."""
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", [])


def block_lines(block: dict[str, Any]) -> list[str]:
    """The `- ` lines of a block's `examples`, annotations kept."""
    return [
        line.strip()[2:] for line in block["examples"].splitlines() if line.strip().startswith("- ")
    ]


def block_lang(block: dict[str, Any]) -> str | None:
    return (block.get("metadata") or {}).get("lang")


def parse_line(line: str) -> tuple[str, tuple[Annotation, ...]]:
    """Plain text of an example line and its annotations, spans pointing into that text."""
    plain: list[str] = []
    annotations = []
    position = cursor = 0
    for match in ANNOTATION.finditer(line):
        plain.append(line[cursor : match.start()])
        position += match.start() - cursor
        text = match.group("text")
        if match.group("entity"):
            entity, value = match.group("entity"), None
        else:
            spec = yaml.safe_load(match.group("json"))
            entity, value = spec["entity"], spec.get("value")
        annotations.append(Annotation(entity, text, value, position, position + len(text)))
        plain.append(text)
        position += len(text)
        cursor = match.end()
    plain.append(line[cursor:])
    return "".join(plain), tuple(annotations)


def intent_examples(blocks: list[dict[str, Any]]) -> list[Example]:
    """Every example of the intent blocks, in file order."""
    examples = []
    for block in blocks:
        if "intent" in block:
            for line in block_lines(block):
                text, annotations = parse_line(line)
                examples.append(Example(block["intent"], block_lang(block), text, annotations))
    return examples


def by_intent_and_lang(examples: list[Example]) -> dict[tuple[str, str | None], list[Example]]:
    grouped: dict[tuple[str, str | None], list[Example]] = defaultdict(list)
    for example in examples:
        grouped[(example.intent, example.lang)].append(example)
    return grouped
