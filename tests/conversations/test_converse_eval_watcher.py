"""When is a WhatsApp/SMS/Telegram turn finished? The converse-eval runner asks the stack's own
database (the real schema, migrated), not a clock."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from integrations.db.crypto import derived_keyring
from integrations.db.migrate import upgrade
from scripts.converse_eval.watcher import TurnNotFinished, TurnWatcher

SECRET = "watcher-test-secret"
MOBILE, OTHER = "+916900000001", "+916900000002"
NOW = "2026-12-06 07:00:00.000000"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "bot.db"
    upgrade(f"sqlite:///{path}")
    keyring = derived_keyring(SECRET)
    with sqlite3.connect(path) as db:
        for cid, address in (("c1", MOBILE), ("c2", OTHER)):
            db.execute(
                "INSERT INTO conversations (conversation_id, channel, address, address_hash,"
                " created_at) VALUES (?, 'whatsapp', 'encrypted', ?, ?)",
                (cid, keyring.blind_index("address", address), NOW),
            )
    return path


def inbox(db: sqlite3.Connection, address: str, processed: bool, external_id: str = "SM1") -> None:
    db.execute(
        "INSERT INTO inbox (channel, external_id, address, address_hash, kind, text,"
        " received_at, attempts, processed_at) VALUES ('whatsapp', ?, 'enc', ?, 'text', 'enc',"
        " ?, 0, ?)",
        (
            external_id,
            derived_keyring(SECRET).blind_index("address", address),
            NOW,
            NOW if processed else None,
        ),
    )


def outbox(db: sqlite3.Connection, cid: str, state: str | None) -> int:
    cursor = db.execute(
        "INSERT INTO outbox (conversation_id, message, created_at) VALUES (?, 'enc', ?)",
        (cid, NOW),
    )
    sequence = int(cursor.lastrowid or 0)
    if state is not None:
        db.execute(
            "INSERT INTO outbox_deliveries (sequence, kind, state, attempts, updated_at)"
            " VALUES (?, 'reply', ?, 1, ?)",
            (sequence, state, NOW),
        )
    return sequence


class QuickWatcher(TurnWatcher):
    ERASED_GRACE_S = 0.3


def finished(database: Path, after_sequence: int = 0, timeout_s: float = 0.2) -> bool:
    try:
        QuickWatcher(database, SECRET, timeout_s).wait("whatsapp", "SM1", MOBILE, after_sequence)
    except TurnNotFinished:
        return False
    return True


def test_a_turn_is_finished_once_answered_and_every_reply_sent(database: Path) -> None:
    with sqlite3.connect(database) as db:
        inbox(db, MOBILE, processed=False)
    assert not finished(database)  # the message waits in the inbox
    with sqlite3.connect(database) as db:
        db.execute("UPDATE inbox SET processed_at = ?", (NOW,))
        first = outbox(db, "c1", None)
    assert not finished(database)  # a reply not yet claimed by the delivery loop
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO outbox_deliveries (sequence, kind, state, attempts, updated_at)"
            " VALUES (?, 'reply', 'sending', 1, ?)",
            (first, NOW),
        )
    assert not finished(database)  # being sent
    with sqlite3.connect(database) as db:
        db.execute("UPDATE outbox_deliveries SET state = 'sent'")
        outbox(db, "c1", "pending")  # a second reply, waiting out a retry
    assert not finished(database)
    with sqlite3.connect(database) as db:
        db.execute("UPDATE outbox_deliveries SET state = 'failed' WHERE state = 'pending'")
    assert finished(database)  # sent or given up on: nothing more will come


def test_other_conversations_do_not_hold_a_turn_up(database: Path) -> None:
    with sqlite3.connect(database) as db:
        inbox(db, MOBILE, processed=True)
        outbox(db, "c1", "sent")
        inbox(db, OTHER, processed=False, external_id="SM2")
        outbox(db, "c2", "pending")
    assert finished(database)


def test_an_erased_message_is_finished_by_a_newer_reply_or_after_a_grace(database: Path) -> None:
    # "Delete my data" erases the inbox entry being answered: no entry to see processed.
    watcher = TurnWatcher(database, SECRET)
    before = watcher.last_sequence()
    assert not finished(database, before, timeout_s=0.1)  # within the grace: still waiting
    assert finished(database, before, timeout_s=2)  # no reply at all: done after the grace
    with sqlite3.connect(database) as db:
        outbox(db, "c1", None)  # the confirmation, queued after the erasure
    assert not finished(database, before, timeout_s=0.1)
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO outbox_deliveries (sequence, kind, state, attempts, updated_at)"
            " SELECT sequence, 'reply', 'sent', 1, created_at FROM outbox"
        )
    started = time.monotonic()
    assert finished(database, before, timeout_s=2)
    assert time.monotonic() - started < QuickWatcher.ERASED_GRACE_S  # at once, no grace
