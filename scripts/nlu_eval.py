"""`make nlu-eval`: how well the NLU understands each of the three ways residents write.

Trains an NLU model on nlu_data/ into a temporary directory, evaluates it on the held-out
tests/nlu/test_nlu.yml (Rasa's reports and confusion matrix, plus our own scores split by
each block's `metadata.lang`), then cross-validates on the training data with
`rasa test nlu --cross-validation`. Everything lands in reports/nlu/; the last line printed
is a one-line JSON summary.

For quick iterations, `python -m scripts.nlu_eval --skip-cv` (or NLU_EVAL_SKIP_CV=1) scores
only the held-out test split and leaves the cross-validation out (about 10 minutes saved);
`make nlu-eval` always runs both.

Run from the repository root: `python -m scripts.nlu_eval` (config.yml names our own
pipeline component, integrations.rasa.engine.normaliser, which must be importable: the
engine runtime, `.venv-engine/bin/python -m scripts.nlu_eval`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.model.text import normalise_with_origins
from scripts.nlu_corpus import LANGUAGES, Example, intent_examples, load_blocks

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yml"
NLU_DATA = ROOT / "nlu_data"
TEST_SET = ROOT / "tests" / "nlu" / "test_nlu.yml"
REPORTS = ROOT / "reports" / "nlu"
CROSS_VALIDATION_REPORTS = REPORTS / "cross_validation"
# Three folds train three more models of ~850 examples each: with the training on the full
# data that is about 10 minutes on 2 cores. More folds would not fit the budget.
CV_FOLDS = 3
WEAKEST_SHOWN = 5

Span = tuple[str, int, int]  # (entity, start, end) in the normalised text


@dataclass(frozen=True)
class Prediction:
    intent: str
    spans: frozenset[Span]


def train_nlu_model(out_dir: Path) -> str:
    """An NLU-only model trained on nlu_data/ with config.yml; the test set stays out."""
    from rasa.model_training import train_nlu

    model = train_nlu(str(CONFIG), str(NLU_DATA), str(out_dir), fixed_model_name="nlu")
    if model is None:
        raise SystemExit("rasa train nlu produced no model")
    return model


async def evaluate_test_split(model: str, examples: list[Example]) -> list[Prediction]:
    """Rasa's reports for the test set in reports/nlu/, and our prediction for each example."""
    from rasa.core.agent import Agent
    from rasa.core.channels import UserMessage
    from rasa.nlu.test import run_evaluation

    processor = Agent.load(model).processor
    await run_evaluation(
        str(TEST_SET), processor, output_directory=str(REPORTS), errors=True, report_as_dict=True
    )
    predictions = []
    for example in examples:
        parsed = await processor.parse_message(UserMessage(example.text))
        spans = frozenset((e["entity"], e["start"], e["end"]) for e in parsed["entities"])
        predictions.append(Prediction(parsed["intent"]["name"], spans))
    return predictions


def gold_spans(example: Example) -> frozenset[Span]:
    """The annotated spans moved into the normalised text the model sees and answers about."""
    normalised = normalise_with_origins(example.text)
    return frozenset(
        (a.entity, normalised.position(a.start), normalised.position(a.end))
        for a in example.annotations
    )


def intent_scores(expected: list[str], predicted: list[str]) -> dict[str, float]:
    """Accuracy, and F1 averaged over the intents of this slice (a fallback is a miss)."""
    from sklearn.metrics import accuracy_score, f1_score

    macro_f1 = f1_score(
        expected, predicted, labels=sorted(set(expected)), average="macro", zero_division=0
    )
    return {
        "accuracy": round(float(accuracy_score(expected, predicted)), 4),
        "macro_f1": round(float(macro_f1), 4),
    }


def entity_f1(expected: list[frozenset[Span]], predicted: list[frozenset[Span]]) -> float | None:
    """Micro F1 over exact (entity, start, end) spans; None when there is nothing to score."""
    true_positives = sum(len(gold & guess) for gold, guess in zip(expected, predicted, strict=True))
    n_expected = sum(map(len, expected))
    n_predicted = sum(map(len, predicted))
    if n_expected + n_predicted == 0:
        return None
    return round(2 * true_positives / (n_expected + n_predicted), 4)


def slice_scores(examples: list[Example], predictions: list[Prediction]) -> dict[str, Any]:
    return {
        "examples": len(examples),
        **intent_scores([e.intent for e in examples], [p.intent for p in predictions]),
        "entity_f1": entity_f1([gold_spans(e) for e in examples], [p.spans for p in predictions]),
    }


def scores_by_language(examples: list[Example], predictions: list[Prediction]) -> dict[str, Any]:
    by_language = {}
    for lang in LANGUAGES:
        pairs = [(e, p) for e, p in zip(examples, predictions, strict=True) if e.lang == lang]
        by_language[lang] = slice_scores([e for e, _ in pairs], [p for _, p in pairs])
    return by_language


def cross_validate() -> dict[str, Any]:
    """`rasa test nlu --cross-validation` on nlu_data/, reports in reports/nlu/cross_validation/."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--nlu", str(NLU_DATA),
            "--config", str(CONFIG), "--cross-validation", "--folds", str(CV_FOLDS),
            "--out", str(CROSS_VALIDATION_REPORTS),
        ],
        cwd=ROOT,
        check=True,
    )  # fmt: skip
    report = json.loads((CROSS_VALIDATION_REPORTS / "intent_report.json").read_text())
    return {
        "folds": CV_FOLDS,
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weakest_intents": weakest_intents(report),
    }


def weakest_intents(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The intents of a Rasa intent report with the lowest F1, and what they were taken for."""
    intents = {
        name: scores
        for name, scores in report.items()
        if isinstance(scores, dict) and "confused_with" in scores
    }
    weakest = sorted(intents, key=lambda name: intents[name]["f1-score"])[:WEAKEST_SHOWN]
    return [
        {
            "intent": name,
            "f1": round(intents[name]["f1-score"], 4),
            "confused_with": intents[name]["confused_with"],
        }
        for name in weakest
    ]


def skip_cross_validation(argv: list[str]) -> bool:
    """True with --skip-cv or NLU_EVAL_SKIP_CV=1: only the test split is scored."""
    return "--skip-cv" in argv or os.environ.get("NLU_EVAL_SKIP_CV", "") not in ("", "0")


def main() -> None:
    skip_cv = skip_cross_validation(sys.argv[1:])
    started = time.monotonic()
    # Set before Rasa (imported lazily) loads matplotlib: the build machine has no display.
    # The cross-validation subprocess inherits both.
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    shutil.rmtree(REPORTS, ignore_errors=True)
    REPORTS.mkdir(parents=True)
    examples = intent_examples(load_blocks(TEST_SET))
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as tmp:
        model = train_nlu_model(Path(tmp))
        train_seconds = round(time.monotonic() - started)
        predictions = asyncio.run(evaluate_test_split(model, examples))
    test_report = json.loads((REPORTS / "intent_report.json").read_text())
    cross_validation = None if skip_cv else cross_validate()
    summary = {
        "test": {
            **slice_scores(examples, predictions),
            "by_language": scores_by_language(examples, predictions),
            "weakest_intents": weakest_intents(test_report),
        },
        "cross_validation": cross_validation,
        "train_seconds": train_seconds,
        "seconds": round(time.monotonic() - started),
    }
    (REPORTS / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(json.dumps(one_line(summary), ensure_ascii=False))


def one_line(summary: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers: overall and per language, and the cross-validation accuracy."""
    keys = ("accuracy", "macro_f1", "entity_f1")
    test = summary["test"]
    return {
        **{key: test[key] for key in keys},
        **{
            f"{lang}_{key}": scores[key]
            for lang, scores in test["by_language"].items()
            for key in keys
        },
        "cv_accuracy": cv["accuracy"] if (cv := summary["cross_validation"]) else None,
        "cv_folds": cv["folds"] if cv else None,
        "seconds": summary["seconds"],
    }


if __name__ == "__main__":
    main()
