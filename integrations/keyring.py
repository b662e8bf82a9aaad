"""The key ring of personal data at rest: AES-256-GCM keys by id and the HMAC key of the
blind indexes, from DATA_ENCRYPTION_KEYS and DATA_HASH_KEY or derived from APP_SECRET_KEY.

Both runtimes use it (README, "Runtimes"): the app's database columns
(integrations/db/crypto.py) and Rasa's tracker events (integrations/rasa/event_crypto.py,
sealed by the tracker store inside the Rasa server). So it needs nothing but `cryptography`,
and `keyring_from_values` is the one rule that turns those three settings into keys: the
gateway, the action server and the Rasa server must derive exactly the same ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


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


def keyring_from_values(encryption_keys: str, hash_key: str, app_secret: str) -> KeyRing:
    """The key ring of DATA_ENCRYPTION_KEYS and DATA_HASH_KEY (base64) when both are set,
    else the development keys derived from APP_SECRET_KEY."""
    if not encryption_keys or not hash_key:
        return derived_keyring(app_secret)
    current, keys = parse_keys(encryption_keys)
    return KeyRing(current, keys, base64.b64decode(hash_key))
