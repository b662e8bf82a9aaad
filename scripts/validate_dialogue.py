"""`rasa data validate`, strict: any warning fails, with one exception Rasa cannot express.

Rasa warns about every response that no story or rule mentions, including the ones our
custom actions send (`dispatcher.utter_message(response=...)`) and the `utter_ask_<slot>`
a form sends by itself. Those warnings are accepted only when an action module really
names the response or a form really has the slot; a response nobody sends still fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
WARNING = re.compile(r"UserWarning: (.*)")


def responses_sent_by_actions_and_forms() -> set[str]:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    sent = set(re.findall(r"\"(utter_\w+)\"", sources))
    # Forms ask for a slot with utter_ask_<slot> by themselves.
    for path in (ROOT / "bot" / "dialogue" / "domain").glob("*.yml"):
        for form in (yaml.safe_load(path.read_text(encoding="utf-8")).get("forms") or {}).values():
            sent |= {f"utter_ask_{slot}" for slot in form["required_slots"]}
    return sent


def main() -> int:
    command = [
        # Rasa lives in the engine runtime: `make validate` runs this on .venv-engine's Python.
        str(Path(sys.executable).with_name("rasa")),
        "data",
        "validate",
        "--config",
        "config.yml",
        "--domain",
        "bot/dialogue/domain",
        "--data",
        "nlu_data",
        "bot/dialogue/flows",
    ]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    sent = responses_sent_by_actions_and_forms()
    problems = []
    for warning in WARNING.findall(output):
        unused = UNUSED.search(warning)
        if unused and unused.group(1) in sent:
            continue
        problems.append(warning)
    if result.returncode != 0:
        problems.append(f"rasa data validate exited with {result.returncode}")
    for problem in problems:
        print(f"validate: {problem}")
    print(
        "validate: dialogue data is clean"
        if not problems
        else f"validate: {len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
