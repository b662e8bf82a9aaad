"""The Rasa server's settings, read from the process environment alone.

The engine runtime (README, "Runtimes") has neither the app's settings class nor its `.env`
reader, and must not: it runs Rasa's pins (pydantic 1, SQLAlchemy 1.4). So the variables the
Rasa server needs are read here, under the app's names and with the app's defaults
(app/settings.py), and the app's supervisor hands every one of them to the Rasa servers it
starts, resolved from its own settings, `.env` included (app/stack.py, `engine_environment`).
A container gets them from its environment like any other process.

The key ring and the internal token follow the app's rules exactly (integrations/keyring.py;
`Settings.internal_token_value`): the Rasa server must seal tracker events with the keys that
`make rotate-keys` uses, and call the action server with the secret the action server checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from integrations.keyring import KeyRing, keyring_from_values
from integrations.rasa.internal_auth import TOKEN_ENV as INTERNAL_TOKEN_ENV
from integrations.rasa.internal_auth import internal_token

# The app's development placeholder and the values production refuses (app/settings.py).
PLACEHOLDER = "change-me-in-production"
WELL_KNOWN = frozenset({"", PLACEHOLDER, "changeme", "change-me", "secret", "password", "test"})
# Passwords reach Rasa through its `${VAR}` substitution in endpoints.yml, never the file.
TRACKER_STORE_PASSWORD_ENV = "BOT_RASA_TRACKER_STORE_PASSWORD"
LOCK_STORE_PASSWORD_ENV = "BOT_RASA_LOCK_STORE_PASSWORD"
# Every variable this module reads; the supervisor passes exactly these (app/stack.py).
VARIABLES = (
    "ENVIRONMENT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "BIND_HOST",
    "RASA_PORT",
    "RASA_API_TOKEN",
    "INTERNAL_TOKEN",
    "APP_SECRET_KEY",
    "ACTION_SERVER_PORT",
    "ACTION_SERVER_BASE_URL",
    "RASA_TRACKER_STORE_URL",
    "REDIS_URL",
    "DATA_ENCRYPTION_KEYS",
    "DATA_HASH_KEY",
)


class SettingsError(ValueError):
    """A setting the Rasa server cannot start with (said once, then it exits)."""


@dataclass(frozen=True)
class EngineSettings:
    environment: str = "development"
    log_level: str = "INFO"
    log_format: str = "text"
    bind_host: str = "127.0.0.1"
    rasa_port: int = 5005
    rasa_api_token: str = PLACEHOLDER
    internal_token: str = ""
    app_secret_key: str = PLACEHOLDER
    action_server_port: int = 5055
    action_server_base_url: str = ""
    rasa_tracker_store_url: str = ""
    redis_url: str = ""
    data_encryption_keys: str = ""
    data_hash_key: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> EngineSettings:
        """The settings in `environ` (upper-case names, as in README's list); unset or empty
        ones take the app's defaults. Refuses placeholders in production, as the app does."""
        given = {name.lower(): environ[name] for name in VARIABLES if environ.get(name)}
        values: dict[str, Any] = dict(given)
        for name in ("rasa_port", "action_server_port"):
            if name in values:
                try:
                    values[name] = int(values[name])
                except ValueError:
                    raise SettingsError(f"{name.upper()} must be a port number") from None
        settings = cls(**values)
        settings.refuse_placeholders_in_production()
        return settings

    def refuse_placeholders_in_production(self) -> None:
        if self.environment != "production":
            return
        if self.rasa_api_token.strip().lower() in WELL_KNOWN:
            raise SettingsError("RASA_API_TOKEN must be set in production")
        # The internal token derives from APP_SECRET_KEY unless given (the app's minimum length).
        secret = self.app_secret_key.strip()
        if not self.internal_token and (secret.lower() in WELL_KNOWN or len(secret) < 32):
            raise SettingsError(
                "APP_SECRET_KEY (32+ characters) or INTERNAL_TOKEN must be set in production"
            )
        if self.rasa_tracker_store_url and not (self.data_encryption_keys and self.data_hash_key):
            raise SettingsError("DATA_ENCRYPTION_KEYS and DATA_HASH_KEY must be set in production")

    @property
    def internal_token_value(self) -> str:
        """INTERNAL_TOKEN, else derived from APP_SECRET_KEY as the app derives it."""
        return internal_token(self.internal_token, self.app_secret_key)

    @property
    def action_server_url(self) -> str:
        if self.action_server_base_url:
            return self.action_server_base_url.rstrip("/")
        return f"http://127.0.0.1:{self.action_server_port}"

    @property
    def keyring(self) -> KeyRing:
        """The key ring of the app's personal data: the tracker store seals events with it."""
        return keyring_from_values(
            self.data_encryption_keys, self.data_hash_key, self.app_secret_key
        )


def endpoints_config(settings: EngineSettings) -> tuple[dict[str, Any], dict[str, str]]:
    """Rasa's endpoints from the settings, and the secrets they refer to by name.

    RASA_TRACKER_STORE_URL (PostgreSQL) gives Rasa's SQL tracker store (with the trackers
    in use remembered: tracker_store.py), which loads only the current session of a
    conversation; REDIS_URL gives a Redis lock store with the keys of Rasa's `redis` type, on
    redis.asyncio instead of Rasa's blocking ticket lock (lock_store.py; turns are serialised
    before Rasa anyway: rasa.md explains why Rasa's alone is not enough)."""
    config: dict[str, Any] = {
        "action_endpoint": {
            "url": f"{settings.action_server_url}/webhook",
            # The action server refuses calls without it (integrations/rasa/internal_auth.py).
            "headers": {"Authorization": "Bearer ${" + INTERNAL_TOKEN_ENV + "}"},
        },
    }
    secrets: dict[str, str] = {INTERNAL_TOKEN_ENV: settings.internal_token_value}
    if settings.rasa_tracker_store_url:
        url = urlsplit(settings.rasa_tracker_store_url)
        dialect = url.scheme.split("+", 1)[0]
        if dialect not in ("postgresql", "postgres"):
            raise SettingsError("RASA_TRACKER_STORE_URL must be a postgresql:// URL")
        config["tracker_store"] = {
            # Rasa's SQL tracker store, minus reloading every session on every turn.
            "type": "integrations.rasa.engine.tracker_store.CachedSQLTrackerStore",
            "dialect": "postgresql",
            "url": url.hostname or "127.0.0.1",
            "port": url.port or 5432,
            "db": url.path.lstrip("/") or "rasa",
            "username": unquote(url.username or ""),
        }
        if url.password:
            config["tracker_store"]["password"] = "${" + TRACKER_STORE_PASSWORD_ENV + "}"
            secrets[TRACKER_STORE_PASSWORD_ENV] = unquote(url.password)
    if settings.redis_url:
        url = urlsplit(settings.redis_url)
        config["lock_store"] = {
            # Rasa's Redis lock store, minus blocking the event loop and its 7 round trips.
            "type": "integrations.rasa.engine.lock_store.AsyncRedisLockStore",
            "url": url.hostname or "127.0.0.1",
            "port": url.port or 6379,
            "db": int(url.path.lstrip("/") or 0),
            "key_prefix": "rasa",
            "use_ssl": url.scheme == "rediss",
        }
        if url.password:
            config["lock_store"]["password"] = "${" + LOCK_STORE_PASSWORD_ENV + "}"
            secrets[LOCK_STORE_PASSWORD_ENV] = unquote(url.password)
    return config, secrets
