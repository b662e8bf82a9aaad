"""One production-shaped stack shared by the fault tests of this folder (starting one costs
about a minute of both cores); each test uses residents of its own."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.channels.providers import serving
from tests.doubles.tcp_proxy import proxying
from tests.e2e.conftest import MODEL
from tests.faults.stack import FaultStack, fresh_databases, seed, stack_env
from tests.integration.conftest import POSTGRES_URL, REDIS_URL

RESIDENTS = 120


def _reachable() -> None:
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make model` (make test does it)")
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    finally:
        engine.dispose()
    try:
        with Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
            client.ping()
    except (RedisError, OSError) as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    _reachable()
    workdir = tmp_path_factory.mktemp("faults")
    pg, redis = make_url(POSTGRES_URL), urlsplit(REDIS_URL)
    with (
        serving() as twilio,
        proxying(pg.host or "127.0.0.1", pg.port or 5432) as pg_proxy,
        proxying(redis.hostname or "127.0.0.1", redis.port or 6379) as redis_proxy,
        fresh_databases(POSTGRES_URL) as (app_db, rasa_db),
    ):
        residents = seed(workdir / "seed.yml", RESIDENTS)
        stack = FaultStack(
            workdir, POSTGRES_URL, REDIS_URL, twilio, pg_proxy, redis_proxy, residents
        )
        stack.env = stack_env(
            stack, app_db, rasa_db, workdir / "seed.yml", redis.path.lstrip("/") or "15"
        )
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()
