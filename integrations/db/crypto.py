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

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_NONCE_BYTES = 12
_KEYRING_ATTRIBUTE = "bot_keyring"


class UndecryptableValue(Exception):
    """A ciphertext under an unknown key id, or one that fails authentication."""


@dataclass(frozen=True)
class KeyRing:
    """Encryption keys by id (the current one encrypts, all of them decrypt) and the HMAC
    key of the blind indexes."""

    current_key_id: str
    keys: Mapping[str, bytes]
    hash_key: bytes

    def __post_init__(self) -> None:
        if self.current_key_id not in self.keys:
            raise ValueError(f"current key {self.current_key_id!r} is not in the key ring")
        for key_id, key in self.keys.items():
            # "{" first would read as a plain JSON tracker event (rasa/event_crypto.py).
            if ":" in key_id or not key_id or key_id.startswith("{"):
                raise ValueError(f"key id {key_id!r}: non-empty, without ':', not '{{' first")
            if len(key) != 32:
                raise ValueError(f"key {key_id!r} must be 32 bytes (AES-256)")
        if len(self.hash_key) < 32:
            raise ValueError("the hash key must be at least 32 bytes")

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_key_id]).encrypt(
            nonce, plaintext.encode(), self.current_key_id.encode()
        )
        return f"{self.current_key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        key_id, _, payload = token.partition(":")
        key = self.keys.get(key_id)
        if key is None or not payload:
            raise UndecryptableValue(f"no key {key_id!r} in the key ring")
        raw = base64.b64decode(payload)
        try:
            plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], key_id.encode())
        except InvalidTag as exc:
            raise UndecryptableValue(
                f"ciphertext under key {key_id!r} failed authentication"
            ) from exc
        return plain.decode()

    def key_id_of(self, token: str) -> str:
        return token.partition(":")[0]

    def blind_index(self, label: str, value: str) -> str:
        """Deterministic, keyed: equal values of one kind give equal hashes; without the key
        a guessed phone number cannot be checked against it."""
        message = label.encode() + b"\x00" + value.encode()
        return hmac.new(self.hash_key, message, hashlib.sha256).hexdigest()


def parse_keys(spec: str) -> tuple[str, dict[str, bytes]]:
    """ "k2:<base64 32 bytes>,k1:<base64>" -> ("k2", {...}); the first key is current."""
    keys: dict[str, bytes] = {}
    current = ""
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep:
            raise ValueError("DATA_ENCRYPTION_KEYS: each key is <id>:<base64 of 32 bytes>")
        keys[key_id] = base64.b64decode(encoded)
        current = current or key_id
    if not keys:
        raise ValueError("DATA_ENCRYPTION_KEYS holds no key")
    return current, keys


def derived_keyring(secret: str) -> KeyRing:
    """Development keys derived (HKDF-SHA256) from APP_SECRET_KEY.

    Derived rather than generated into var/: the gateway, the action server, migrations and
    the seed script all start on their own and must agree without racing to create a file.
    Production refuses this (settings demand explicit keys)."""

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
            secret.encode()
        )

    return KeyRing("dev", {"dev": derive(b"data-encryption")}, derive(b"blind-index"))


def keyring_from_keys(encryption_keys: str, hash_key: str, app_secret: str) -> KeyRing:
    """The key ring of DATA_ENCRYPTION_KEYS and DATA_HASH_KEY (base64) when both are given,
    else the development keys derived from APP_SECRET_KEY. The shell reads the settings and
    passes their values (app/bootstrap.py, `keyring`)."""
    if not encryption_keys or not hash_key:
        return derived_keyring(app_secret)
    current, keys = parse_keys(encryption_keys)
    return KeyRing(current, keys, base64.b64decode(hash_key))


def keyring_from_settings(settings: Any) -> KeyRing:
    """`keyring_from_keys` with the values of anything holding the three secrets as
    SecretStr (the settings). Kept for Rasa's tracker store, which builds its own key ring
    inside the Rasa server (integrations/rasa/tracker_store.py)."""
    return keyring_from_keys(
        settings.data_encryption_keys.get_secret_value(),
        settings.data_hash_key.get_secret_value(),
        settings.app_secret_key.get_secret_value(),
    )


def attach_keyring(dialect: Dialect, keyring: KeyRing) -> None:
    setattr(dialect, _KEYRING_ATTRIBUTE, keyring)


def keyring_of(dialect: Dialect) -> KeyRing:
    keyring = getattr(dialect, _KEYRING_ATTRIBUTE, None)
    if not isinstance(keyring, KeyRing):
        # Never a default: personal data written under keys nobody chose would be lost.
        raise LookupError("this engine has no key ring: build it with make_engine(url, keyring)")
    return keyring


class EncryptedText(TypeDecorator):  # type: ignore[misc]  # SQLAlchemy 1.4 is untyped
    """A string stored encrypted. Never compare it in SQL: use its BlindIndex column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring_of(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring_of(dialect).decrypt(value)


class BlindIndex(TypeDecorator):  # type: ignore[misc]
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


def without_hashes(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row without its blind index columns, ready for a dataclass."""
    return {
        name: value
        for name, value in row.items()
        if not (name.endswith("_hash") and name.removesuffix("_hash") in row)
    }
