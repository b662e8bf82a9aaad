"""`make bench-reminders`: dispatch N reminders through the real dispatcher, the real SQL
schedule and the real WhatsApp (Twilio) sender to a stand-in Twilio on 127.0.0.1 in another
process, first under a configured rate limit, then with none (the dispatcher's ceiling).

Settings (environment): N (default 100000), BENCH_SENDERS (WhatsApp sender numbers, default
10), BENCH_RATE_PER_SENDER (messages/s each, default 80: Twilio's WhatsApp rate per sender),
BENCH_WORKERS (dispatcher processes, default 2), DATABASE_URL (default a fresh SQLite file),
REDIS_URL (the shared bucket; default redis://127.0.0.1:6379/14 when reachable, else the
in-process bucket with one worker). The last line printed is one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, delete, insert

from bot.model.reminders import ReminderKind, ReminderState
from bot.model.residents import Channel, Language
from integrations.db.crypto import attach_keyring, derived_keyring, hashed_values
from integrations.db.engine import sync_url
from integrations.db.migrate import upgrade
from integrations.db.reminder_tables import reminder_consents, reminders
from integrations.db.tables import channel_states, conversations, residents

UTC = timezone.utc
ACCOUNT_SID = "ACbenchreminders"
INSERT_ROWS = 5000
# The keys of the bench's personal data (simulated residents), shared by every process.
KEYRING = derived_keyring("bench-reminders")


def _sync_engine(database_url: str) -> Any:
    engine = create_engine(sync_url(database_url))
    attach_keyring(engine.dialect, KEYRING)
    return engine


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def seed(database_url: str, count: int) -> None:
    """N residents on WhatsApp who wrote within 24 h (session messages), each with consent."""
    engine = _sync_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for table in (reminders, reminder_consents, channel_states, conversations, residents):
            connection.execute(delete(table))
        for start in range(0, count, INSERT_ROWS):
            ids = range(start, min(start + INSERT_ROWS, count))
            connection.execute(
                insert(residents),
                [
                    hashed_values(
                        residents,
                        {
                            "resident_id": f"r{n:07d}",
                            "sso_id": f"bench.{n}",
                            "name": "Bench Resident",
                            "mobile": f"+9170{n:08d}",
                            "language": Language.HI if n % 2 else Language.EN,
                            "linked_at": now,
                        },
                    )
                    for n in ids
                ],
            )
            connection.execute(
                insert(conversations),
                [
                    hashed_values(
                        conversations,
                        {
                            "conversation_id": f"c{n:07d}",
                            "channel": Channel.WHATSAPP,
                            "address": f"+9170{n:08d}",
                            "resident_id": f"r{n:07d}",
                            "language": Language.HI if n % 2 else Language.EN,
                            "created_at": now,
                        },
                    )
                    for n in ids
                ],
            )
            connection.execute(
                insert(channel_states),
                [
                    {
                        "conversation_id": f"c{n:07d}",
                        "opted_out": False,
                        "last_inbound_at": now,
                        "options": "[]",
                    }
                    for n in ids
                ],
            )
            connection.execute(
                insert(reminder_consents),
                [
                    {
                        "resident_id": f"r{n:07d}",
                        "conversation_id": f"c{n:07d}",
                        "language": Language.HI if n % 2 else Language.EN,
                        "enabled": True,
                        "consented_at": now,
                        "changed_at": now,
                        "days_before": 3,
                        "kinds": "new_bill,before_due,due_day,overdue",
                    }
                    for n in ids
                ],
            )
    engine.dispose()


def schedule(database_url: str, count: int, kind: ReminderKind) -> None:
    engine = _sync_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for start in range(0, count, INSERT_ROWS):
            connection.execute(
                insert(reminders),
                [
                    {
                        "resident_id": f"r{n:07d}",
                        "account_id": f"a{n:07d}",
                        "biller_id": "JVVNL0000RAJ01",
                        "bill_number": f"B{n:07d}",
                        "kind": kind,
                        "amount_paise": 10_000 + n,
                        "consumer_hint": f"••••{n % 10000:04d}",
                        "due_on": date.today() + timedelta(days=3),
                        "send_at": now - timedelta(minutes=1),
                        "state": ReminderState.SCHEDULED,
                        "attempts": 0,
                        "updated_at": now,
                    }
                    for n in range(start, min(start + INSERT_ROWS, count))
                ],
            )
    engine.dispose()


def states(database_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    engine = _sync_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(reminders.c.state, func.count()).group_by(reminders.c.state)
        ).all()
    engine.dispose()
    return {str(getattr(state, "value", state)): int(n) for state, n in rows}


async def worker(args: dict[str, Any]) -> None:
    """One dispatcher process: run until nothing is due, print its report as JSON."""
    from datetime import time as dt_time

    from app.bootstrap import SystemClock
    from bot.model.reminders import QuietHours
    from bot.services.reminder_dispatch import ReminderDispatcher, SenderLane
    from channels.twilio_api import TwilioMessages
    from channels.whatsapp import WhatsAppSender
    from integrations.billers.catalog import BillerCatalog, load_billers
    from integrations.cache.rate_limit import InProcessRateLimiter, RedisRateLimiter
    from integrations.db.engine import make_engine
    from integrations.db.unit_of_work import SqlUnitOfWorkFactory

    engine = make_engine(args["database_url"], KEYRING)
    limiter: Any = (
        RedisRateLimiter.from_url(args["redis_url"])
        if args["redis_url"]
        else InProcessRateLimiter()
    )
    rate = args["rate_per_sender"]
    lanes = []
    for index in range(args["senders"]):
        messages = TwilioMessages(ACCOUNT_SID, "bench-token", args["provider"], 10.0, (0.2, 0.4))
        sender = WhatsAppSender(messages, f"+9114100{index:05d}", {})
        # One second of depth: a busy machine that looks late loses no capacity, and the
        # provider (Twilio queues above a sender's rate) never sees more than 2 s' worth in 1 s.
        burst = max(1, int(rate)) if rate else 1
        lanes.append(SenderLane(f"{args['run']}:wa:{index}", sender, rate, burst))
    dispatcher = ReminderDispatcher(
        SqlUnitOfWorkFactory(engine),
        SystemClock(),
        BillerCatalog(load_billers()),
        {Channel.WHATSAPP: lanes},
        limiter,
        batch_size=args["batch_size"],
        chunk_size=args["chunk_size"],
        # The bench measures throughput at any hour: no quiet hours (start == end).
        quiet=QuietHours(dt_time(0), dt_time(0)),
    )
    started_at = time.time()
    report = await dispatcher.run_until_idle()
    for lane in lanes:
        await lane.sender.aclose()  # type: ignore[attr-defined]
    await engine.dispose()
    print(
        json.dumps(
            {
                "started_at": started_at,
                "sent": report.sent,
                "claimed": report.claimed,
                **report.by_state,
            }
        )
    )


def phase(
    name: str,
    database_url: str,
    provider: str,
    redis_url: str,
    workers: int,
    rate: float | None,
    senders: int,
    count: int,
) -> dict[str, Any]:
    httpx.post(f"{provider}/reset")
    run = uuid.uuid4().hex[:8]
    args = {
        "database_url": database_url,
        "redis_url": redis_url,
        "provider": provider,
        "rate_per_sender": rate,
        "senders": senders,
        "run": run,
        "batch_size": 1000,
        "chunk_size": 400,
    }
    env = {**os.environ, "BENCH_WORKER": json.dumps(args)}
    started = time.time()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "scripts.bench.reminders"], env=env, stdout=subprocess.PIPE
        )
        for _ in range(workers)
    ]
    outputs = [p.communicate()[0].decode().strip().splitlines() for p in procs]
    finished = time.time()
    stats = httpx.get(f"{provider}/stats").json()
    reports = [json.loads(o[-1]) for o in outputs if o]
    # From the moment the first dispatcher began (after its imports) to the last message in.
    began = min((r["started_at"] for r in reports), default=started)
    elapsed = (stats["last_at"] or finished) - began
    result = {
        "phase": name,
        "workers": [{k: v for k, v in r.items() if k != "started_at"} for r in reports],
        "received": stats["received"],
        "distinct": stats["distinct"],
        "duplicates": stats["duplicates"],
        "lost": count - stats["distinct"],
        "seconds": round(elapsed, 2),
        "per_s": round(stats["distinct"] / elapsed, 1) if elapsed > 0 else 0.0,
    }
    _log(json.dumps(result))
    return result


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # unreachable: fall back to the in-process bucket
        return ""
    return url


def main() -> None:
    if "BENCH_WORKER" in os.environ:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        asyncio.run(worker(json.loads(os.environ["BENCH_WORKER"])))
        return
    count = int(os.environ.get("N", "100000"))
    senders = int(os.environ.get("BENCH_SENDERS", "5"))
    rate = float(os.environ.get("BENCH_RATE_PER_SENDER", "80"))
    redis_url = _redis_url()
    scratch = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch / 'bench.db'}"
    # SQLite has one writer: a second process only waits for its lock. PostgreSQL scales out.
    default_workers = "1" if database_url.startswith("sqlite") else "2"
    workers = int(os.environ.get("BENCH_WORKERS", default_workers)) if redis_url else 1
    upgrade(database_url)
    provider_proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.bench.provider", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = provider_proc.stdout.readline() if provider_proc.stdout else ""
        provider = f"http://127.0.0.1:{line.split()[1]}"
        _log(f"seeding {count} residents on {database_url.split('://')[0]}; provider {provider}")
        seed(database_url, count)
        schedule(database_url, count, ReminderKind.BEFORE_DUE)
        limit = rate * senders
        _log(f"phase 1: limit {limit:.0f}/s ({senders} senders x {rate:.0f}/s), {workers} workers")
        limited = phase("limited", database_url, provider, redis_url, workers, rate, senders, count)
        after_limited = states(database_url)
        schedule(database_url, count, ReminderKind.DUE_DAY)
        _log("phase 2: no limit (ceiling)")
        ceiling = phase("ceiling", database_url, provider, redis_url, workers, None, senders, count)
        final = states(database_url)
    finally:
        provider_proc.terminate()
        provider_proc.wait()
    summary = {
        "reminders": count,
        "sent": limited["distinct"],
        "duplicates": limited["duplicates"],
        "lost": limited["lost"],
        "limit_per_s": limit,
        "achieved_per_s": limited["per_s"],
        "achieved_ratio": round(limited["per_s"] / limit, 3),
        "ceiling_per_s": ceiling["per_s"],
        "ceiling_duplicates": ceiling["duplicates"],
        "ceiling_lost": ceiling["lost"],
        "limited_seconds": limited["seconds"],
        "ceiling_seconds": ceiling["seconds"],
        "workers": workers,
        "senders": senders,
        "rate_limiter": "redis" if redis_url else "in-process",
        "database": database_url.split(":", 1)[0],
        "states_after_limited": after_limited,
        "states_final": final,
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
