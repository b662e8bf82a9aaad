"""Keeping a set of child processes running: the supervisor behind `make run` (app/stack.py).

A child that dies is started again after a back-off (1 s, doubling to 30 s; back to 1 s
once it has run for a minute), and the others stay up: one crash is one process restarting,
not the whole stack going down. The gateway keeps channel messages while Rasa restarts and
answers them when it is back; the web chat says "try again shortly" meanwhile.

A child that keeps dying at once (CRASH_LOOP times in a row, each within STABLE_S of its
start) is a broken configuration rather than a fault: the supervisor then stops everything
and exits 1, so `make run` does not spin. Each child gets its own process group, so stopping
it stops whatever it started too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("stack")

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_S = 60.0  # a child that ran this long is healthy: its next crash waits 1 s again
CRASH_LOOP = 8
STOP_GRACE_S = 15.0


@dataclass
class Child:
    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None  # when a dead child is started again
    backoff_s: float = FIRST_BACKOFF_S
    quick_deaths: int = 0
    restarts: int = 0
    pids: list[int] = field(default_factory=list)  # every pid it had, oldest first


class Supervisor:
    def __init__(
        self,
        commands: Mapping[str, tuple[Sequence[str], Mapping[str, str]]],
        cwd: Path,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.children = {
            name: Child(name, command, env) for name, (command, env) in commands.items()
        }
        self._cwd = cwd
        self._clock = clock

    def start(self) -> None:
        for child in self.children.values():
            self._spawn(child)

    def check(self) -> bool:
        """Restart children that died, once their back-off has passed; False when one is
        in a crash loop (the caller stops everything)."""
        now = self._clock()
        for child in self.children.values():
            process = child.process
            if child.restart_at is None and process is not None and process.poll() is not None:
                self._died(child, process, now)
                if child.quick_deaths >= CRASH_LOOP:
                    log.error("%s keeps dying at start; stopping everything", child.name)
                    return False
            if child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
        return True

    def stop(self) -> None:
        running = [c.process for c in self.children.values() if c.process is not None]
        for process in running:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for name, child in self.children.items():
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                process = child.process
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def _died(self, child: Child, process: subprocess.Popen[bytes], now: float) -> None:
        code = process.returncode
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        # Whatever it started dies with it (its own process group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if now - child.started_at >= STABLE_S:
            child.backoff_s, child.quick_deaths = FIRST_BACKOFF_S, 0
        else:
            child.quick_deaths += 1
        log.error(
            "%s (pid %d) died (%s); starting it again in %.0f s, the others keep running",
            child.name,
            process.pid,
            how,
            child.backoff_s,
        )
        child.restart_at = now + child.backoff_s
        child.backoff_s = min(MAX_BACKOFF_S, child.backoff_s * 2)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(
            list(child.command), cwd=self._cwd, env=dict(child.env), start_new_session=True
        )
        child.started_at, child.restart_at = self._clock(), None
        child.pids.append(child.process.pid)
        log.info("%s started (pid %d)", child.name, child.process.pid)
