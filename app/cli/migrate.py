"""Apply (or write) the database migrations.

    python -m app.cli.migrate                      # upgrade DATABASE_URL to head
    python -m app.cli.migrate revision "add foo"   # autogenerate a new revision

DATABASE_URL defaults to the settings' default (a SQLite file under var/); rows written
before their columns were encrypted are encrypted with the settings' keys (README, Privacy).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from app.bootstrap import keyring
from app.settings import load_settings
from integrations.db.migrate import revision, upgrade


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.cli.migrate")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("upgrade", help="upgrade to the latest revision (the default)")
    new = commands.add_parser("revision", help="autogenerate a new revision")
    new.add_argument("message")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    if args.command == "revision":
        revision(settings.database_url, args.message)
    else:
        upgrade(settings.database_url, keyring(settings))


if __name__ == "__main__":
    main()
