"""When is a WhatsApp, SMS or Telegram turn finished? The stack's own database says.

Channel turns run in the gateway's inbox and delivery loops, after the webhook has answered.
Rather than sleeping and hoping, the runner reads the stack's SQLite database (read-only):
the resident's inbox entry processed and every outbox message of that conversation sent or
given up on means the provider has received all the bot will say to this message.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from integrations.db.crypto import derived_keyring

TURN_TIMEOUT_S = 90.0


class TurnNotFinished(RuntimeError):
    pass


class TurnWatcher:
    """Reads the stack's SQLite database (read-only) to tell when a channel turn is done.

    Done means: the resident's message (its inbox entry, by the provider's id) is processed,
    nothing else from that address waits in the inbox, and every outbox message of that
    conversation is sent or given up on. One exception: erasing a resident's data ("delete
    my data") deletes the inbox entry being answered; then the turn is done once a reply newer
    than the message has been sent, or after ERASED_GRACE_S without one."""

    ERASED_GRACE_S = 10.0

    def __init__(self, database: Path, app_secret: str, timeout_s: float = TURN_TIMEOUT_S) -> None:
        self._database = database
        self._keyring = derived_keyring(app_secret)
        self._timeout_s = timeout_s

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        uri = f"file:{self._database}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=10) as connection:
            return list(connection.execute(sql, params))

    def last_sequence(self) -> int:
        """The newest outbox message now: call before sending a message."""
        return int(self._query("SELECT coalesce(max(sequence), 0) FROM outbox")[0][0])

    def wait(self, channel: str, external_id: str, address: str, after_sequence: int) -> None:
        address_hash = self._keyring.blind_index("address", address)
        started = time.monotonic()
        while time.monotonic() < started + self._timeout_s:
            entry = self._query(
                "SELECT processed_at IS NOT NULL FROM inbox WHERE channel = ? AND external_id = ?",
                channel,
                external_id,
            )
            if self._settled(channel, address_hash):
                if entry and entry[0][0]:
                    return
                erased = not entry  # recorded before the webhook answered: gone means erased
                if erased and (
                    self._replied(channel, address_hash, after_sequence)
                    or time.monotonic() - started > self.ERASED_GRACE_S
                ):
                    return
            time.sleep(0.05)
        raise TurnNotFinished(f"no answer within {self._timeout_s:.0f} s")

    def _settled(self, channel: str, address_hash: str) -> bool:
        """Nothing from this address waits in the inbox, nothing to it in the outbox."""
        unprocessed = self._query(
            "SELECT count(*) FROM inbox WHERE channel = ? AND address_hash = ?"
            " AND processed_at IS NULL",
            channel,
            address_hash,
        )
        if unprocessed[0][0]:
            return False
        unsent = self._query(
            "SELECT count(*) FROM outbox o JOIN conversations c"
            " ON c.conversation_id = o.conversation_id"
            " LEFT JOIN outbox_deliveries d ON d.sequence = o.sequence"
            " WHERE c.channel = ? AND c.address_hash = ?"
            " AND (d.sequence IS NULL OR d.state IN ('pending', 'sending'))",
            channel,
            address_hash,
        )
        return not unsent[0][0]

    def _replied(self, channel: str, address_hash: str, after_sequence: int) -> bool:
        newer = self._query(
            "SELECT count(*) FROM outbox o JOIN conversations c"
            " ON c.conversation_id = o.conversation_id"
            " WHERE c.channel = ? AND c.address_hash = ? AND o.sequence > ?",
            channel,
            address_hash,
            after_sequence,
        )
        return bool(newer[0][0])
