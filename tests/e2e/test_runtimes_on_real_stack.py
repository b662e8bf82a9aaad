"""The stack `make run` starts runs on two runtimes (README, "Runtimes"): the Rasa server on
the engine's Python 3.10 with Rasa 3.6 and TensorFlow, the gateway and the rasa-sdk 3.21
action server on the app's Python 3.12 with neither. And the two speak the action server's
protocol to each other: a form whose validation runs at the action server and answers with
slot events."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import Chat, Stack, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def servers(stack: Stack) -> dict[str, int]:
    """The supervisor's children by role: "gateway", "actions", "rasa"."""
    pid = stack.supervisor_pid
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        line = b" ".join(command).decode()
        if "app.gateway" in line:
            found["gateway"] = int(child)
        elif "app.stack actions" in line:
            found["actions"] = int(child)
        elif "integrations.rasa.engine.server" in line:
            found["rasa"] = int(child)
    return found


def interpreter(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()


def loaded(pid: int) -> str:
    """The files mapped into the process: its shared libraries (TensorFlow's among them)."""
    return Path(f"/proc/{pid}/maps").read_text()


def version_in(python: str, package: str) -> str:
    probe = f"import importlib.metadata as m; print(m.version({package!r}))"
    return subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_rasa_runs_on_the_engine_runtime_and_the_rest_without_tensorflow(stack: Stack) -> None:
    pids = servers(stack)
    assert set(pids) == {"gateway", "actions", "rasa"}, pids

    rasa = interpreter(pids["rasa"])
    assert rasa != sys.executable
    assert version_in(rasa, "rasa") == "3.6.21"
    assert "python3.10" in loaded(pids["rasa"]) and "tensorflow" in loaded(pids["rasa"])

    for role in ("gateway", "actions"):
        assert interpreter(pids[role]) == sys.executable, role  # the app's Python 3.12
        assert "tensorflow" not in loaded(pids[role]), role
        assert "python3.10" not in loaded(pids[role]), role
    assert sys.version_info[:2] == (3, 12)
    assert importlib.metadata.version("rasa_sdk").startswith("3.21.")


def test_a_form_validated_at_the_action_server_moves_on_by_its_slot_events(stack: Stack) -> None:
    chat = Chat(stack, f"e2e-runtimes-{uuid.uuid4().hex[:8]}")
    asked = text_of(chat.say("how much is my electricity bill?"))
    assert "link your SSO ID" in asked  # the link form asks for its first slot
    # validate_link_form (rasa-sdk 3.21) accepts the SSO ID and sends the code: its slot
    # events make Rasa 3.6's form ask for the next slot, the code.
    assert "6-digit code" in text_of(chat.say("irfan.khan"))
    otp = chat.latest_otp("+919783100003")
    wrong = "111111" if otp != "111111" else "222222"
    # A rejected value: the action's SlotSet(otp, None) keeps the form on the same slot.
    assert "2 more tries" in text_of(chat.say(wrong))
    linked = text_of(chat.say(otp))
    assert "linked to the SSO ID of" in linked and "Ir***" in linked
    # The link form's end activates the bill form: it asks for its first slot, or (when an
    # earlier e2e test saved an account for this resident) fills it and answers the bill.
    assert "Which company sends this bill?" in linked or "account ••••" in linked, linked
