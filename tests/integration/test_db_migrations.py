"""The Alembic migrations build exactly `tables.metadata`, idempotently, on SQLite and
PostgreSQL, and leave tables they do not own alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from integrations.db.migrate import MIGRATIONS, alembic_config, include_name, upgrade
from integrations.db.tables import metadata

ROOT = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def schema_diff(sync_url: str) -> list[object]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def current_revision(sync_url: str) -> str | None:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A sync URL of a database at head, with a sandbox table of someone else's in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh' / 'bot.db'}"  # the directory does not exist yet
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_schema").sync_url
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS sandbox_probe"))
        connection.execute(text("CREATE TABLE sandbox_probe (id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO sandbox_probe (id) VALUES (7)"))
    engine.dispose()
    return url


def test_migrated_schema_matches_the_tables(migrated_url: str) -> None:
    assert current_revision(migrated_url) == HEAD
    assert schema_diff(migrated_url) == []


def test_upgrading_twice_changes_nothing_and_spares_sandbox_tables(migrated_url: str) -> None:
    upgrade(migrated_url)
    assert current_revision(migrated_url) == HEAD
    assert schema_diff(migrated_url) == []
    engine = create_engine(migrated_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM sandbox_probe")).scalar_one() == 7
    engine.dispose()


def test_downgrade_removes_exactly_the_product_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE sandbox_probe (id INTEGER PRIMARY KEY)"))
    command.downgrade(alembic_config(url), "base")
    remaining = {
        name for name in inspect(engine).get_table_names() if not name.startswith("sqlite_")
    }
    engine.dispose()
    assert remaining == {"alembic_version", "sandbox_probe"}
    upgrade(url)
    assert schema_diff(url) == []


def test_module_upgrades_the_database_named_by_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'bot.db'}"
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-m", "app.cli.migrate"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            check=True,
            capture_output=True,
            timeout=60,
        )
    assert current_revision(url) == HEAD
    assert schema_diff(url) == []


def test_async_driver_urls_are_accepted(tmp_path: Path) -> None:
    """DATABASE_URL is shared with the application, which may spell the async driver."""
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    assert current_revision(f"sqlite:///{tmp_path / 'bot.db'}") == HEAD
