"""Actions against a real container (migrated SQLite, seeded sandbox): the one
actions.runtime hands out while a test runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import actions.runtime
from app.bootstrap import Container
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    ContainerFactory,
    make_container,
    seeded_template,
)


@pytest.fixture
async def container(make_container: ContainerFactory) -> AsyncIterator[Container]:  # noqa: F811
    built = await make_container()
    actions.runtime._container = built
    yield built
    actions.runtime._container = None
