"""Personal data at rest: ciphertexts in every product table (SQLite and PostgreSQL), lookups
through keyed hashes, key rotation, and settings that refuse missing keys in production."""

from __future__ import annotations

import base64
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic import command
from pydantic import SecretStr, ValidationError
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bootstrap import keyring
from app.settings import Environment, Settings
from bot.model.billing import SavedAccount, Utility
from bot.model.residents import Channel, Conversation, Language, Resident
from integrations.db.crypto import (
    EncryptedText,
    KeyRing,
    UndecryptableValue,
    attach_keyring,
    keyring_of,
)
from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, upgrade
from integrations.db.rotate_keys import rotate
from integrations.db.tables import metadata
from integrations.db.unit_of_work import SqlUnitOfWorkFactory

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SSO_ID, MOBILE, NUMBER, NAME = "sunita.devi", "+919414100002", "410389012345", "Sunita Devi"


def ring(*key_ids: str, hash_key: bytes = b"h" * 32) -> KeyRing:
    return KeyRing(key_ids[0], {k: k.encode().ljust(32, b"\0") for k in key_ids}, hash_key)


def test_a_value_round_trips_and_two_encryptions_differ() -> None:
    keys = ring("k1")
    first, second = keys.encrypt(NUMBER), keys.encrypt(NUMBER)
    assert first != second and NUMBER not in first
    assert keys.decrypt(first) == keys.decrypt(second) == NUMBER


def test_older_keys_still_decrypt_and_unknown_or_tampered_ones_are_refused() -> None:
    old = ring("k1").encrypt(MOBILE)
    assert ring("k2", "k1").decrypt(old) == MOBILE
    with pytest.raises(UndecryptableValue):
        ring("k2").decrypt(old)
    key_id, payload = old.split(":")
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    with pytest.raises(UndecryptableValue):
        ring("k1").decrypt(f"{key_id}:{base64.b64encode(bytes(raw)).decode()}")


def test_blind_indexes_are_keyed_and_separate_kinds() -> None:
    keys = ring("k1")
    assert keys.blind_index("sso_id", SSO_ID) == ring("k2").blind_index("sso_id", SSO_ID)
    assert keys.blind_index("sso_id", SSO_ID) != ring("k1", hash_key=b"x" * 32).blind_index(
        "sso_id", SSO_ID
    )
    assert keys.blind_index("address", NUMBER) != keys.blind_index("consumer_number", NUMBER)


def test_production_refuses_missing_keys_and_development_derives_them() -> None:
    production = {
        "environment": Environment.PRODUCTION,
        "rasa_api_token": SecretStr("t" * 20),
        "app_secret_key": SecretStr("a" * 32),
        "razorpay_webhook_secret": SecretStr("w" * 20),
        "sso_backend": "http",
        "biller_backend": "bbps",
        "sms_backend": "twilio",
        "email_backend": "smtp",
        "payment_gateway": "razorpay",
        "power_desk_backend": "http",
    }
    with pytest.raises(ValidationError, match="DATA_ENCRYPTION_KEYS"):
        Settings(**production)
    key = base64.b64encode(os.urandom(32)).decode()
    settings = Settings(
        **production,
        data_encryption_keys=SecretStr(f"2026b:{key},2026a:{key}"),
        data_hash_key=SecretStr(key),
    )
    keys = keyring(settings)
    assert keys.current_key_id == "2026b" and set(keys.keys) == {"2026a", "2026b"}
    development = keyring(Settings(app_secret_key=SecretStr("one")))
    assert (
        development.decrypt(keyring(Settings(app_secret_key=SecretStr("one"))).encrypt("x")) == "x"
    )


async def _fill(uow: SqlUnitOfWorkFactory) -> None:
    async with uow() as tx:
        await tx.residents.add(Resident("r1", SSO_ID, NAME, MOBILE, Language.HI, NOW))
        await tx.conversations.add(Conversation("c1", Channel.SMS, MOBILE, "r1", Language.HI, NOW))
        await tx.accounts.add(
            SavedAccount("a1", "r1", Utility.ELECTRICITY, "JDVVNL0000RAJ01", NUMBER)
        )
        await tx.challenges.record_send(SSO_ID, NOW, "conv-1")
        await tx.commit()


async def _raw_values(engine: AsyncEngine) -> list[str]:
    """Every stored value of every product table, as the database holds it."""
    values: list[str] = []
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [
                type_coerce(c, Text) if isinstance(c.type, EncryptedText) else c
                for c in table.columns
            ]
            for row in (await connection.execute(select(*columns))).all():
                values.extend(str(value) for value in row)
    return values


@pytest.mark.asyncio
async def test_rows_hold_ciphertexts_and_lookups_go_through_hashes(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    await _fill(uow)
    raw = " ".join(await _raw_values(engine))
    for plaintext in (SSO_ID, MOBILE, NUMBER, NAME, MOBILE[3:]):
        assert plaintext not in raw
    async with uow() as tx:
        resident = await tx.residents.by_sso_id(SSO_ID)
        conversation = await tx.conversations.find(Channel.SMS, MOBILE)
        account = await tx.accounts.find("r1", "JDVVNL0000RAJ01", NUMBER)
        sends = await tx.challenges.sends_since(SSO_ID, NOW)
    assert resident is not None and (resident.mobile, resident.name) == (MOBILE, NAME)
    assert conversation is not None and conversation.conversation_id == "c1"
    assert account is not None and account.consumer_number == NUMBER
    assert sends == 1


@pytest.mark.asyncio
async def test_rotation_re_encrypts_every_row_under_the_new_key(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory
) -> None:
    attach_keyring(engine.sync_engine.dialect, ring("k1"))
    await _fill(uow)
    attach_keyring(engine.sync_engine.dialect, ring("k2", "k1"))

    report = await rotate(engine)

    assert report.rows_rewritten == 3  # the resident, the conversation, the account
    assert (await rotate(engine)).rows_rewritten == 0
    attach_keyring(engine.sync_engine.dialect, ring("k2"))  # the old key is gone
    async with uow() as tx:
        resident = await tx.residents.by_sso_id(SSO_ID)
        [account] = await tx.accounts.list_for("r1")
    assert resident is not None and resident.mobile == MOBILE
    assert account.consumer_number == NUMBER
    assert keyring_of(engine.sync_engine.dialect).current_key_id == "k2"


@pytest.mark.asyncio
async def test_the_migration_encrypts_rows_written_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "0002")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO residents VALUES ('r1', ?, ?, ?, 'hi', '2026-11-01 10:00:00')",
            (SSO_ID, NAME, MOBILE),
        )
        connection.execute(
            "INSERT INTO conversations VALUES ('c1', 'sms', ?, 'r1', 'hi', '2026-11-01 10:00:00')",
            (MOBILE,),
        )
        connection.execute(
            "INSERT INTO saved_accounts VALUES ('a1', 'r1', 'electricity', 'JDVVNL0000RAJ01', ?)",
            (NUMBER,),
        )
        connection.execute(
            "INSERT INTO otp_sends (sso_id, sent_at) VALUES (?, '2026-11-24 10:30:00.000000')",
            (SSO_ID,),
        )

    keys = ring("k1")
    upgrade(url, keys)

    with sqlite3.connect(path) as connection:
        dump = "\n".join(connection.iterdump())
    for plaintext in (SSO_ID, NAME, MOBILE, NUMBER):
        assert plaintext not in dump
    engine = make_engine(url, keys)
    try:
        uow = SqlUnitOfWorkFactory(engine)
        async with uow() as tx:
            resident = await tx.residents.by_sso_id(SSO_ID)
            conversation = await tx.conversations.find(Channel.SMS, MOBILE)
            account = await tx.accounts.find("r1", "JDVVNL0000RAJ01", NUMBER)
            sends = await tx.challenges.sends_since(SSO_ID, NOW)
    finally:
        await engine.dispose()
    assert resident is not None and resident.name == NAME
    assert conversation is not None and account is not None and sends == 1

    command.downgrade(alembic_config(url, keys), "0002")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT sso_id, mobile FROM residents").fetchall() == [
            (SSO_ID, MOBILE)
        ]
