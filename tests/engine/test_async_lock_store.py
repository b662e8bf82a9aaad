"""Rasa's per-conversation lock on redis.asyncio (integrations/rasa/engine/lock_store.py), on the real
Redis server (REDIS_TEST_URL, default redis://127.0.0.1:6379/15); skipped with a reason when
absent. Two stores stand for two Rasa processes: each has its own connections."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
import redis
import yaml
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from integrations.rasa.engine.lock_store import AsyncRedisLockStore
from integrations.rasa.engine.settings import INTERNAL_TOKEN_ENV, EngineSettings, endpoints_config
from tests.engine.conftest import REDIS_URL

pytestmark = pytest.mark.redis


async def _hold(store: AsyncRedisLockStore, cid: str, lifetime: float) -> None:
    async with store.lock(cid, lock_lifetime=lifetime):
        pass


async def finishes_within(seconds: float, turn: Coroutine[Any, Any, None]) -> bool:
    """Whether `turn` ends (raising its error, if any) within `seconds`. Not wait_for: it
    would wait for the cancelled turn, and redis-py 4.6 on Python 3.10 can miss a
    cancellation (integrations/rasa/engine/lock_store.py), so a stuck turn could pass as done."""
    task = asyncio.ensure_future(turn)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        return False
    task.result()
    return True


def make_store(url: str = REDIS_URL, **settings: object) -> AsyncRedisLockStore:
    """A store as Rasa builds one from endpoints.yml, with a key prefix of this test's own."""
    parts = urlsplit(url)
    kwargs = {
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
        "key_prefix": f"t{uuid.uuid4().hex}",
        **settings,
    }
    return AsyncRedisLockStore(EndpointConfig(url=parts.hostname, type="x", **kwargs))


def conversation() -> str:
    return f"conversation-{uuid.uuid4().hex}"


def require_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()


@pytest_asyncio.fixture
async def stores(redis_client: aioredis.Redis) -> AsyncIterator[tuple[AsyncRedisLockStore, ...]]:
    """Two lock stores on one key prefix: what two Rasa processes have."""
    first = make_store()
    second = make_store(key_prefix=first.key_prefix.split(":")[0])
    yield first, second
    await first.close()
    await second.close()


async def test_one_conversation_runs_strictly_one_turn_at_a_time(
    redis_client: aioredis.Redis, stores: tuple[AsyncRedisLockStore, ...]
) -> None:
    cid = conversation()
    running, overlaps, done = 0, 0, []

    async def turn(store: AsyncRedisLockStore, name: str) -> None:
        nonlocal running, overlaps
        async with store.lock(cid, lock_lifetime=10):
            running += 1
            overlaps += running > 1
            await asyncio.sleep(0.03)  # long enough for an unlocked turn to overlap
            running -= 1
            done.append(name)

    await asyncio.gather(*(turn(stores[n % 2], f"t{n}") for n in range(6)))

    assert overlaps == 0 and sorted(done) == sorted(f"t{n}" for n in range(6))
    assert (
        await redis_client.exists(stores[0].key_prefix + cid) == 0
    )  # released, nothing left behind


async def test_other_conversations_are_not_held_up(
    stores: tuple[AsyncRedisLockStore, ...],
) -> None:
    first, second = stores

    async with first.lock(conversation(), lock_lifetime=10):
        # A different conversation gets its lock at once even while the first one is busy.
        assert await finishes_within(1, _hold(second, conversation(), lifetime=10))


async def test_the_lock_is_released_when_the_turn_fails(
    redis_client: aioredis.Redis, stores: tuple[AsyncRedisLockStore, ...]
) -> None:
    first, second = stores
    cid = conversation()
    with pytest.raises(RuntimeError, match="the turn failed"):
        async with first.lock(cid, lock_lifetime=10):
            raise RuntimeError("the turn failed")
    assert await redis_client.exists(first.key_prefix + cid) == 0

    assert await finishes_within(1, _hold(second, cid, lifetime=10))  # not after 10 s


async def test_a_holder_whose_lock_expired_does_not_release_its_successors_lock(
    redis_client: aioredis.Redis, stores: tuple[AsyncRedisLockStore, ...]
) -> None:
    first, second = stores
    cid = conversation()
    key = first.key_prefix + cid
    stalled = first.lock(cid, lock_lifetime=0.2)
    await stalled.__aenter__()
    await asyncio.sleep(0.3)  # the stalled turn outlives its lock
    async with second.lock(cid, lock_lifetime=10):
        successor = await redis_client.get(key)
        await stalled.__aexit__(None, None, None)  # the stalled turn ends and "releases"
        assert await redis_client.get(key) == successor  # the successor still holds it
        with pytest.raises(LockError):  # and still keeps a third turn out
            async with first.lock(cid, lock_lifetime=0.2):
                pytest.fail("a third turn ran while the successor held the lock")
    assert await redis_client.exists(key) == 0


async def test_a_waiter_gives_up_with_lock_error_after_the_lock_lifetime(
    stores: tuple[AsyncRedisLockStore, ...],
) -> None:
    first, second = stores
    cid = conversation()
    loop = asyncio.get_running_loop()
    async with first.lock(cid, lock_lifetime=10):
        started = loop.time()
        with pytest.raises(LockError, match=r"within 0\.3 s"):
            assert await finishes_within(3, _hold(second, cid, lifetime=0.3))
        # uvloop's clock ticks in milliseconds: 0.3 s can read as 0.2999.
        assert 0.29 <= loop.time() - started < 1.5


@pytest.mark.parametrize(
    "lost", [RedisTimeoutError("no answer in time"), asyncio.CancelledError()], ids=repr
)
async def test_a_lock_taken_just_as_its_answer_was_lost_is_not_left_behind(
    redis_client: aioredis.Redis,
    stores: tuple[AsyncRedisLockStore, ...],
    monkeypatch: pytest.MonkeyPatch,
    lost: BaseException,
) -> None:
    first, second = stores
    cid = conversation()
    real_take, _ = first._redis()

    async def set_then_lose_the_answer(*args: object, **kwargs: object) -> object:
        await real_take(*args, **kwargs)  # Redis applied the SET ...
        raise lost  # ... but the turn timed out or was cancelled before it heard so

    monkeypatch.setattr(first, "_take", set_then_lose_the_answer)
    expected = LockError if isinstance(lost, RedisError) else asyncio.CancelledError
    with pytest.raises(expected):
        async with first.lock(cid, lock_lifetime=10):
            pytest.fail("a turn ran without knowing it held the lock")
    # The next turn gets the lock at once, not after the 10 s lifetime.
    assert await finishes_within(1, _hold(second, cid, lifetime=10))


async def test_redis_down_is_a_lock_error_not_an_unlocked_turn() -> None:
    store = make_store("redis://127.0.0.1:1/0")  # nothing listens there
    with pytest.raises(LockError, match="unreachable"):
        async with store.lock(conversation()):
            pytest.fail("a turn ran without its lock")


async def test_a_redis_that_does_not_answer_is_a_lock_error_after_the_socket_timeout() -> None:
    finished = asyncio.Event()

    async def accept_and_stay_silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await finished.wait()
        writer.close()

    server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = make_store(f"redis://127.0.0.1:{port}/0", socket_timeout=0.3)
    try:
        with pytest.raises(LockError, match="Timeout"):
            assert await finishes_within(3, _hold(store, conversation(), lifetime=10))
    finally:
        finished.set()
        await store.close()
        server.close()
        await server.wait_closed()


def test_one_store_serves_one_event_loop_after_another() -> None:
    """Its connections are made in the loop that uses them, not where it was built."""
    require_redis()
    store = make_store()

    async def turn(close: bool) -> None:
        async with store.lock(conversation(), lock_lifetime=10):
            pass
        if close:
            await store.close()

    asyncio.run(turn(close=False))  # leaves its connection in the pool, bound to this loop
    asyncio.run(turn(close=True))


@pytest.fixture
def endpoints_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The endpoints.yml the Rasa server's entry point writes for REDIS_URL (server.py)."""
    config, secrets = endpoints_config(EngineSettings(redis_url=REDIS_URL))
    assert set(secrets) == {INTERNAL_TOKEN_ENV}  # no password; the action server's secret
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)  # as server.py does before Rasa reads the file
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(config))
    yield path


async def test_rasa_builds_it_from_the_endpoints_file_the_server_writes(
    redis_client: aioredis.Redis, endpoints_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.utils import AvailableEndpoints, number_of_sanic_workers

    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    store = LockStore.create(endpoints.lock_store)

    # This class, built by Rasa's own loader from the type in the file.
    assert type(store) is AsyncRedisLockStore
    assert store.key_prefix == "rasa:mutex:"
    cid = conversation()
    async with store.lock(cid):
        # On the database of REDIS_URL, under the prefix server.py writes.
        assert await redis_client.exists(f"rasa:mutex:{cid}") == 1
    assert await redis_client.exists(f"rasa:mutex:{cid}") == 0
    await store.close()
    # Several Sanic workers stay allowed, as with Rasa's own Redis lock store.
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(endpoints.lock_store) == 2


def test_the_password_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.utils import AvailableEndpoints

    config, secrets = endpoints_config(EngineSettings(redis_url="rediss://:s3cret@cache:6380/2"))
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(config))
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    store = LockStore.create(AvailableEndpoints.read_endpoints(str(path)).lock_store)
    assert isinstance(store, AsyncRedisLockStore)
    connection = store._connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("cache", 6380, 2)
    assert connection["password"] == "s3cret" and connection["ssl"] is True


def test_a_redis_url_without_a_database_means_database_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.utils import AvailableEndpoints

    config, secrets = endpoints_config(EngineSettings(redis_url="redis://cache"))
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(config))
    store = LockStore.create(AvailableEndpoints.read_endpoints(str(path)).lock_store)
    assert store._connection_kwargs["db"] == 0 and store._connection_kwargs["port"] == 6379


def test_rasas_ticket_methods_say_only_lock_is_supported() -> None:
    store = make_store()
    with pytest.raises(NotImplementedError, match=r"only lock\(\)"):
        store.get_lock("x")
    with pytest.raises(LockError):  # Rasa's issue_ticket wraps whatever fails
        store.issue_ticket("x")
