"""The trained model holds whole conversations in English, Devanagari and Hinglish.

`rasa test core --e2e` replays tests/conversations/test_*.yml against models/current.tar.gz:
the NLU must find each user turn's intent and entities, and the policies must predict each
action. Without --e2e Rasa would take the intents written in the story and skip the NLU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import MODEL, ROOT

# The stories live with the other conversation tests; Rasa runs here, in the engine runtime.
STORIES = ROOT / "tests" / "conversations"
RASA = Path(sys.executable).parent / "rasa"


def test_story_files_are_named_for_rasa_to_find_them() -> None:
    # With --e2e Rasa reads only files named test_*.yml; any other story file would be skipped.
    assert {path.name for path in STORIES.glob("*.yml")} == {"test_conversations.yml"}


@pytest.mark.slow
def test_conversation_stories_pass(tmp_path: Path) -> None:
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make model` (make test does it)")
    out = tmp_path / "results"
    result = subprocess.run(
        [
            str(RASA), "test", "core", "--model", str(MODEL), "--stories", str(STORIES),
            "--e2e", "--fail-on-prediction-errors", "--out", str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    # On the first wrong prediction Rasa prints the story so far and exits non-zero.
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
