"""Running scenarios on one stack: residents copied, the stack started once, a few at a time."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Sequence
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
    on_result: Callable[[ScenarioResult], None] | None = None,
    keep: bool = False,
) -> tuple[list[ScenarioResult], dict[str, Any]]:
    """Plays the chosen scenarios (all when `only` is empty; else those whose name contains
    one of `only`) and returns their results and the summary."""
    started = time.monotonic()
    catalog = ResponseCatalog.from_domain()
    every = load_scenarios()
    # Indexes over the whole list: a scenario's resident is the same with or without --only.
    casts = [c for c in cast_all(every, catalog) if c.scenario in select(every, only)]
    if not casts:
        raise ScenarioError(f"no scenario name contains any of {list(only)}")
    results: dict[str, ScenarioResult] = {}
    with tempfile.TemporaryDirectory(prefix="converse-eval-") as tmp:
        workdir = Path(tempfile.mkdtemp(prefix="converse-eval-kept-") if keep else tmp)
        if keep:
            print(f"converse-eval: keeping the stack's files in {workdir}", file=out)
        seed = workdir / "seed.yml"
        write_seed(seed, [cast.resident for cast in casts])
        print(
            f"converse-eval: starting the stack for {len(casts)} scenarios…", file=out, flush=True
        )
        with running_stack(workdir, seed) as stack:
            print(
                f"converse-eval: stack up after {time.monotonic() - started:.0f} s",
                file=out,
                flush=True,
            )
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = {pool.submit(run_scenario, c, stack, catalog): c for c in casts}
                for future in as_completed(futures):
                    result = future.result()
                    results[result.name] = result
                    if verbose:
                        print(report.transcript(result), file=out, flush=True)
                    print(report.result_line(result), file=out, flush=True)
                    if on_result is not None:
                        on_result(result)
    ordered = [results[c.scenario.name] for c in casts]
    return ordered, metrics.summary(ordered, time.monotonic() - started)
