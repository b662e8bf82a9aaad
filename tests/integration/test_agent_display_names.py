"""Finding 9 of issue 13: residents see an agent's display name, never the username that
logs in (which would say whose account to guess at or lock out)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from bot.model.handoff import default_display_name
from integrations.db.migrate import alembic_config, upgrade

ROOT = Path(__file__).resolve().parents[2]


def test_a_display_name_defaults_to_the_usernames_first_word() -> None:
    assert default_display_name("asha.verma") == "Asha"
    assert default_display_name("agent1") == "Agent"
    assert default_display_name("r2d2") == "Help desk"  # no first word worth showing


def test_migration_gives_existing_agents_a_display_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    command.upgrade(alembic_config(url), "0007")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO agents (agent_id, username, password_hash, salt, created_at,"
                " failed_logins) VALUES ('a1', 'asha.verma', 'h', 's', '2026-12-01', 0)"
            )
        )
    upgrade(url)
    with engine.connect() as connection:
        shown = connection.execute(text("SELECT display_name FROM agents")).scalar_one()
    engine.dispose()
    assert shown == "Asha"


def test_the_cli_takes_the_display_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    env = {**os.environ, "DATABASE_URL": url, "AGENT_PASSWORD": "correct horse battery"}
    created = subprocess.run(
        [sys.executable, "-m", "app.cli.agents", "add", "agent7", "--display-name", "Meena"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    assert "'Meena'" in created.stdout
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT username, display_name FROM agents")).one()
    engine.dispose()
    assert tuple(row) == ("agent7", "Meena")
