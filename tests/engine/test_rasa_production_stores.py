"""Rasa's tracker store on PostgreSQL and lock store on Redis, configured from the
environment exactly as the Rasa server's entry point writes var/endpoints-<port>.yml
(integrations/rasa/engine/server.py), and loaded by Rasa's own code. The real servers:
skipped with a reason when absent."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import yaml

from integrations.rasa.engine.lock_store import AsyncRedisLockStore
from integrations.rasa.engine.settings import (
    INTERNAL_TOKEN_ENV,
    LOCK_STORE_PASSWORD_ENV,
    TRACKER_STORE_PASSWORD_ENV,
    EngineSettings,
    endpoints_config,
)
from integrations.rasa.engine.tracker_store import CachedSQLTrackerStore
from tests.engine.conftest import POSTGRES_URL, REDIS_URL


def settings(**values: object) -> EngineSettings:
    return EngineSettings(**values)  # type: ignore[arg-type]


def test_embedded_defaults_keep_rasa_in_memory() -> None:
    config, secrets = endpoints_config(settings())
    assert set(config) == {"action_endpoint"} and set(secrets) == {INTERNAL_TOKEN_ENV}
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"


def test_passwords_go_to_the_environment_not_the_file() -> None:
    config, secrets = endpoints_config(
        settings(
            rasa_tracker_store_url="postgresql://rasa:s%40cret@db:5433/rasa",
            redis_url="redis://:r3dis@cache:6380/2",
            action_server_base_url="http://actions:5055",
        )
    )
    written = yaml.safe_dump(config)
    assert "s@cret" not in written and "r3dis" not in written
    assert secrets == {
        TRACKER_STORE_PASSWORD_ENV: "s@cret",
        LOCK_STORE_PASSWORD_ENV: "r3dis",
        INTERNAL_TOKEN_ENV: secrets[INTERNAL_TOKEN_ENV],
    }
    assert secrets[INTERNAL_TOKEN_ENV] not in written
    assert config["tracker_store"] == {
        "type": "integrations.rasa.engine.tracker_store.CachedSQLTrackerStore",
        "dialect": "postgresql",
        "url": "db",
        "port": 5433,
        "db": "rasa",
        "username": "rasa",
        "password": "${" + TRACKER_STORE_PASSWORD_ENV + "}",
    }
    assert config["lock_store"] == {
        "type": "integrations.rasa.engine.lock_store.AsyncRedisLockStore",
        "url": "cache",
        "port": 6380,
        "db": 2,
        "key_prefix": "rasa",
        "use_ssl": False,
        "password": "${" + LOCK_STORE_PASSWORD_ENV + "}",
    }
    assert config["action_endpoint"]["url"] == "http://actions:5055/webhook"


def test_a_tracker_store_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        endpoints_config(settings(rasa_tracker_store_url="mysql://x@y/z"))


@pytest.mark.postgres
@pytest.mark.redis
def test_rasa_loads_both_stores_and_keeps_a_conversation_in_postgresql(tmp_path: Path) -> None:
    import redis
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet

    config, secrets = endpoints_config(
        settings(rasa_tracker_store_url=POSTGRES_URL, redis_url=REDIS_URL)
    )
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(config))
    os.environ.update(secrets)
    endpoints = AvailableEndpoints.read_endpoints(str(path))
    domain = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": []}}})
    try:
        store = TrackerStore.create(endpoints.tracker_store, domain=domain)
    except Exception as exc:  # Rasa wraps the driver's error in its own
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    locks = LockStore.create(endpoints.lock_store)
    # Rasa falls back to an in-memory store, with a mere warning, if the class fails to load.
    assert isinstance(store, CachedSQLTrackerStore) and isinstance(locks, AsyncRedisLockStore)

    import asyncio

    sender = f"stores-test-{uuid.uuid4().hex}"

    async def round_trip() -> str | None:
        async with locks.lock(sender):  # as Rasa's processor holds it around a turn
            tracker = await store.get_or_create_tracker(sender)
            tracker.update(SlotSet("language", "hi"))
            await store.save(tracker)
        again = await store.retrieve(sender)
        await locks.close()
        return again.get_slot("language") if again else None

    assert asyncio.run(round_trip()) == "hi"
    with store.session_scope() as session:
        session.query(store.SQLEvent).filter_by(sender_id=sender).delete()
        session.commit()
