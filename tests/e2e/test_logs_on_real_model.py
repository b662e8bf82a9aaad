"""Every process's log, at DEBUG, through the real stack (issue 13, finding 2): a resident
changes language with the buttons, links an SSO ID with its OTP, reads a bill, asks what is
known about them, types a password and a malformed command; the log of the Rasa server, the
action server and the gateway then holds none of their identifiers, codes or secrets, and no
ERROR line (a response's button payload used to fail its template filling on every display)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.channels.providers import Providers
from tests.e2e.conftest import MODEL, ROOT, Chat, Stack, free_port, payloads, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SSO_ID, MOBILE, NUMBER = "sunita.devi", "+919414100002", "410389012345"
PASSWORD = "Secret99"
STARTUP_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def debug_stack(
    tmp_path_factory: pytest.TempPathFactory, fake_twilio: Providers
) -> Iterator[tuple[Stack, Path]]:
    """The stack as `make run` starts it, every process logging at DEBUG into one file."""
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make model` (make test does it)")
    workdir = tmp_path_factory.mktemp("debug-stack")
    gateway_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "GATEWAY_PORT": str(gateway_port),
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "RASA_API_TOKEN": "e2e-rasa-token",
        "APP_SECRET_KEY": "e2e-app-secret",
        "RAZORPAY_WEBHOOK_SECRET": "e2e-webhook-secret",
        "MESSAGE_BURST_PER_10S": "0",
        "RASA_TELEMETRY_ENABLED": "false",
        "LOG_LEVEL": "DEBUG",
    }
    env.pop("PUBLIC_BASE_URL", None)
    for module in ("app.cli.migrate", "app.cli.seed"):
        subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env, check=True)
    log_path = workdir / "stack.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.stack"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{gateway_port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"stack exited early; log: {log_path}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=3).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"stack not healthy after {STARTUP_TIMEOUT_S} s; log: {log_path}")
            time.sleep(1)
        yield Stack(base_url=base_url, twilio=fake_twilio, env=env), log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_the_logs_hold_no_identifier_and_no_error_at_debug(
    debug_stack: tuple[Stack, Path],
) -> None:
    stack, log_path = debug_stack
    sender = f"e2e-logs-{uuid.uuid4().hex}"
    chat = Chat(stack, sender)
    greeting = chat.say("hello")
    language_buttons = [p for p in payloads(greeting) if p.startswith("/change_language")]
    assert language_buttons == ['/change_language{"language": "hi"}']
    assert "हिंदी" in text_of(chat.say(language_buttons[0]))
    help_in_hindi = chat.say("/help")
    assert '/change_language{"language": "en"}' in payloads(help_in_hindi)
    assert "English" in text_of(chat.say('/change_language{"language": "en"}'))
    chat.say("/greet")  # the greeting (and its language button) shown again
    chat.say("/link_account")
    chat.say(SSO_ID)
    otp = chat.latest_otp(MOBILE)
    chat.say(otp)
    chat.say("/check_bill")
    chat.say('/inform{"utility": "electricity"}')
    chat.say('/inform{"biller": "JDVVNL000RAJ01"}')
    bill = text_of(chat.say("4103 8901 2345"))
    assert "1,096.00" in bill, bill
    chat.say("what do you know about me")
    assert "For your safety" in text_of(chat.say(f"my sso password is: {PASSWORD}"))
    chat.say("/inform{not json " + SSO_ID)  # a malformed command: Rasa warns with its text
    time.sleep(1)  # the last lines reach the file

    logged = log_path.read_text(errors="replace")
    leaked = [
        secret
        for secret in (SSO_ID, MOBILE, MOBILE[3:], NUMBER, "4103 8901 2345", otp, PASSWORD, sender)
        if secret in logged
    ]
    assert not leaked, f"{leaked} in {log_path}"
    errors = [line for line in logged.splitlines() if re.search(r"\bERROR\b|Traceback", line)]
    assert not errors, errors[:5]
