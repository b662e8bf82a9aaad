"""Rasa's tracker events encrypted at rest, under the key ring of the app's personal data.

Rasa 3.6's SQLTrackerStore keeps each event as JSON in the `data` column of its `events`
table: user texts, slot values (SSO IDs, consumer numbers, bills with payment links), the
bot's answers. Here `data` holds the event's JSON sealed with AES-256-GCM
(integrations/keyring.py: "<key id>:<base64>"), so a dump of Rasa's database shows no
personal data. The other columns stay readable (sender id: an opaque conversation id; type,
intent and action names, timestamp), since Rasa queries them.

Both runtimes load this module (README, "Runtimes"): the tracker store inside the Rasa server
seals and unseals (integrations/rasa/engine/tracker_store.py), `make rotate-keys` in the app
re-seals; SQLAlchemy Core as written here reads the same on 1.4 and 2.0.

Migration path: rows written before this (plain JSON, always starting with "{", which no
sealed value does) are still read, and `rotate_events` (run by `make rotate-keys`)
re-encrypts them and every row under an older key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import column, select, table, update

from integrations.keyring import KeyRing

if TYPE_CHECKING:  # the Rasa server (SQLAlchemy 1.4, no async driver) only seals and unseals
    from sqlalchemy.ext.asyncio import AsyncEngine

# Rasa 3.6 SQLTrackerStore: table "events", one row per event.
events = table("events", column("id"), column("data"))
BATCH = 500


def seal(keyring: KeyRing, event: dict[str, Any]) -> str:
    """The `data` column of one event."""
    return keyring.encrypt(json.dumps(event))


def is_sealed(stored: str) -> bool:
    return not stored.lstrip().startswith("{")


def unseal(keyring: KeyRing, stored: str) -> dict[str, Any]:
    """The event a `data` column holds, sealed or (written before encryption) plain JSON.
    Raises UndecryptableValue for a ciphertext under a key no longer in the ring."""
    plain = keyring.decrypt(stored) if is_sealed(stored) else stored
    event: dict[str, Any] = json.loads(plain)
    return event


@dataclass
class EventRotation:
    rows_seen: int = 0
    rows_rewritten: int = 0


async def rotate_events(engine: AsyncEngine, keyring: KeyRing) -> EventRotation:
    """Seal under the current key every event that is plain JSON or under an older key.
    Batches of one transaction each; idempotent."""
    report = EventRotation()
    last_id = 0
    while True:
        async with engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(events.c.id, events.c.data)
                    .where(events.c.id > last_id)
                    .order_by(events.c.id)
                    .limit(BATCH)
                )
            ).all()
            if not rows:
                return report
            for row_id, data in rows:
                report.rows_seen += 1
                if data is None or (
                    is_sealed(data) and keyring.key_id_of(data) == keyring.current_key_id
                ):
                    continue
                await connection.execute(
                    update(events)
                    .where(events.c.id == row_id)
                    .values(data=seal(keyring, unseal(keyring, data)))
                )
                report.rows_rewritten += 1
            last_id = rows[-1][0]
