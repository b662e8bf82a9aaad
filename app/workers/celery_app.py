"""Celery (Redis broker) for the reminder jobs in production.

    celery -A app.workers.celery_app worker --loglevel=INFO --concurrency=2
    celery -A app.workers.celery_app beat --loglevel=INFO

Any number of workers may run: claims are atomic and each (bill, kind) is sent at most once.
Beat only enqueues; a job that runs twice (beat restarted, a redelivered task) finds nothing
left to claim. The app reads REDIS_URL when a Celery command loads it, not at import.
"""

from __future__ import annotations

import asyncio
from typing import Any

from celery import Celery

from app.settings import load_settings


def make_celery() -> Celery:
    settings = load_settings()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: the reminder jobs run inside the gateway")
    # Results go to Redis too (kept an hour): operators and tests can wait for a job's report.
    app = Celery("bot", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        result_expires=3600,
        task_acks_late=False,  # a job is idempotent; a lost one is simply run by the next beat
        worker_prefetch_multiplier=1,
        beat_schedule={
            "dispatch-reminders": {
                "task": "reminders.dispatch",
                "schedule": settings.reminder_dispatch_interval_s,
            },
            "discover-bills": {
                "task": "reminders.discover",
                "schedule": settings.reminder_discovery_interval_s,
            },
            "discover-outages": {
                "task": "reminders.discover_outages",
                "schedule": settings.reminder_discovery_interval_s,
            },
            "poll-power-complaints": {
                "task": "supply.poll",
                "schedule": settings.reminder_dispatch_interval_s,
            },
        },
    )

    @app.task(name="reminders.dispatch")  # type: ignore[untyped-decorator]
    def dispatch() -> dict[str, Any]:
        return asyncio.run(_run("dispatch"))

    @app.task(name="reminders.discover")  # type: ignore[untyped-decorator]
    def discover() -> dict[str, Any]:
        return asyncio.run(_run("discover"))

    @app.task(name="reminders.discover_outages")  # type: ignore[untyped-decorator]
    def discover_outages() -> dict[str, Any]:
        return asyncio.run(_run("discover_outages"))

    @app.task(name="supply.poll")  # type: ignore[untyped-decorator]
    def poll_supply() -> dict[str, Any]:
        return asyncio.run(_run("supply"))

    return app


async def _run(job: str) -> dict[str, Any]:
    from dataclasses import asdict

    from app.bootstrap import bootstrap, reminder_jobs

    # One container per run: asyncio.run gives each task a fresh loop, and pooled
    # connections must not outlive the loop they were made on.
    container = bootstrap()
    jobs = reminder_jobs(container)
    try:
        if job == "supply":
            return {"pushed": await jobs.poll_supply()}
        if job == "dispatch":
            return asdict(await jobs.dispatch())
        if job == "discover":
            return asdict(await jobs.discover())
        return asdict(await jobs.discover_outages())
    finally:
        await jobs.aclose()
        await container.close()


_app: Celery | None = None


def __getattr__(name: str) -> Any:
    # `celery -A app.workers.celery_app` looks for `app` / `celery`: built on demand.
    global _app
    if name in ("app", "celery"):
        if _app is None:
            _app = make_celery()
        return _app
    raise AttributeError(name)
