"""Rasa's tracker events at rest, inside the Rasa server (integrations/rasa/event_crypto.py,
sealed by integrations/rasa/engine/tracker_store.py): what a dump of the tracker database
shows, how rows written before encryption still read, and how rows re-sealed under a new key
(as `make rotate-keys` re-seals them, in the app runtime: tests/integration/
test_tracker_encryption.py) read. On an SQLite file, and on a database of its own on the real
PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from integrations.keyring import KeyRing, UndecryptableValue
from integrations.rasa.engine.tracker_store import CachedSQLTrackerStore
from integrations.rasa.event_crypto import seal, unseal
from tests.engine.conftest import POSTGRES_URL

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


def test_rows_resealed_under_a_new_key_read_once_the_old_key_is_gone(
    database: dict[str, Any],
) -> None:
    old, plain = f"crypto-{uuid.uuid4().hex}", f"crypto-{uuid.uuid4().hex}"
    run(linking_turn(store(database, keyring("k1")), old))
    run(linking_turn(SQLTrackerStore(domain=DOMAIN, **database), plain))
    both = keyring("k2", "k1")
    # What `make rotate-keys` does to each row (event_crypto.rotate_events, app runtime).
    any_store = store(database, both)
    with any_store.session_scope() as session:
        events = any_store.SQLEvent
        for row in session.query(events).filter(events.sender_id.in_([old, plain])).all():
            row.data = seal(both, unseal(both, row.data))
        session.commit()
    for sender in (old, plain):
        rows = raw_rows(store(database, both), sender)
        assert rows and all(row.startswith("k2:") for row in rows), rows
        assert run(store(database, keyring("k2")).retrieve(sender)).get_slot("sso_id") == SSO_ID


def test_a_store_without_the_key_cannot_read(database: dict[str, Any]) -> None:
    sender = f"crypto-{uuid.uuid4().hex}"
    run(linking_turn(store(database, keyring("k1")), sender))
    with pytest.raises(UndecryptableValue):
        run(store(database, keyring("k9")).retrieve(sender))


def test_key_ids_never_look_like_plain_json() -> None:
    with pytest.raises(ValueError):
        KeyRing("{k", {"{k": b"x" * 32}, HASH_KEY)
