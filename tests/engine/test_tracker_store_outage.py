"""Rasa's tracker store after a PostgreSQL outage: it works again on the first query once
PostgreSQL is back, on every pooled connection (the gateway's engine, in the app runtime:
tests/integration/test_postgres_comes_back.py).

The real PostgreSQL stays up (other tests use it): the clients reach it through a TCP proxy
that the test cuts (every connection reset, new ones refused) and restores.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.shared.core.events import UserUttered
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from integrations.rasa.engine.tracker_store import CachedSQLTrackerStore
from tests.doubles.tcp_proxy import TcpProxy, proxying
from tests.engine.conftest import POSTGRES_URL
from tests.engine.test_cached_tracker_store import DOMAIN

pytestmark = [pytest.mark.postgres]

POOLED = 4  # queries at once before the outage: that many pooled connections go stale


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    url = make_url(POSTGRES_URL)
    reachable = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with reachable.connect():
            pass
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    finally:
        reachable.dispose()
    with proxying(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy


def through(proxy: TcpProxy) -> Any:
    return make_url(POSTGRES_URL).set(host="127.0.0.1", port=proxy.port)


def test_rasa_tracker_store_works_at_once_when_postgresql_is_back(proxy: TcpProxy) -> None:
    url = through(proxy)
    store = CachedSQLTrackerStore(
        domain=DOMAIN,
        dialect="postgresql",
        host=url.host,
        port=url.port,
        db=url.database,
        username=url.username,
        password=url.password,
    )
    senders = [f"comes-back-{uuid.uuid4().hex}" for _ in range(POOLED)]

    async def turns() -> list[Any]:
        results = []
        for sender in senders:
            tracker = await store.get_or_create_tracker(sender)
            tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
            results.append(await asyncio.gather(store.save(tracker), return_exceptions=True))
        return results

    async def turn_again(tracker: Any) -> Any:
        tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
        await store.save(tracker)
        store.forget(tracker.sender_id)  # read back from the database, not from memory
        return await store.retrieve(tracker.sender_id)

    def in_parallel_sessions() -> None:
        # Hold POOLED connections at once, so the pool keeps that many.
        sessions = [store.sessionmaker() for _ in range(POOLED)]
        for session in sessions:
            session.execute(text("SELECT 1"))
        for session in sessions:
            session.close()

    try:
        in_parallel_sessions()
        asyncio.run(turns())
        proxy.cut()
        proxy.restore()
        failures = 0
        for sender in senders * 2:
            try:
                assert asyncio.run(store.retrieve(sender)) is not None
            except Exception:
                failures += 1
        # Saves too: the trackers read before the cut, saved on pooled connections it killed.
        in_parallel_sessions()
        trackers = [asyncio.run(store.retrieve(sender)) for sender in senders]
        proxy.cut()
        proxy.restore()
        for tracker in trackers:
            try:
                saved = asyncio.run(turn_again(tracker))
                assert [e.text for e in saved.events if isinstance(e, UserUttered)] == ["hi"] * 2
            except Exception:
                failures += 1
    finally:
        with store.session_scope() as session:
            session.query(store.SQLEvent).filter(
                store.SQLEvent.sender_id.like("comes-back-%")
            ).delete(synchronize_session=False)
            session.commit()
        store.engine.dispose()
        store._autocommit.dispose()

    assert proxy.reset >= POOLED
    assert failures == 0, f"{failures} of {3 * POOLED} turns failed after PostgreSQL came back"
