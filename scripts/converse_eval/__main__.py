"""`make converse-eval`: scripted residents who leave the happy path, on the whole stack.

    python -m scripts.converse_eval                 # every scenario
    python -m scripts.converse_eval --only cancel   # scenarios whose name contains "cancel"
    python -m scripts.converse_eval --only hi-web-sso -v   # and print every exchange

One line per scenario, then one JSON object with the figures (README, "Conversation repair").
"""

from __future__ import annotations

import argparse
import json
import os

from scripts.converse_eval.suite import DEFAULT_JOBS, run_suite


def main() -> None:
    parser = argparse.ArgumentParser(prog="converse-eval", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="run the scenarios whose name contains TEXT (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print each turn's exchange")
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("CONVERSE_EVAL_JOBS", DEFAULT_JOBS)),
        help=f"scenarios played at once (default {DEFAULT_JOBS})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the stack's log and database")
    args = parser.parse_args()
    only = args.only or [p for p in os.environ.get("ONLY", "").split(",") if p]
    _, figures = run_suite(only=only, jobs=args.jobs, verbose=args.verbose, keep=args.keep)
    print(json.dumps(figures, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
