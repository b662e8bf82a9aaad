"""Actions against a real container (migrated SQLite, seeded sandbox), whose services are
installed into actions.runtime while a test runs, as the action server's entry does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import actions.runtime
from app.bootstrap import Container, action_services
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    ContainerFactory,
    make_container,
    seeded_template,
)


@pytest.fixture
async def container(make_container: ContainerFactory) -> AsyncIterator[Container]:  # noqa: F811
    built = await make_container()
    actions.runtime.install(lambda: action_services(built))
    yield built
    actions.runtime.install(None)
