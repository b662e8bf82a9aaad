"""Pytest fixtures for the doubles; test modules load them with
`pytest_plugins = ["tests.doubles.fixtures"]`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.doubles.http_double import HttpDouble, serving


@pytest.fixture
def http_double() -> Iterator[HttpDouble]:
    """A scripted HTTP server on 127.0.0.1, stopped after the test."""
    with serving() as double:
        yield double
