"""The whole stack in its production shape for fault tests: `python -m app.stack` (the
supervisor, as `make run`) with the app's and Rasa's trackers in fresh PostgreSQL databases
and Redis, both reached through TCP proxies the tests cut and restore, WhatsApp pointed at
a fake Twilio on 127.0.0.1, and residents of its own in the sandbox.

The real PostgreSQL and Redis servers are never stopped (other engineers use them): the
databases are created and dropped here, Redis keys are unique to the run (its own app secret
keys the OTP limits; conversation ids are random) on database 15.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.channels.harness import WHATSAPP_FROM, twilio_signature, whatsapp_form
from tests.channels.providers import ACCOUNT_SID, AUTH_TOKEN, Providers
from tests.doubles.tcp_proxy import TcpProxy
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 300


def seed(path: Path, count: int) -> list[dict[str, Any]]:
    """`count` sandbox residents of this run: SSO IDs fault.rNNN, mobiles +91700000NNNN."""
    residents = [
        {
            "sso_id": f"fault.r{n:03d}",
            "name": f"Fault Resident {n}",
            "mobile": f"+91700000{n:04d}",
            "language": "en",
            "accounts": [
                {
                    "utility": "electricity",
                    "biller_id": "JVVNL0000RAJ01",
                    "consumer_number": f"2108{n:08d}",
                    "bills": [
                        {
                            "bill_number": f"JVF-{n:06d}",
                            "bill_date": date(2026, 11, 5),
                            "due_date": date(2026, 12, 20),
                            "amount_paise": 40_000 + n,
                            "status": "unpaid",
                        }
                    ],
                }
            ],
        }
        for n in range(count)
    ]
    path.write_text(yaml.safe_dump({"residents": residents}, allow_unicode=True))
    return residents


@dataclass
class FaultStack:
    workdir: Path
    postgres_url: str  # the real server, for the test's own checks
    redis_url: str
    twilio: Providers
    postgres: TcpProxy
    redis: TcpProxy
    residents: list[dict[str, Any]]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    def start(self) -> None:
        python = sys.executable
        for module in ("app.cli.migrate", "app.cli.seed"):
            subprocess.run([python, "-m", module], cwd=ROOT, env=self.env, check=True)
        self.log = (self.workdir / "stack.log").open("wb")
        self.process = subprocess.Popen(
            [python, "-m", "app.stack"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_healthy(STARTUP_TIMEOUT_S)

    def wait_healthy(self, seconds: float) -> float:
        """Seconds until /healthz answers 200 (Rasa with its model, actions, gateway)."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            assert self.process is not None and self.process.poll() is None, self.tail()
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=3).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"stack not healthy after {seconds} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.log is not None:
            self.log.close()

    def child(self, role: str) -> int | None:
        """The pid of the supervisor's child running `role` ("gateway", "rasa", "actions");
        None while there is none (between a death and its restart)."""
        assert self.process is not None
        wanted = {
            "gateway": "app.gateway",
            "rasa": "integrations.rasa.engine.server",
            "actions": "app.stack actions",
        }
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for child in children:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{child}/stat").read_text().split()[2]
            if wanted[role] in command and state != "Z":
                return int(child)
        return None

    def kill(self, role: str) -> int:
        """SIGKILL the child running `role`; its pid."""
        pid = self.child(role)
        assert pid is not None, f"no {role} process under the supervisor"
        os.kill(pid, signal.SIGKILL)
        return pid

    def tail(self, lines: int = 40) -> str:
        path = self.workdir / "stack.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_count(self, needle: str) -> int:
        return (self.workdir / "stack.log").read_text(errors="replace").count(needle)

    def metric(self, name: str, **labels: str) -> float:
        """A counter's value on the gateway's /metrics (0 when absent)."""
        text = httpx.get(f"{self.base_url}/metrics", timeout=5).text
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                found = line[len(name) :].split(" ")[0].strip("{}")
                have = ",".join(sorted(found.split(","))) if found else ""
                if all(part in have.split(",") for part in wanted.split(",") if part):
                    total += float(line.rsplit(" ", 1)[1])
        return total

    def sandbox_sms(self, mobile: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base_url}/sandbox/sms", params={"to": mobile}, timeout=10)
        return list(response.json()["messages"])


class Redelivering:
    """Twilio's side of a webhook: a message is posted until it gets a 2xx (Twilio retries
    and redelivers what was not answered 2xx: refused, reset, 5xx, timed out)."""

    def __init__(self, stack: FaultStack) -> None:
        self.stack = stack
        self.http = httpx.Client(timeout=15)
        self.accepted = 0
        self.redelivered = 0  # posts that had to be sent again

    def post(self, form: dict[str, str], give_up_s: float = 240) -> None:
        path = "/channels/whatsapp"
        headers = {"X-Twilio-Signature": twilio_signature(path, form, base_url=self.stack.base_url)}
        deadline = time.monotonic() + give_up_s
        while True:
            try:
                response = self.http.post(self.stack.base_url + path, data=form, headers=headers)
                if response.status_code == 200:
                    self.accepted += 1
                    return
            except httpx.HTTPError:
                pass
            self.redelivered += 1
            assert time.monotonic() < deadline, "a message was never accepted"
            time.sleep(0.25)

    def close(self) -> None:
        self.http.close()


def message(text: str, mobile: str) -> dict[str, str]:
    """A WhatsApp message as Twilio posts it, with a MessageSid of its own."""
    form = whatsapp_form(text, mobile)
    form["MessageSid"] = form["SmsSid"] = "SM" + secrets.token_hex(16)
    return form


def bodies_to(stack: FaultStack, mobile: str) -> list[str]:
    return [m["Body"] for m in stack.twilio.twilio() if m["To"] == f"whatsapp:{mobile}"]


@contextmanager
def fresh_databases(postgres_url: str) -> Iterator[tuple[str, str]]:
    """Two databases of this run (the app's and Rasa's trackers), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    names = [f"faults_{secrets.token_hex(4)}_{purpose}" for purpose in ("app", "rasa")]
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield tuple(  # type: ignore[misc]
            make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
            for name in names
        )
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stack_env(
    stack: FaultStack, app_db: str, rasa_db: str, seed_path: Path, redis_db: str
) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    def through(url: str) -> str:
        return (
            make_url(url)
            .set(host="127.0.0.1", port=stack.postgres.port)
            .render_as_string(hide_password=False)
        )

    env = {
        **os.environ,
        "DATABASE_URL": through(app_db),
        "RASA_TRACKER_STORE_URL": through(rasa_db),
        "REDIS_URL": f"redis://127.0.0.1:{stack.redis.port}/{redis_db}",
        "SANDBOX_SEED_PATH": str(seed_path),
        "GATEWAY_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "RASA_API_TOKEN": "faults-rasa-token",
        # Its own secret: the OTP limits in Redis are keyed with it, so they start at zero.
        "APP_SECRET_KEY": f"faults-{secrets.token_hex(8)}",
        "RAZORPAY_WEBHOOK_SECRET": "faults-webhook-secret",
        "RASA_TELEMETRY_ENABLED": "false",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "TWILIO_API_BASE_URL": stack.twilio.base_url,
        "CHANNEL_SEND_TIMEOUT_S": "2",
        "CHANNEL_POLL_INTERVAL_S": "0.5",
        "RASA_SERVERS": "1",
        "LOG_LEVEL": "WARNING",  # faults show as warnings; Twilio's client logs each call
    }
    for name in ("PUBLIC_BASE_URL", "TELEGRAM_BOT_TOKEN", "TWILIO_SMS_FROM", "RASA_URLS"):
        env.pop(name, None)
    return env


async def prelink(env: dict[str, str], residents: list[dict[str, Any]]) -> None:
    """Link each resident's WhatsApp number to their SSO ID, as a verified code does (the
    burst then reaches flows that need a linked resident without an OTP round trip)."""
    from app.bootstrap import bootstrap
    from app.settings import Settings
    from bot.model.residents import Channel, Language, Resident

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=env["DATABASE_URL"],
        app_secret_key=env["APP_SECRET_KEY"],
        sandbox_seed_path=env["SANDBOX_SEED_PATH"],
    )
    container = bootstrap(settings)
    try:
        for holder in residents:
            conversation = await container.conversations.open(Channel.WHATSAPP, holder["mobile"])
            async with container.uow() as tx:
                resident = Resident(
                    resident_id=f"resident-{holder['sso_id']}",
                    sso_id=holder["sso_id"],
                    name=holder["name"],
                    mobile=holder["mobile"],
                    language=Language(holder["language"]),
                    linked_at=container.clock.now(),
                )
                await tx.residents.add(resident)
                conversation.resident_id = resident.resident_id
                await tx.conversations.update(conversation)
                await tx.commit()
    finally:
        await container.close()
