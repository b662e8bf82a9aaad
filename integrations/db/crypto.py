"""Personal data encrypted at rest, with keyed hashes (blind indexes) for lookups.

Phone numbers, Telegram chat ids, SSO IDs, consumer numbers, names and free text typed by
residents are stored as AES-256-GCM ciphertexts ("<key id>:<base64 nonce|ciphertext|tag>").
A random nonce makes two encryptions of one value differ, so nothing can be looked up or
kept unique by ciphertext: each such column has a companion `<column>_hash` holding
HMAC-SHA256(hash key, label NUL value), which the unique constraints and WHERE clauses use.

The core never sees any of this: `EncryptedText` and `BlindIndex` are SQLAlchemy types
that encrypt/hash on the way in and decrypt on the way out. They find their keys on the
engine's dialect (`attach_keyring`), so each engine carries its own key ring and nothing
is global. Rotation: put a new key first in DATA_ENCRYPTION_KEYS, keep the old ones after
it (they still decrypt), then run `python -m app.cli.rotate_keys` to re-encrypt
every row under the new key; the old key can be dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# The key ring itself lives apart, free of SQLAlchemy: the Rasa server uses it too.
from integrations.keyring import KeyRing as KeyRing
from integrations.keyring import UndecryptableValue as UndecryptableValue
from integrations.keyring import derived_keyring as derived_keyring
from integrations.keyring import keyring_from_values as keyring_from_values
from integrations.keyring import parse_keys as parse_keys

_KEYRING_ATTRIBUTE = "bot_keyring"


def attach_keyring(dialect: Dialect, keyring: KeyRing) -> None:
    setattr(dialect, _KEYRING_ATTRIBUTE, keyring)


def keyring_of(dialect: Dialect) -> KeyRing:
    keyring = getattr(dialect, _KEYRING_ATTRIBUTE, None)
    if not isinstance(keyring, KeyRing):
        # Never a default: personal data written under keys nobody chose would be lost.
        raise LookupError("this engine has no key ring: build it with make_engine(url, keyring)")
    return keyring


# Subscripted: typed under SQLAlchemy 2, and 1.4 (the Rasa server) accepts the subscript too.
class EncryptedText(TypeDecorator[str]):
    """A string stored encrypted. Never compare it in SQL: use its BlindIndex column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring_of(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring_of(dialect).decrypt(value)


class BlindIndex(TypeDecorator[str]):
    """HMAC-SHA256 of the plaintext bound to it: `table.c.sso_id_hash == "ramesh.kumar"`
    compares hashes. Bind plaintext only (binding a hash would hash it again)."""

    impl = String(64)
    cache_ok = True

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring_of(dialect).blind_index(self.label, value)


def hashed_values(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """`values` plus the blind index of every encrypted column in it that has one."""
    result = dict(values)
    for name, value in values.items():
        if f"{name}_hash" in table.c:
            result[f"{name}_hash"] = value
    return result


def without_hashes(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row without its blind index columns, ready for a dataclass."""
    return {
        name: value
        for name, value in row.items()
        if not (name.endswith("_hash") and name.removesuffix("_hash") in row)
    }
