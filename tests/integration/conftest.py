"""Fixtures for tests against real databases: a migrated SQLite file and, when reachable,
PostgreSQL (TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test).

PostgreSQL tests work in a schema of their own, created and migrated once per session and
dropped at the end, so they neither see nor touch other tables in that database (such as
the sandbox's `sandbox_*`) and can run twice in a row or next to another test run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from integrations.db.crypto import attach_keyring, derived_keyring
from integrations.db.engine import async_url, make_engine, sync_url
from integrations.db.migrate import upgrade
from integrations.db.tables import metadata
from integrations.db.unit_of_work import SqlUnitOfWorkFactory

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
# The keys personal data is encrypted with in these tests (an engine has none by default).
TEST_KEYRING = derived_keyring("integration-test-secret")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: needs PostgreSQL (TEST_POSTGRES_URL); skipped when unreachable"
    )


@dataclass(frozen=True)
class PostgresSchema:
    """A migrated schema of the test database, and how to reach it."""

    name: str

    @property
    def sync_url(self) -> str:
        """For Alembic and psycopg: the schema goes in through libpq's `options`."""
        url = make_url(sync_url(POSTGRES_URL))
        return str(
            url.update_query_dict({"options": f"-csearch_path={self.name}"}).render_as_string(
                hide_password=False
            )
        )

    def async_engine(self) -> AsyncEngine:
        # asyncpg takes no libpq options: the schema is a server setting there.
        engine = create_async_engine(
            async_url(POSTGRES_URL),
            connect_args={"server_settings": {"search_path": self.name}},
        )
        attach_keyring(engine.sync_engine.dialect, TEST_KEYRING)
        return engine


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema]:
    admin = create_engine(sync_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {reason}")
    schema = PostgresSchema(f"bot_test_{uuid.uuid4().hex[:12]}")
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema.name}"'))
    try:
        upgrade(schema.sync_url)
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema.name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """The kind of database a test runs on: each test runs once per kind."""
    return str(request.param)


@pytest_asyncio.fixture
async def engine(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty, migrated database of that kind."""
    if database == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}", TEST_KEYRING)
    else:
        schema: PostgresSchema = request.getfixturevalue("postgres_schema")
        engine = schema.async_engine()
        names = ", ".join(table.name for table in metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def uow(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


@pytest_asyncio.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    """A client on the test Redis database (REDIS_TEST_URL); skips the test with a reason
    when Redis is not reachable."""
    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.close()
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield client
    await client.close()
