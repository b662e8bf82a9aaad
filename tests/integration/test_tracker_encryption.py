"""Rasa's tracker events at rest (integrations/rasa/event_crypto.py): what a dump of the
tracker database shows, how rows written before encryption still read, and key rotation.
On an SQLite file, and on a database of its own on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from integrations.db.crypto import KeyRing, UndecryptableValue
from integrations.db.engine import async_url
from integrations.rasa.event_crypto import rotate_events
from integrations.rasa.tracker_store import CachedSQLTrackerStore
from tests.integration.conftest import POSTGRES_URL

DOMAIN = Domain.from_dict(
    {
        "intents": ["inform"],
        "slots": {
            "sso_id": {"type": "text", "mappings": []},
            "consumer_number": {"type": "text", "mappings": []},
        },
    }
)
SSO_ID, CONSUMER = "ramesh.kumar77", "210145678912"
HASH_KEY = os.urandom(32)


def keyring(*key_ids: str) -> KeyRing:
    """A ring whose keys are derived from their ids (the same id, the same key)."""
    keys = {key_id: key_id.encode().ljust(32, b"k")[:32] for key_id in key_ids}
    return KeyRing(key_ids[0], keys, HASH_KEY)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Rasa's SQL tracker store arguments for an empty database of that kind."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("trackers") / "rasa.db"
        yield {"dialect": "sqlite", "db": str(path)}
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"tracker_crypto_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    url = make_url(POSTGRES_URL)
    try:
        yield {
            "dialect": "postgresql",
            "host": url.host,
            "port": url.port,
            "db": name,
            "username": url.username,
            "password": url.password,
        }
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def store(database: dict[str, Any], ring: KeyRing) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(domain=DOMAIN, keyring=ring, **database)


def raw_rows(any_store: Any, sender: str) -> list[str]:
    with any_store.session_scope() as session:
        rows = (
            session.query(any_store.SQLEvent)
            .filter(any_store.SQLEvent.sender_id == sender)
            .order_by(any_store.SQLEvent.id)
            .all()
        )
        return [row.data for row in rows]


async def linking_turn(a_store: Any, sender: str) -> None:
    tracker = await a_store.get_or_create_tracker(sender)
    tracker.update(UserUttered(f"my sso id is {SSO_ID}", {"name": "inform", "confidence": 1.0}))
    tracker.update(SlotSet("sso_id", SSO_ID))
    tracker.update(SlotSet("consumer_number", CONSUMER))
    tracker.update(ActionExecuted("action_listen"))
    await a_store.save(tracker)


def test_the_database_holds_no_text_of_the_conversation(database: dict[str, Any]) -> None:
    ring, sender = keyring("k1"), f"crypto-{uuid.uuid4().hex}"
    run(linking_turn(store(database, ring), sender))

    rows = raw_rows(store(database, ring), sender)
    assert rows and all(row.startswith("k1:") for row in rows)
    dump = "\n".join(rows)
    assert SSO_ID not in dump and CONSUMER not in dump
    # Another server (a fresh store, nothing remembered) reads it back whole.
    tracker = run(store(database, ring).retrieve(sender))
    assert tracker.get_slot("sso_id") == SSO_ID
    assert tracker.latest_message.text == f"my sso id is {SSO_ID}"
    full = run(store(database, ring).retrieve_full_tracker(sender))
    assert full.get_slot("consumer_number") == CONSUMER


def test_rows_written_before_encryption_still_read(database: dict[str, Any]) -> None:
    sender = f"crypto-{uuid.uuid4().hex}"
    # Rasa's own store writes plain JSON, as this project did before.
    run(linking_turn(SQLTrackerStore(domain=DOMAIN, **database), sender))
    ring = keyring("k1")
    tracker = run(store(database, ring).retrieve(sender))
    assert tracker.get_slot("sso_id") == SSO_ID
    # The conversation goes on: new rows sealed, old and new read together.
    tracker.update(SlotSet("sso_id", None))
    run(store(database, ring).save(tracker))
    rows = raw_rows(store(database, ring), sender)
    assert rows[0].startswith("{") and rows[-1].startswith("k1:")
    assert run(store(database, ring).retrieve(sender)).get_slot("sso_id") is None


def test_rotation_reseals_every_event_under_the_new_key(database: dict[str, Any]) -> None:
    old, plain = f"crypto-{uuid.uuid4().hex}", f"crypto-{uuid.uuid4().hex}"
    run(linking_turn(store(database, keyring("k1")), old))
    run(linking_turn(SQLTrackerStore(domain=DOMAIN, **database), plain))
    both = keyring("k2", "k1")

    async def twice() -> tuple[Any, Any]:
        engine = create_async_engine(async_url(_url(database)))
        try:
            return await rotate_events(engine, both), await rotate_events(engine, both)
        finally:
            await engine.dispose()

    first, again = run(twice())
    assert first.rows_rewritten >= len(raw_rows(store(database, both), old)) * 2
    assert again.rows_rewritten == 0
    for sender in (old, plain):
        rows = raw_rows(store(database, both), sender)
        assert all(row.startswith("k2:") for row in rows), rows
        # The old key can be dropped now.
        assert run(store(database, keyring("k2")).retrieve(sender)).get_slot("sso_id") == SSO_ID


def test_a_store_without_the_key_cannot_read(database: dict[str, Any]) -> None:
    sender = f"crypto-{uuid.uuid4().hex}"
    run(linking_turn(store(database, keyring("k1")), sender))
    with pytest.raises(UndecryptableValue):
        run(store(database, keyring("k9")).retrieve(sender))


def _url(database: dict[str, Any]) -> str:
    if database["dialect"] == "sqlite":
        return f"sqlite:///{database['db']}"
    return str(
        make_url(POSTGRES_URL).set(database=database["db"]).render_as_string(hide_password=False)
    )


def test_key_ids_never_look_like_plain_json() -> None:
    with pytest.raises(ValueError):
        KeyRing("{k", {"{k": b"x" * 32}, HASH_KEY)


def test_make_rotate_keys_reseals_the_tracker_store(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from app.cli import rotate_keys

    shutil.copyfile(sqlite_template, tmp_path / "bot.db")
    trackers = {"dialect": "sqlite", "db": str(tmp_path / "rasa.db")}
    sender = f"crypto-{uuid.uuid4().hex}"
    run(linking_turn(SQLTrackerStore(domain=DOMAIN, **trackers), sender))  # plain, as before

    def spec(key_id: str) -> str:
        return f"{key_id}:" + base64.b64encode(keyring(key_id).keys[key_id]).decode()

    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("RASA_TRACKER_STORE_URL", f"sqlite:///{trackers['db']}")
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", f"{spec('k2')},{spec('k1')}")
    monkeypatch.setenv("DATA_HASH_KEY", base64.b64encode(HASH_KEY).decode())
    rotate_keys.main()

    rows = raw_rows(store(trackers, keyring("k2")), sender)
    assert rows and all(row.startswith("k2:") for row in rows)
    assert SSO_ID not in "".join(rows)
