"""Running scenarios on one stack: residents copied, the stack started once, a few at a time."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, TextIO

from scripts.converse_eval import metrics, report
from scripts.converse_eval.residents import (
    PlaceholderError,
    copy_resident,
    fill,
    load_seed_residents,
    write_seed,
)
from scripts.converse_eval.responses import ResponseCatalog
from scripts.converse_eval.runner import Cast, run_scenario
from scripts.converse_eval.scenarios import Scenario, ScenarioError, load_scenarios
from scripts.converse_eval.stack import running_stack
from scripts.converse_eval.transcript import ScenarioResult

# Scenarios played at once: channel turns wait on the delivery loop and Telegram's pacing
# (1 message a second per chat), so a few in parallel keep two cores busy without queueing.
DEFAULT_JOBS = 4


def cast_all(scenarios: Sequence[Scenario], catalog: ResponseCatalog) -> list[Cast]:
    """Each scenario with its own copy of its seed resident; checks every response name a
    scenario expects exists in the domain, so a typo fails loudly, not as a red scenario."""
    seed = load_seed_residents()
    casts = []
    for index, scenario in enumerate(scenarios):
        if scenario.resident not in seed:
            raise ScenarioError(f"{scenario.name}: no seed resident {scenario.resident!r}")
        names = [
            n for t in scenario.turns for item in t.expect + t.not_expect for n in item.split("|")
        ]
        unknown = sorted({n for n in names if not catalog.knows(n)})
        if unknown:
            raise ScenarioError(f"{scenario.name}: unknown responses {unknown}")
        resident = copy_resident(seed[scenario.resident], index)
        try:
            if scenario.goal.account:
                resident.account(scenario.goal.account)
            for turn in scenario.turns:
                fill(turn.say or "", resident, ["000000"])
        except PlaceholderError as exc:
            raise ScenarioError(f"{scenario.name}: {exc}") from exc
        casts.append(Cast(scenario, resident, index))
    return casts


def select(scenarios: Sequence[Scenario], only: Sequence[str]) -> list[Scenario]:
    if not only:
        return list(scenarios)
    return [s for s in scenarios if any(part in s.name for part in only)]


def run_suite(
    only: Sequence[str] = (),
    jobs: int = DEFAULT_JOBS,
    verbose: bool = False,
    out: TextIO = sys.stdout,
    keep: bool = False,
) -> tuple[list[ScenarioResult], dict[str, Any]]:
    """Plays the chosen scenarios (all when `only` is empty; else those whose name contains
    one of `only`) and returns their results and the summary.

    A stack that stops during the run (on a machine shared with other runs, something else
    may have killed it) is started afresh once, with a new database, and every scenario is
    played again: results from a half-dead stack say nothing about the bot."""
    started = time.monotonic()
    catalog = ResponseCatalog.from_domain()
    every = load_scenarios()
    # Indexes over the whole list: a scenario's resident is the same with or without --only.
    casts = [c for c in cast_all(every, catalog) if c.scenario in select(every, only)]
    if not casts:
        raise ScenarioError(f"no scenario name contains any of {list(only)}")
    for attempt in (1, 2):
        results, died = _play(casts, catalog, jobs, verbose, out, keep)
        if died is None or attempt == 2:
            break
        print(f"converse-eval: {died}; starting a fresh stack and playing again", file=out)
    return results, metrics.summary(results, time.monotonic() - started)


def _play(
    casts: Sequence[Cast],
    catalog: ResponseCatalog,
    jobs: int,
    verbose: bool,
    out: TextIO,
    keep: bool,
) -> tuple[list[ScenarioResult], str | None]:
    """One stack, every scenario; the results in scenario order, and why the stack stopped
    during the run (None when it did not)."""
    started = time.monotonic()
    results: dict[str, ScenarioResult] = {}
    with tempfile.TemporaryDirectory(prefix="converse-eval-") as tmp:
        workdir = Path(tempfile.mkdtemp(prefix="converse-eval-kept-") if keep else tmp)
        if keep:
            print(f"converse-eval: keeping the stack's files in {workdir}", file=out)
        seed = workdir / "seed.yml"
        write_seed(seed, [cast.resident for cast in casts])
        say(out, f"converse-eval: starting the stack for {len(casts)} scenarios…")
        with running_stack(workdir, seed) as stack:
            say(out, f"converse-eval: stack up after {time.monotonic() - started:.0f} s")
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = [pool.submit(run_scenario, c, stack, catalog) for c in casts]
                for future in as_completed(futures):
                    result = future.result()
                    results[result.name] = result
                    if verbose:
                        say(out, report.transcript(result))
                    say(out, report.result_line(result))
            errors = any(r.error for r in results.values())
            died = stack.down() if errors else None
            if errors:
                # The log goes with the temporary directory: its end is what explains errors.
                tail = "\n".join(stack.log.read_text(errors="replace").splitlines()[-40:])
                say(out, f"converse-eval: the stack's log ends with:\n{tail}")
    return [results[c.scenario.name] for c in casts], died


def say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)
