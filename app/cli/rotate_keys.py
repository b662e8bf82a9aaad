"""`python -m app.cli.rotate_keys`: re-encrypt personal data under the first key of
DATA_ENCRYPTION_KEYS (integrations/db/rotate_keys.py says how to roll a key in), and Rasa's
tracker events too when RASA_TRACKER_STORE_URL is set."""

from __future__ import annotations

import asyncio
import logging

from app.bootstrap import database_engine, keyring
from app.settings import load_settings
from integrations.db.rotate_keys import RotationReport, rotate, rotate_tracker_store

log = logging.getLogger(__name__)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    keys = keyring(settings)

    async def run() -> RotationReport:
        engine = database_engine(settings)
        try:
            return await rotate(engine)
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    log.info(
        "rows with personal data: %d, re-encrypted: %d", report.rows_seen, report.rows_rewritten
    )
    tracker_store_url = settings.rasa_tracker_store_url.get_secret_value()
    if tracker_store_url:
        events = asyncio.run(rotate_tracker_store(tracker_store_url, keys))
        log.info(
            "Rasa tracker events: %d, re-encrypted: %d", events.rows_seen, events.rows_rewritten
        )


if __name__ == "__main__":
    main()
