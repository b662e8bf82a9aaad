"""create_app() with no container: the server builds one at startup and closes it at shutdown."""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import SecretStr
from starlette.testclient import TestClient

from app.gateway.app import create_app
from app.settings import Settings
from tests.gateway.conftest import web_sender
from tests.gateway.rasa_double import free_port


def test_the_lifespan_builds_serves_and_closes_a_container(
    tmp_path: Path, seeded_template: Path
) -> None:
    database = tmp_path / "app.db"
    shutil.copyfile(seeded_template, database)  # migrated and seeded, as `make run` leaves it
    settings = Settings(
        database_url=f"sqlite:///{database}",
        app_secret_key=SecretStr("lifespan-test-key"),
        rasa_port=free_port(),
        action_server_port=free_port(),
    )
    app = create_app(settings=settings)
    assert app.state.container is None  # nothing built at creation

    with TestClient(app) as client:
        assert app.state.container is not None
        assert client.get("/webchat/messages", params={"sender": web_sender("abc")}).json() == {
            "messages": [],
            "cursor": "0",
        }
        # The sandbox pages are mounted once the container exists (development only).
        assert client.get("/sandbox/sms", params={"to": "+919829100001"}).status_code == 200
        assert client.get("/healthz").status_code == 503

    assert app.state.container is None
