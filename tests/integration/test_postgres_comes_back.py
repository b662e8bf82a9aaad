"""PostgreSQL clients after a PostgreSQL outage: the gateway's engine works again on the first
query once it is back, on every pooled connection (Rasa's tracker store, in the engine
runtime: tests/engine/test_tracker_store_outage.py).

The real PostgreSQL stays up (other tests use it): the clients reach it through a TCP proxy
that the test cuts (every connection reset, new ones refused) and restores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from integrations.db.engine import make_engine
from tests.doubles.tcp_proxy import TcpProxy, proxying
from tests.integration.conftest import POSTGRES_URL

pytestmark = [pytest.mark.postgres]

POOLED = 4  # queries at once before the outage: that many pooled connections go stale


@pytest.fixture
def proxy(postgres_schema: Any) -> Iterator[TcpProxy]:  # postgres_schema: skips without it
    url = make_url(POSTGRES_URL)
    with proxying(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy


def through(proxy: TcpProxy) -> Any:
    return make_url(POSTGRES_URL).set(host="127.0.0.1", port=proxy.port)


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
