"""`make bench`: the full stack under load, against a plain `rasa init` bot under the same load.

1. The full stack (`python -m app.stack`: gateway, Rasa, action server) on free ports with its
   own SQLite database and a sandbox seeded with simulated residents. Ten residents at a time
   (BENCH_CONCURRENCY) talk to the web chat API for BENCH_SECONDS: greet, ask for the menu,
   ask for a bill, link their SSO ID by OTP (read from the sandbox SMS outbox), pick a biller,
   give a consumer number, ask to pay, confirm (a payment link), history, thanks, bye; in
   English and in Hinglish; every fourth one pays in the sandbox (webhook, PDF receipt).
   Then one resident talks for 200 turns alone: turn 1 vs turn 200.
2. A stock `rasa init --no-prompt` bot (trained once per Rasa version; the model is kept
   under var/bench/) served by `rasa run --enable-api`, driven through its REST webhook with
   conversations of the same length and the same concurrency, then the same long conversation.

The stack and the baseline run one after the other, never at once, so neither steals the
other's CPU. The last line printed is one JSON object (CONTRACTS.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from app.settings import load_settings
from app.stack import engine_python
from scripts.bench.load import (
    REST,
    WEBCHAT,
    Conversation,
    Step,
    closed_loop,
    endpoint,
    long_conversation,
    webchat_sender,
)

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
STARTUP_TIMEOUT_S = 300
# Where the production stores are found (production_stores); BENCH_REDIS_URL names a Redis
# database the bench empties first.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RESIDENTS = 1000  # each may ask for 3 OTPs per 30 minutes (bot/services/linking.py)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the simulated residents ------------------------------------------------------------


def bench_seed(path: Path) -> None:
    residents = []
    for n in range(RESIDENTS):
        residents.append(
            {
                "sso_id": f"bench.r{n:04d}",
                "name": f"Bench Resident {n}",
                "mobile": f"+9160000{n:05d}",
                "language": "hi" if n % 2 else "en",
                "accounts": [
                    {
                        "utility": "electricity",
                        "biller_id": "JVVNL0000RAJ01",
                        "consumer_number": f"2109{n:08d}",
                        "bills": [
                            {
                                "bill_number": f"JVB-{n:06d}",
                                "bill_date": date(2026, 11, 5),
                                "due_date": date(2026, 12, 20),
                                "amount_paise": 50_000 + n * 7,
                                "status": "unpaid",
                            }
                        ],
                    }
                ],
            }
        )
    path.write_text(yaml.safe_dump({"residents": residents}, allow_unicode=True))


async def _otp(conversation: Conversation) -> str:
    base = conversation.target.url.rsplit("/webchat/", 1)[0]
    mobile = conversation.facts["mobile"]
    async with conversation.session.get(f"{base}/sandbox/sms", params={"to": mobile}) as resp:
        sms = (await resp.json())["messages"]
    match = re.search(r"\b(\d{6})\b", sms[-1]["text"]) if sms else None
    return match.group(1) if match else "000000"


def resident_script(hindi: bool, sso_id: str, consumer_number: str) -> list[Step]:
    biller = '/inform{"biller": "JVVNL0000RAJ01"}'
    if hindi:
        words = ["नमस्ते", "menu", "bijli ka bill kitna hai", "haan", "mera payment history dikhao"]
        words += ["dhanyavaad", "alvida"]
    else:
        words = ["Hi", "menu", "how much is my electricity bill?", "yes", "show my payments"]
        words += ["thank you", "bye"]
    hello, menu, ask_bill, yes, history, thanks, bye = words
    return [
        Step(hello, label="greet"),
        Step(menu, "/check_bill", label="menu"),
        Step(ask_bill, "SSO", label="ask for the bill"),
        Step(sso_id, " 6", label="give the SSO ID"),
        Step(_otp, '/inform{"biller"', label="give the OTP"),
        Step(biller, "K Number", label="pick the biller (button)"),
        Step(consumer_number, "₹", label="give the consumer number: the bill"),
        Step("/pay_bill", "/affirm", label="pay (button)"),
        Step(yes, "/sandbox/pay/plink_", label="confirm: payment link"),
        Step(history, label="history"),
        Step(thanks, label="thanks"),
        Step(bye, label="bye"),
    ]


BASELINE_SCRIPT = [
    "hi",
    "I am feeling sad",
    "yes",
    "hello",
    "great",
    "are you a bot?",
    "hey there",
    "I am sad",
    "no",
    "perfect, very good",
    "am I talking to a human?",
    "bye",
]
STACK_LONG_CYCLE = ["hi", "menu", "how do I register for an SSO ID?", "thanks", "are you a bot?"]
BASELINE_LONG_CYCLE = ["hi", "great", "are you a bot?", "bye"]


def stack_conversations(base_url: str, run: str, first_resident: int = 0) -> Any:
    """Conversations of simulated residents; `first_resident` keeps the warm-up's residents
    apart from the measured run's (each may ask for only 3 OTPs in 30 minutes)."""
    target = endpoint(WEBCHAT, base_url)

    def make(session: aiohttp.ClientSession, n: int) -> tuple[Conversation, list[Step]]:
        resident = (first_resident + n) % RESIDENTS
        conversation = Conversation(
            session,
            target,
            webchat_sender(f"bench-{run}-{n}"),
            mobile=f"+9160000{resident:05d}",
            number=str(n),
        )
        steps = resident_script(bool(n % 2), f"bench.r{resident:04d}", f"2109{resident:08d}")
        return conversation, steps

    return make


async def settle_some(conversation: Conversation) -> None:
    """Every fourth resident pays: the sandbox calls the payment webhook, a receipt is made
    and pushed to the web chat, which the resident then polls."""
    if int(conversation.facts["number"]) % 4:
        return
    link = re.search(r"/sandbox/pay/(plink_\w+)", "\n".join(conversation.seen))
    if link is None:
        return
    base = conversation.target.url.rsplit("/webchat/", 1)[0]
    async with conversation.session.post(
        f"{base}/sandbox/pay/{link.group(1)}", json={"outcome": "success"}
    ) as response:
        await response.read()
    async with conversation.session.get(
        f"{base}/webchat/messages", params={"sender": conversation.sender}
    ) as response:
        await response.read()


def baseline_conversations(base_url: str, run: str) -> Any:
    target = endpoint(REST, base_url)

    def make(session: aiohttp.ClientSession, n: int) -> tuple[Conversation, list[Step]]:
        return Conversation(session, target, f"base-{run}-{n}"), [Step(t) for t in BASELINE_SCRIPT]

    return make


# --- processes --------------------------------------------------------------------------


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Waits for `url` to answer 200; gives up when the process dies or time runs out."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: a server exited early; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise SystemExit(f"bench: {url} not healthy after {STARTUP_TIMEOUT_S} s; see {log}")


@contextmanager
def running(
    command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def stack_env(workdir: Path, seed: Path, stores: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "SANDBOX_SEED_PATH": str(seed),
        "GATEWAY_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "RASA_API_TOKEN": "bench-rasa-token",
        "APP_SECRET_KEY": "bench-app-secret",
        "RAZORPAY_WEBHOOK_SECRET": "bench-webhook-secret",
        "RASA_TELEMETRY_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        # Simulated residents answer instantly, 200 turns in a row: far past the abuse limit
        # a person typing can reach (30 a minute). The bench measures turns, not the limit.
        "MESSAGE_RATE_PER_MINUTE": "0",
    }
    for name in ("PUBLIC_BASE_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TELEGRAM_BOT_TOKEN"):
        env.pop(name, None)
    env.setdefault("RASA_SERVERS", "2")
    return {**env, **stores}


@contextmanager
def production_stores(workdir: Path) -> Iterator[dict[str, str]]:
    """The stores the stack runs on in production, where this machine has them: fresh
    PostgreSQL databases for the app and for Rasa's trackers (dropped afterwards) and Redis;
    else SQLite and in-process stand-ins. BENCH_STORES=embedded measures the embedded
    defaults; BENCH_RASA_TRACKER_STORE=memory keeps Rasa's trackers in memory instead."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    stores = {"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}"}
    created: list[str] = []
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    if os.environ.get("BENCH_STORES", "production") == "production":
        purposes = {"DATABASE_URL": "app"}
        if os.environ.get("BENCH_RASA_TRACKER_STORE", "sql") == "sql":
            purposes["RASA_TRACKER_STORE_URL"] = "rasa"
        try:
            with admin.connect() as connection:
                for setting, purpose in purposes.items():
                    name = f"bench_{purpose}_{os.getpid()}"
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                    created.append(name)
                    url = make_url(POSTGRES_URL).set(database=name)
                    stores[setting] = url.render_as_string(hide_password=False)
        except Exception as exc:  # no PostgreSQL here: measure on SQLite, and say so
            print(f"bench: PostgreSQL not reachable ({type(exc).__name__}); using SQLite")
            stores = {"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}"}
        try:
            import redis

            with redis.Redis.from_url(REDIS_URL) as client:
                # A database of its own: OTP send limits per SSO ID must start from zero.
                client.flushdb()
            stores["REDIS_URL"] = REDIS_URL
        except Exception as exc:
            print(f"bench: Redis not reachable ({type(exc).__name__}); in-process stand-ins")
    try:
        yield stores
    finally:
        if created:
            with admin.connect() as connection:
                for name in created:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def describe(stores: dict[str, str], env: dict[str, str]) -> str:
    database = "postgresql" if stores["DATABASE_URL"].startswith("postgresql") else "sqlite"
    redis = "redis" if "REDIS_URL" in stores else "no redis"
    trackers = (
        "rasa trackers in postgresql"
        if "RASA_TRACKER_STORE_URL" in stores
        else ("rasa trackers in memory")
    )
    return f"{database}, {redis}, {env['RASA_SERVERS']} rasa servers, {trackers}"


def rasa_command() -> list[str]:
    """Plain Rasa's command line, in the engine runtime (README, "Runtimes") as the stack's."""
    return [engine_python(load_settings()), "-m", "rasa"]


def baseline_model() -> Path:
    """The stock `rasa init` model, trained once per Rasa version."""
    version = subprocess.run(
        [*rasa_command()[:1], "-c", "import importlib.metadata as m; print(m.version('rasa'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    model = ROOT / "var" / "bench" / f"baseline-rasa-{version}.tar.gz"
    if model.exists():
        return model
    model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rasa-init-") as project:
        print("bench: training the plain `rasa init` baseline (once per Rasa version)…", flush=True)
        subprocess.run(
            [*rasa_command(), "init", "--no-prompt", "--init-dir", project],
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        trained = sorted(Path(project, "models").glob("*.tar.gz"))
        shutil.copy(trained[-1], model)
    return model


# --- the two runs -----------------------------------------------------------------------


def measure_stack(seconds: float, concurrency: int, workdir: Path) -> dict[str, Any]:
    seed = workdir / "bench-seed.yml"
    bench_seed(seed)
    with production_stores(workdir) as stores:
        env = stack_env(workdir, seed, stores)
        measured = run_stack(env, workdir, seconds, concurrency)
        return {"configuration": describe(stores, env), **measured}


def run_stack(
    env: dict[str, str], workdir: Path, seconds: float, concurrency: int
) -> dict[str, Any]:
    for module in ("app.cli.migrate", "app.cli.seed"):
        subprocess.run([PYTHON, "-m", module], cwd=ROOT, env=env, check=True)
    base_url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    log = workdir / "stack.log"
    with running([PYTHON, "-m", "app.stack"], ROOT, env, log) as process:
        wait_healthy(f"{base_url}/healthz", process, log)
        run = str(int(time.time()))
        asyncio.run(closed_loop(stack_conversations(base_url, f"warm{run}", 900), 2, 5))
        results = asyncio.run(
            closed_loop(stack_conversations(base_url, run), concurrency, seconds, settle_some)
        )
        long = asyncio.run(
            long_conversation(
                base_url, WEBCHAT, webchat_sender(f"bench-long-{run}"), STACK_LONG_CYCLE
            )
        )
    return {**results.summary(), **long, "steps": results.steps()}


def measure_baseline(seconds: float, concurrency: int, workdir: Path) -> dict[str, Any]:
    model = baseline_model()
    project = workdir / "baseline"
    project.mkdir()
    (project / "credentials.yml").write_text("rest:\n")
    port = free_port()
    log = workdir / "baseline.log"
    command = [*rasa_command(), "run", "--enable-api", "-m", str(model), "-i", "127.0.0.1"]
    command += ["-p", str(port), "--credentials", "credentials.yml"]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    base_url = f"http://127.0.0.1:{port}"
    with running(command, project, env, log) as process:
        wait_healthy(f"{base_url}/status", process, log)
        run = str(int(time.time()))
        make = baseline_conversations(base_url, run)
        asyncio.run(closed_loop(baseline_conversations(base_url, f"warm{run}"), 2, 5))
        results = asyncio.run(closed_loop(make, concurrency, seconds))
        long = asyncio.run(
            long_conversation(base_url, REST, f"base-long-{run}", BASELINE_LONG_CYCLE)
        )
    return {**results.summary(), **long}


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "60"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "10"))
    load_before = os.getloadavg()
    keep = os.environ.get("BENCH_KEEP_LOGS") == "1"  # leaves the servers' logs for a look
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if keep:
            tmp = tempfile.mkdtemp(prefix="bench-kept-")
        workdir = Path(tmp)
        # BENCH_ONLY=stack|baseline measures one side (while profiling); the summary needs both.
        only = os.environ.get("BENCH_ONLY", "")
        if only != "baseline":
            stack = measure_stack(seconds, concurrency, workdir)
            print("bench: stack", json.dumps(stack, ensure_ascii=False), flush=True)
        if only != "stack":
            baseline = measure_baseline(seconds, concurrency, workdir)
            print("bench: baseline", json.dumps(baseline, ensure_ascii=False), flush=True)
        if only:
            return
    ratio = stack["throughput_per_s"] / baseline["throughput_per_s"] if baseline["turns"] else 0
    summary = {
        "throughput_per_s": stack["throughput_per_s"],
        "baseline_throughput_per_s": baseline["throughput_per_s"],
        "throughput_ratio": round(ratio, 2),
        "p50_ms": stack["p50_ms"],
        "p95_ms": stack["p95_ms"],
        "p99_ms": stack["p99_ms"],
        "errors": stack["errors"] + stack["long_errors"],
        "turn1_ms": stack["turn1_ms"],
        "turn200_ms": stack["turn200_ms"],
        "mismatches": stack["mismatches"],
        "configuration": stack["configuration"],
        "turns": stack["turns"],
        "conversations": stack["conversations"],
        "baseline_p50_ms": baseline["p50_ms"],
        "baseline_p95_ms": baseline["p95_ms"],
        "baseline_errors": baseline["errors"],
        "baseline_turn1_ms": baseline["turn1_ms"],
        "baseline_turn200_ms": baseline["turn200_ms"],
        "concurrency": concurrency,
        "seconds": seconds,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
