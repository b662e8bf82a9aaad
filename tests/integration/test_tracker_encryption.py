"""`make rotate-keys` re-seals Rasa's tracker events (integrations/rasa/event_crypto.py) under
the current key, in the app runtime, where Rasa is not installed: rows shaped as Rasa 3.6's
SQLTrackerStore writes them (table `events`) are made here; that the Rasa server's store reads
rows so re-sealed is tested in its own runtime (tests/engine/test_tracker_store_encryption.py).
On an SQLite file, and on a database of its own on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from integrations.db.crypto import KeyRing, UndecryptableValue
from integrations.db.engine import async_url
from integrations.rasa.event_crypto import rotate_events, seal, unseal
from tests.integration.conftest import POSTGRES_URL

SSO_ID, CONSUMER = "ramesh.kumar77", "210145678912"
HASH_KEY = os.urandom(32)

# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent).
_metadata = MetaData()
EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def keyring(*key_ids: str) -> KeyRing:
    """A ring whose keys are derived from their ids (the same id, the same key)."""
    keys = {key_id: key_id.encode().ljust(32, b"k")[:32] for key_id in key_ids}
    return KeyRing(key_ids[0], keys, HASH_KEY)


def linking_turn() -> list[dict[str, Any]]:
    """A turn's events as Rasa serialises them: the resident's text and two slots."""
    return [
        {"event": "user", "text": f"my sso id is {SSO_ID}", "parse_data": {}},
        {"event": "slot", "name": "sso_id", "value": SSO_ID},
        {"event": "slot", "name": "consumer_number", "value": CONSUMER},
        {"event": "action", "name": "action_listen"},
    ]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tracker database of that kind, with Rasa's `events` table and nothing in it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('trackers') / 'rasa.db'}"
        _create_events(url)
        yield url
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"tracker_crypto_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _create_events(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _create_events(url: str) -> None:
    engine = create_engine(url)
    try:
        _metadata.create_all(engine)
    finally:
        engine.dispose()


def write(url: str, sender: str, ring: KeyRing | None) -> None:
    """The rows of one turn: sealed under `ring`'s current key, or plain JSON as Rasa's own
    store (and this project before encryption) wrote them."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for event in linking_turn():
                data = seal(ring, event) if ring else json.dumps(event)
                connection.execute(
                    EVENTS.insert().values(sender_id=sender, type_name=event["event"], data=data)
                )
    finally:
        engine.dispose()


def stored(url: str, sender: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = EVENTS.select().where(EVENTS.c.sender_id == sender).order_by(EVENTS.c.id)
            return [row.data for row in connection.execute(query)]
    finally:
        engine.dispose()


def test_rotation_reseals_every_event_under_the_new_key(database_url: str) -> None:
    old, plain = f"crypto-{uuid.uuid4().hex}", f"crypto-{uuid.uuid4().hex}"
    write(database_url, old, keyring("k1"))
    write(database_url, plain, None)
    both = keyring("k2", "k1")

    async def twice() -> tuple[Any, Any]:
        engine = create_async_engine(async_url(database_url))
        try:
            return await rotate_events(engine, both), await rotate_events(engine, both)
        finally:
            await engine.dispose()

    first, again = asyncio.run(twice())
    assert first.rows_rewritten >= 2 * len(linking_turn())
    assert again.rows_rewritten == 0
    for sender in (old, plain):
        rows = stored(database_url, sender)
        assert rows and all(row.startswith("k2:") for row in rows), rows
        assert SSO_ID not in "".join(rows) and CONSUMER not in "".join(rows)
        # The old key can be dropped now: the new one alone reads every event back.
        assert [unseal(keyring("k2"), row) for row in rows] == linking_turn()
        with pytest.raises(UndecryptableValue):
            unseal(keyring("k1"), rows[0])


def test_make_rotate_keys_reseals_the_tracker_store(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import rotate_keys

    shutil.copyfile(sqlite_template, tmp_path / "bot.db")
    trackers = f"sqlite:///{tmp_path / 'rasa.db'}"
    _create_events(trackers)
    sender = f"crypto-{uuid.uuid4().hex}"
    write(trackers, sender, None)  # plain, as before encryption

    def spec(key_id: str) -> str:
        return f"{key_id}:" + base64.b64encode(keyring(key_id).keys[key_id]).decode()

    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("RASA_TRACKER_STORE_URL", trackers)
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", f"{spec('k2')},{spec('k1')}")
    monkeypatch.setenv("DATA_HASH_KEY", base64.b64encode(HASH_KEY).decode())
    rotate_keys.main()

    rows = stored(trackers, sender)
    assert rows and all(row.startswith("k2:") for row in rows)
    assert SSO_ID not in "".join(rows)
    assert [unseal(keyring("k2"), row) for row in rows] == linking_turn()
