"""The reminder jobs as Celery runs them (eagerly here: the task code, not the broker) and
as the operators' CLI runs them, on a migrated SQLite file."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from app.cli import reminders as reminders_cli
from app.workers.celery_app import make_celery
from bot.model.reminders import NewReminder, ReminderKind
from integrations.db.engine import make_engine
from integrations.db.unit_of_work import SqlUnitOfWorkFactory


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_the_celery_tasks_run_the_jobs(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/13")
    app = make_celery()
    app.conf.task_always_eager = True

    dispatched = app.tasks["reminders.dispatch"].apply().get()
    discovered = app.tasks["reminders.discover"].apply().get()
    outages = app.tasks["reminders.discover_outages"].apply().get()
    polled = app.tasks["supply.poll"].apply().get()

    assert dispatched["claimed"] == 0 and dispatched["sent"] == 0
    assert discovered["checked"] == 0
    assert outages["billers"] > 0 and outages["scheduled"] == 0
    assert polled == {"pushed": 0}  # no power complaints open
    assert set(app.conf.beat_schedule) == {
        "dispatch-reminders",
        "discover-bills",
        "discover-outages",
        "poll-power-complaints",
    }


def test_celery_refuses_to_start_without_redis(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        make_celery()


async def _schedule_one(database_url: str) -> None:
    engine = make_engine(database_url)
    uow = SqlUnitOfWorkFactory(engine)
    now = datetime(2030, 1, 10, 4, 30, tzinfo=timezone.utc)
    async with uow() as tx:
        await tx.reminders.schedule(
            [
                NewReminder(
                    "r1",
                    "a1",
                    "JVVNL0000RAJ01",
                    "B-1",
                    ReminderKind.DUE_DAY,
                    48_250,
                    "••••8912",
                    date(2030, 1, 20),
                    now,
                )
            ],
            now,
        )
        await tx.commit()
    await engine.dispose()


def test_the_cli_shows_counts_and_the_schedule_masked(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_schedule_one(database_url))

    reminders_cli.main(["counts"])
    assert json.loads(capsys.readouterr().out) == {"scheduled": 1}
    reminders_cli.main(["schedule", "-n", "5"])
    [shown] = json.loads(capsys.readouterr().out)["scheduled"]
    assert shown["consumer"] == "••••8912" and shown["kind"] == "due_day"
    assert shown["send_at"] == "2030-01-10T04:30:00+00:00"


def _redis_reachable(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {url}: {exc}"
    return None


def test_a_real_celery_worker_runs_a_job_sent_through_redis(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The broker path for real: a `celery worker` process takes the job from Redis, runs it on
    the database, and its report comes back through the result backend."""
    import os
    import subprocess
    import sys

    redis_url = "redis://127.0.0.1:6379/13"
    if (reason := _redis_reachable(redis_url)) is not None:
        pytest.skip(reason)
    monkeypatch.setenv("REDIS_URL", redis_url)
    asyncio.run(_schedule_one(database_url))
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    # A queue of its own: another suite's worker on the same Redis must not take these jobs.
    queue = f"test-{uuid.uuid4().hex}"
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app.workers.celery_app", "worker",
         "--pool=solo", "--loglevel=INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle", "-Q", queue, "-n", f"{queue}@localhost"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        app = make_celery()
        report = app.send_task("reminders.discover", queue=queue).get(timeout=90)
        assert report["checked"] == 0  # no resident consented in this database: nothing to check
        counts = app.send_task("reminders.dispatch", queue=queue).get(timeout=90)
        assert counts["sent"] == 0  # the one reminder is due in 2030
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
