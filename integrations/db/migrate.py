"""Apply (or write) Alembic migrations without an alembic.ini.

    python -m integrations.db.migrate                      # upgrade DATABASE_URL to head
    python -m integrations.db.migrate revision "add foo"   # autogenerate a new revision

DATABASE_URL defaults to the settings' default (a SQLite file under var/). Upgrading is
idempotent: a database already at head is left as it is.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from integrations.db.engine import sync_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration built in code, pointed at `database_url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as an attribute, not a main option: ConfigParser would choke on a "%" in an
    # URL-encoded password.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Bring the database at `database_url` to the latest revision."""
    _ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), "head")


def revision(database_url: str, message: str) -> None:
    """Autogenerate a revision from the difference between `tables.metadata` and the
    database at `database_url` (which should be at head)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic's filter: leave alone the tables these migrations do not own, so that
    autogenerate never proposes dropping them: the sandbox's `sandbox_*` tables and
    SQLite's bookkeeping (`sqlite_sequence`)."""
    if type_ == "table" and name is not None:
        return not name.startswith(("sandbox_", "sqlite_"))
    return True


def _ensure_sqlite_directory(database_url: str) -> None:
    url = make_url(sync_url(database_url))
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _default_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from app.settings import Settings

    return Settings().database_url


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m integrations.db.migrate")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("upgrade", help="upgrade to the latest revision (the default)")
    new = commands.add_parser("revision", help="autogenerate a new revision")
    new.add_argument("message")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database_url = _default_database_url()
    if args.command == "revision":
        revision(database_url, args.message)
    else:
        upgrade(database_url)


if __name__ == "__main__":
    main()
