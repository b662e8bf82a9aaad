"""Tests of the code that runs inside the Rasa server, in the engine runtime (Python 3.10,
Rasa 3.6's pins: `.venv-engine/bin/python -m pytest tests/engine`, README "Runtimes").

Only the engine's packages here (rasa, SQLAlchemy 1.4, redis, pytest): nothing of the app, so
fixtures of the app's test tiers are not used; what they share is in tests/doubles/ (stdlib
servers). The real PostgreSQL and Redis as the app's integration tests find them, skipped
with a reason when absent.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis import asyncio as aioredis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "current.tar.gz"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
