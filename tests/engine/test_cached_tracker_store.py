"""CachedSQLTrackerStore (integrations/rasa/engine/tracker_store.py) stores exactly the rows
Rasa's SQLTrackerStore stores, and never answers from memory what the database no longer
says. On an SQLite file, and on the real PostgreSQL (skipped with a reason when absent)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from integrations.rasa.engine.tracker_store import CachedSQLTrackerStore
from tests.engine.conftest import POSTGRES_URL

DOMAIN = Domain.from_dict(
    {
        "intents": ["greet"],
        "slots": {"language": {"type": "text", "mappings": []}},
    }
)


def _stores(kind: str, tmp_path: Path) -> tuple[CachedSQLTrackerStore, ...]:
    """Two 'Rasa servers' sharing one database, and Rasa's own store on it for reference."""
    if kind == "sqlite":
        args: dict[str, Any] = {"dialect": "sqlite", "db": str(tmp_path / "rasa.db")}
    else:
        from sqlalchemy.engine import make_url

        url = make_url(POSTGRES_URL)
        args = {
            "dialect": "postgresql",
            "host": url.host,
            "port": url.port,
            "db": url.database,
            "username": url.username,
            "password": url.password,
        }
    try:
        return tuple(
            cls(domain=DOMAIN, **args)
            for cls in (CachedSQLTrackerStore, CachedSQLTrackerStore, SQLTrackerStore)
        )
    except Exception as exc:  # Rasa wraps the driver's error in its own
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    one, other, plain = _stores(request.param, tmp_path)
    yield one, other, plain
    with plain.session_scope() as session:
        session.query(plain.SQLEvent).filter(plain.SQLEvent.sender_id.like("cache-test-%")).delete(
            synchronize_session=False
        )
        session.commit()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def _sender() -> str:
    return f"cache-test-{uuid.uuid4().hex}"


def _rows(store: Any, sender: str) -> list[tuple[str, str]]:
    with store.session_scope() as session:
        rows = (
            session.query(store.SQLEvent)
            .filter(store.SQLEvent.sender_id == sender)
            .order_by(store.SQLEvent.id)
            .all()
        )
        return [(row.type_name, row.data) for row in rows]


def _turn(tracker: Any, text: str, language: str) -> None:
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("language", language))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(ActionExecuted("action_listen"))


async def _first_turn(store: Any, sender: str, text: str, language: str) -> Any:
    """A new conversation's first turn, saved: the tracker the store now remembers."""
    await store.get_or_create_tracker(sender)
    tracker = await store.retrieve(sender)  # loaded from the database: remembered now
    _turn(tracker, text, language)
    await store.save(tracker)
    return tracker


def test_it_writes_the_rows_rasas_own_store_writes(stores: tuple[Any, Any, Any]) -> None:
    one, _, plain = stores
    cached_sender, plain_sender = _sender(), _sender()

    async def conversation(store: Any, sender: str) -> None:
        tracker = await store.get_or_create_tracker(sender)
        for number in range(3):
            tracker = await store.retrieve(sender)
            _turn(tracker, f"hello {number}", "hi" if number % 2 else "en")
            if number == 1:  # a new session starts in the middle of a turn
                tracker.update(SessionStarted())
                tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)

    run(conversation(one, cached_sender))
    run(conversation(plain, plain_sender))
    assert [kind for kind, _ in _rows(one, cached_sender)] == [
        kind for kind, _ in _rows(plain, plain_sender)
    ]
    cached, reference = run(one.retrieve(cached_sender)), run(plain.retrieve(plain_sender))
    assert [type(e) for e in cached.events] == [type(e) for e in reference.events]
    assert cached.current_slot_values() == reference.current_slot_values()


def test_a_turn_reuses_the_tracker_it_saved(stores: tuple[Any, Any, Any]) -> None:
    one, other, _ = stores
    sender = _sender()

    async def two_turns() -> tuple[Any, Any]:
        tracker = await _first_turn(one, sender, "hello", "hi")
        return tracker, await one.retrieve(sender)

    saved, retrieved = run(two_turns())
    assert retrieved is saved
    # In the database too (the events are sealed: Rasa's own store cannot read them).
    assert run(other.retrieve(sender)).get_slot("language") == "hi"


def test_another_servers_write_is_seen(stores: tuple[Any, Any, Any]) -> None:
    one, other, _ = stores
    sender = _sender()

    async def scenario() -> Any:
        await _first_turn(one, sender, "hello", "en")
        # This server went down; the conversation moved to the other one for a turn.
        elsewhere = await other.retrieve(sender)
        _turn(elsewhere, "namaste", "hi")
        await other.save(elsewhere)
        return await one.retrieve(sender)

    back = run(scenario())
    assert back.get_slot("language") == "hi"
    assert back.latest_message.text == "namaste"


def test_events_of_a_turn_that_failed_before_saving_are_not_served(
    stores: tuple[Any, Any, Any],
) -> None:
    one, _, _ = stores
    sender = _sender()

    async def scenario() -> Any:
        await _first_turn(one, sender, "hello", "en")
        broken = await one.retrieve(sender)
        _turn(broken, "this turn crashes", "hi")  # never saved
        return await one.retrieve(sender)

    again = run(scenario())
    assert again.get_slot("language") == "en"
    assert again.latest_message.text == "hello"


def test_an_erased_conversation_is_gone(stores: tuple[Any, Any, Any]) -> None:
    one, _, plain = stores
    sender = _sender()

    async def scenario() -> Any:
        await _first_turn(one, sender, "hello", "hi")
        # What the gateway's SqlTrackerHistory does on "delete my data".
        with plain.session_scope() as session:
            session.query(plain.SQLEvent).filter_by(sender_id=sender).delete()
            session.commit()
        return await one.retrieve(sender)

    assert run(scenario()) is None


def test_a_write_between_retrieve_and_save_is_not_overwritten(
    stores: tuple[Any, Any, Any],
) -> None:
    """Two servers in one conversation at once (the lock lost): the one that saves second
    finds the newest row changed and stores what Rasa's own store would, not its copy."""
    one, other, plain = stores
    cached_sender, plain_sender = _sender(), _sender()

    async def interleaved(first: Any, second: Any, sender: str) -> None:
        await _first_turn(first, sender, "hello", "en")
        mine = await first.retrieve(sender)
        theirs = await second.retrieve(sender)
        _turn(theirs, "namaste", "hi")
        await second.save(theirs)
        _turn(mine, "hello again", "en")
        mine.update(ActionExecuted("utter_greet"))
        await first.save(mine)

    run(interleaved(one, other, cached_sender))
    run(interleaved(plain, plain, plain_sender))
    assert [kind for kind, _ in _rows(one, cached_sender)] == [
        kind for kind, _ in _rows(plain, plain_sender)
    ]
    back = run(one.retrieve(cached_sender))
    assert [type(e) for e in back.events] == [
        type(e) for e in run(plain.retrieve(plain_sender)).events
    ]
