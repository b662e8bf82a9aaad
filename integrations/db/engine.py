"""Engines from a DATABASE_URL: async drivers at run time, sync ones for Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from integrations.db.crypto import KeyRing, attach_keyring


def async_url(database_url: str) -> str:
    """sqlite:///x -> sqlite+aiosqlite:///x, postgresql://... -> postgresql+asyncpg://..."""
    url = make_url(database_url)
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        url = url.set(drivername="sqlite+aiosqlite")
    elif url.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        url = url.set(drivername="postgresql+asyncpg")
    return str(url.render_as_string(hide_password=False))


def sync_url(database_url: str) -> str:
    """The same database through a synchronous driver (Alembic, Rasa's tracker store).

    PostgreSQL gets the installed SQLAlchemy's default driver: psycopg (3) under 2.1 in
    the app, psycopg2 under 1.4 in the Rasa server; whichever one the URL named."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        url = url.set(drivername="sqlite")
    elif url.drivername in (
        "postgres",
        "postgresql+asyncpg",
        "postgresql+psycopg2",
        "postgresql+psycopg",
    ):
        url = url.set(drivername="postgresql")
    return str(url.render_as_string(hide_password=False))


def make_engine(database_url: str, keyring: KeyRing | None = None) -> AsyncEngine:
    """An async engine; `keyring` encrypts its personal data. Without one the engine cannot
    read or write an encrypted column (the sandbox's tables have none)."""
    engine = _make_engine(database_url)
    if keyring is not None:
        attach_keyring(engine.sync_engine.dialect, keyring)
    return engine


def _make_engine(database_url: str) -> AsyncEngine:
    url = make_url(async_url(database_url))
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Two processes (gateway, action server) write the same file: wait for locks
        # instead of failing at once.
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
