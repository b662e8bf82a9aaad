"""The supervisor behind `make run`: a child that dies is started again after a back-off and
the others keep running; a child that dies at every start stops the stack. Real processes
(tiny Python sleepers) killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.supervisor import CRASH_LOOP, FIRST_BACKOFF_S, MAX_BACKOFF_S, STABLE_S, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stack(clock: Clock) -> Iterator[Supervisor]:
    env = dict(os.environ)
    supervisor = Supervisor(
        {name: (SLEEPER, env) for name in ("actions", "rasa", "gateway")}, Path.cwd(), clock
    )
    supervisor.start()
    yield supervisor
    supervisor.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def wait_until_dead(pid: int) -> None:
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_killed_child_is_started_again_and_the_others_keep_running(
    stack: Supervisor, clock: Clock
) -> None:
    before = {name: child.pids[-1] for name, child in stack.children.items()}
    os.kill(before["rasa"], signal.SIGKILL)
    wait_until_dead(before["rasa"])

    assert stack.check()  # noticed: waits out its back-off
    assert len(stack.children["rasa"].pids) == 1
    clock.now += FIRST_BACKOFF_S
    assert stack.check()

    rasa = stack.children["rasa"]
    assert len(rasa.pids) == 2 and rasa.restarts == 1 and alive(rasa.pids[-1])
    for name in ("actions", "gateway"):  # untouched
        assert stack.children[name].pids == [before[name]] and alive(before[name])


def test_the_back_off_doubles_while_it_keeps_dying_and_resets_once_it_ran_a_while(
    stack: Supervisor, clock: Clock
) -> None:
    waits = []
    for _ in range(7):
        rasa = stack.children["rasa"]
        os.kill(rasa.pids[-1], signal.SIGKILL)
        wait_until_dead(rasa.pids[-1])
        stack.check()
        assert rasa.restart_at is not None
        waits.append(rasa.restart_at - clock.now)
        clock.now = rasa.restart_at
        stack.check()
    assert waits == [1, 2, 4, 8, 16, 30, 30] and MAX_BACKOFF_S == 30

    clock.now += STABLE_S  # it ran a minute: healthy again
    rasa = stack.children["rasa"]
    os.kill(rasa.pids[-1], signal.SIGKILL)
    wait_until_dead(rasa.pids[-1])
    stack.check()
    assert rasa.restart_at == clock.now + FIRST_BACKOFF_S


def test_a_child_that_dies_at_every_start_stops_the_stack(clock: Clock) -> None:
    supervisor = Supervisor({"rasa": (CRASHER, dict(os.environ))}, Path.cwd(), clock)
    supervisor.start()
    try:
        results = []
        for _ in range(CRASH_LOOP):
            rasa = supervisor.children["rasa"]
            assert rasa.process is not None
            rasa.process.wait(timeout=10)
            results.append(supervisor.check())
            clock.now += MAX_BACKOFF_S
            if results[-1]:
                supervisor.check()
    finally:
        supervisor.stop()
    assert results == [True] * (CRASH_LOOP - 1) + [False]


def test_stopping_stops_every_child(clock: Clock) -> None:
    supervisor = Supervisor({"a": (SLEEPER, dict(os.environ))}, Path.cwd(), clock)
    supervisor.start()
    pid = supervisor.children["a"].pids[-1]
    supervisor.stop()
    assert not alive(pid)
