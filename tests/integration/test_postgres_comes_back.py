"""PostgreSQL clients after a PostgreSQL outage: the gateway's engine and Rasa's tracker
store work again on the first query once it is back, on every pooled connection.

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
from sqlalchemy import text
from sqlalchemy.engine import make_url

from integrations.db.engine import make_engine
from integrations.rasa.tracker_store import CachedSQLTrackerStore
from tests.doubles.tcp_proxy import TcpProxy, proxying
from tests.integration.conftest import POSTGRES_URL
from tests.integration.test_cached_tracker_store import DOMAIN

pytestmark = [pytest.mark.postgres]

POOLED = 4  # queries at once before the outage: that many pooled connections go stale


@pytest.fixture
def proxy(postgres_schema: Any) -> Iterator[TcpProxy]:  # postgres_schema: skips without it
    url = make_url(POSTGRES_URL)
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
    finally:
        with store.session_scope() as session:
            session.query(store.SQLEvent).filter(
                store.SQLEvent.sender_id.like("comes-back-%")
            ).delete(synchronize_session=False)
            session.commit()
        store.engine.dispose()

    assert proxy.reset >= POOLED
    assert failures == 0, f"{failures} of {2 * POOLED} turns failed after PostgreSQL came back"


async def test_the_gateway_engine_works_at_once_when_postgresql_is_back(proxy: TcpProxy) -> None:
    engine = make_engine(through(proxy).render_as_string(hide_password=False))

    async def query() -> int:
        async with engine.connect() as connection:
            await asyncio.sleep(0.05)
            return int((await connection.execute(text("SELECT 1"))).scalar_one())

    try:
        await asyncio.gather(*(query() for _ in range(POOLED)))
        proxy.cut()
        proxy.restore()
        results = await asyncio.gather(
            *(query() for _ in range(2 * POOLED)), return_exceptions=True
        )
    finally:
        await engine.dispose()

    assert proxy.reset >= POOLED
    assert results == [1] * (2 * POOLED)
