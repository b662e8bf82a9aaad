"""The HTTP SSO registry against a real HTTP double: the contract in its docstring."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.errors import SsoUnavailable
from bot.model.residents import Language
from integrations.sso.http import HttpSsoRegistry
from tests.doubles.http_double import HttpDouble

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture
pytestmark = pytest.mark.asyncio

HOLDER = {
    "sso_id": "ramesh.kumar",
    "name": "Ramesh Kumar Sharma",
    "mobile": "+919829100001",
    "language": "hi",
}


@pytest_asyncio.fixture
async def registry(http_double: HttpDouble) -> AsyncIterator[HttpSsoRegistry]:
    registry = HttpSsoRegistry(http_double.base_url, "test-sso-key", timeout_s=0.3)
    yield registry
    await registry.aclose()


async def test_a_known_sso_id_gives_its_holder_and_registered_mobile(
    registry: HttpSsoRegistry, http_double: HttpDouble
) -> None:
    http_double.reply("GET", "/v1/sso-ids/ramesh.kumar", json_body=HOLDER)

    holder = await registry.lookup("ramesh.kumar")

    assert holder is not None
    assert (holder.sso_id, holder.name, holder.mobile) == (
        "ramesh.kumar",
        "Ramesh Kumar Sharma",
        "+919829100001",
    )
    assert holder.language is Language.HI
    (request,) = http_double.received("GET", "/v1/sso-ids/ramesh.kumar")
    assert request.headers["authorization"] == "Bearer test-sso-key"


async def test_an_unknown_sso_id_is_none(
    registry: HttpSsoRegistry, http_double: HttpDouble
) -> None:
    http_double.reply("GET", "/v1/sso-ids/nobody.here", status=404, json_body={})

    assert await registry.lookup("nobody.here") is None


@pytest.mark.parametrize(
    ("status", "body", "delay_s"),
    [
        (500, {"error": "internal"}, 0.0),
        (401, {"error": "bad key"}, 0.0),
        (200, {"unexpected": "shape"}, 0.0),
        (200, HOLDER, 2.0),  # slower than the adapter's timeout
    ],
    ids=["server-error", "unauthorised", "bad-body", "timeout"],
)
async def test_a_registry_that_cannot_answer_is_unavailable(
    registry: HttpSsoRegistry,
    http_double: HttpDouble,
    status: int,
    body: dict[str, str],
    delay_s: float,
) -> None:
    http_double.reply("GET", "/v1/sso-ids/ramesh.kumar", status, json_body=body, delay_s=delay_s)

    with pytest.raises(SsoUnavailable) as raised:
        await registry.lookup("ramesh.kumar")
    # The resident-facing error carries no vendor text.
    assert "internal" not in str(raised.value) and "bad key" not in str(raised.value)
