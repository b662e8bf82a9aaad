"""Re-encrypt personal data under the current key and recompute the lookup hashes; operators
run `python -m app.cli.rotate_keys` (DATABASE_URL, DATA_ENCRYPTION_KEYS, DATA_HASH_KEY).

With RASA_TRACKER_STORE_URL set, Rasa's tracker events are re-encrypted too (and events
written in plain JSON before they were encrypted get encrypted: integrations/rasa/event_crypto.py).

Rotation: put the new key first in DATA_ENCRYPTION_KEYS and keep the old ones after it,
restart the processes (they now encrypt under the new key and still read the old), run this
command, then drop the old keys. Rows are rewritten in batches of one transaction each, so
it can run while the stack serves; it is idempotent (a second run rewrites nothing).
A new DATA_HASH_KEY cannot be rolled in this way: lookups would miss rows not yet rehashed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Table, Text, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.db.crypto import BlindIndex, EncryptedText, KeyRing, keyring_of
from integrations.db.tables import metadata

if TYPE_CHECKING:
    from integrations.rasa.event_crypto import EventRotation

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class RotationReport:
    rows_seen: int = 0
    rows_rewritten: int = 0


def _encrypted_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, EncryptedText)]


async def rotate(engine: AsyncEngine) -> RotationReport:
    """Rewrite every row holding a ciphertext under an older key."""
    keyring: KeyRing = keyring_of(engine.sync_engine.dialect)
    report = RotationReport()
    for table in metadata.sorted_tables:
        columns = _encrypted_columns(table)
        if not columns:
            continue
        key = list(table.primary_key.columns)
        raw = [type_coerce(table.c[name], Text).label(name) for name in columns]
        async with engine.connect() as connection:
            rows = (await connection.execute(select(*key, *raw))).mappings().all()
        stale = [
            row
            for row in rows
            if any(
                row[name] is not None and keyring.key_id_of(row[name]) != keyring.current_key_id
                for name in columns
            )
        ]
        report.rows_seen += len(rows)
        for start in range(0, len(stale), BATCH):
            async with engine.begin() as connection:
                for row in stale[start : start + BATCH]:
                    values = {
                        name: None if row[name] is None else keyring.decrypt(row[name])
                        for name in columns
                    }
                    # Hashes recomputed too, from the same plaintext: a no-op unless the
                    # hash key changed (see the module docstring).
                    for column in table.columns:
                        if isinstance(column.type, BlindIndex):
                            source = column.name.removesuffix("_hash")
                            if source in values:
                                values[column.name] = values[source]
                    condition = [table.c[c.name] == row[c.name] for c in key]
                    await connection.execute(update(table).where(*condition).values(values))
                    report.rows_rewritten += 1
    return report


async def rotate_tracker_store(url: str, keyring: KeyRing) -> EventRotation:
    """Rasa's tracker events under the current key (integrations/rasa/event_crypto.py)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from integrations.db.engine import async_url
    from integrations.rasa.event_crypto import rotate_events

    engine = create_async_engine(async_url(url))
    try:
        return await rotate_events(engine, keyring)
    finally:
        await engine.dispose()
