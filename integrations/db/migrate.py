"""Apply (or write) Alembic migrations without an alembic.ini, for a database URL and the
key ring its personal data is encrypted with; operators run `python -m app.cli.migrate`.
Upgrading is idempotent: a database already at head is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from integrations.db.crypto import KeyRing
from integrations.db.engine import sync_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str, keyring: KeyRing | None = None) -> Config:
    """An Alembic configuration built in code, pointed at `database_url`. `keyring` is for
    the revisions that convert stored rows (0003 encrypts them); an empty database needs
    none."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as attributes, not main options: ConfigParser would choke on a "%" in an
    # URL-encoded password, and a key ring is no string.
    config.attributes["database_url"] = database_url
    config.attributes["keyring"] = keyring
    return config


def upgrade(database_url: str, keyring: KeyRing | None = None) -> None:
    """Bring the database at `database_url` to the latest revision."""
    _ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url, keyring), "head")


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
