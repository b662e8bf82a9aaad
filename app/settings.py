"""All settings, read once from the environment (and an optional `.env`) and passed down.

Every variable is listed in README.md and `.env.example`.
"""

from __future__ import annotations

import logging
import os
from datetime import time
from enum import Enum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.model.reminders import QuietHours
from integrations.rasa.internal_auth import internal_token

ROOT = Path(__file__).resolve().parent.parent

# Development defaults: fine for `make run` on a laptop, refused in production.
_PLACEHOLDER = "change-me-in-production"
# Values people paste from examples; refused in production like the placeholder itself.
_WELL_KNOWN = frozenset({"", _PLACEHOLDER, "changeme", "change-me", "secret", "password", "test"})
# Every key of ours derives from it (HMACs, development data keys): HMAC-SHA256 wants 32 bytes.
MIN_APP_SECRET_CHARS = 32
# Set once the placeholder warning has been logged, so the processes a supervisor starts
# (they inherit the environment) do not repeat it.
PLACEHOLDER_WARNED_ENV = "BOT_PLACEHOLDER_WARNING_SHOWN"
_SECRETS = ("rasa_api_token", "app_secret_key", "razorpay_webhook_secret")


class Environment(str, Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    # Names in `.env` that are not settings (RASA_TELEMETRY_ENABLED, BENCH_…) are ignored,
    # as they always were; the environment wins over `.env`, case does not matter.
    # Errors name the setting but never echo its value (secrets).
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"

    # processes and addresses (CONTRACTS.md)
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_port: int = 5005
    rasa_api_token: SecretStr = SecretStr(_PLACEHOLDER)
    # The shared secret of the private hops (gateway → Rasa's channel, Rasa → action server;
    # integrations/rasa/internal_auth.py). Empty: derived from APP_SECRET_KEY; `make run`
    # with the placeholder APP_SECRET_KEY makes a random one per run (app/stack.py).
    internal_token: SecretStr = SecretStr("")
    action_server_port: int = 5055
    public_base_url: str = ""  # defaults to http://GATEWAY_HOST:GATEWAY_PORT

    # storage
    database_url: str = f"sqlite:///{ROOT / 'var' / 'bot.db'}"
    redis_url: str | None = None

    # keys for our own HMACs (OTP hashes, receipt links)
    app_secret_key: SecretStr = SecretStr(_PLACEHOLDER)

    # integrations: "sandbox" (default) or the real HTTP services
    sso_backend: str = "sandbox"  # sandbox | http
    sso_api_base_url: str = ""
    sso_api_key: SecretStr = SecretStr("")
    biller_backend: str = "sandbox"  # sandbox | bbps
    bbps_api_base_url: str = ""
    bbps_api_key: SecretStr = SecretStr("")
    sms_backend: str = "sandbox"  # sandbox | twilio
    # Email receipts and reminders (issue 16): the sandbox outbox, or a real SMTP server.
    email_backend: str = "sandbox"  # sandbox | smtp
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    email_from: str = ""  # e.g. "Rajasthan bill assistant <bills@example.gov.in>"
    payment_gateway: str = "sandbox"  # sandbox | razorpay
    # The electricity companies' outage and supply-complaint system (README, "Power cuts").
    power_desk_backend: str = "sandbox"  # sandbox | http
    power_desk_url: str = ""
    power_desk_api_key: SecretStr = SecretStr("")
    # How long after its last check an open power complaint is asked about again.
    supply_poll_after_s: float = 300.0
    razorpay_key_id: str = ""
    razorpay_key_secret: SecretStr = SecretStr("")
    razorpay_webhook_secret: SecretStr = SecretStr(_PLACEHOLDER)
    razorpay_api_base_url: str = "https://api.razorpay.com"
    integration_timeout_s: float = 8.0

    # channels
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_whatsapp_from: str = ""
    twilio_sms_from: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    # Connection overrides appended to the webhook URLs in Twilio's console (README,
    # "Faults"), e.g. "rc=3&rp=all": signatures made over the URL with them are accepted.
    twilio_webhook_overrides: str = ""
    telegram_bot_token: SecretStr = SecretStr("")
    telegram_webhook_secret: SecretStr = SecretStr("")
    telegram_api_base_url: str = "https://api.telegram.org"
    # WhatsApp templates approved by Meta (Twilio Content SIDs, HX…), used outside the
    # 24-hour window: RECEIPT carries {{1}} text and {{2}} receipt link, NOTICE {{1}} text.
    twilio_template_receipt_en: str = ""
    twilio_template_receipt_hi: str = ""
    twilio_template_notice_en: str = ""
    twilio_template_notice_hi: str = ""
    # TRAI DLT registration of the SMS sender (India): entity id, header, template ids.
    sms_dlt_entity_id: str = ""
    sms_dlt_header: str = ""
    sms_dlt_template_otp_en: str = ""
    sms_dlt_template_otp_hi: str = ""
    sms_dlt_template_reply_en: str = ""
    sms_dlt_template_reply_hi: str = ""
    sms_dlt_template_receipt_en: str = ""
    sms_dlt_template_receipt_hi: str = ""
    sms_dlt_template_push_en: str = ""
    sms_dlt_template_push_hi: str = ""
    channel_send_timeout_s: float = 10.0
    channel_retry_base_s: float = 0.5  # first backoff after a 429/5xx; doubles each time
    channel_poll_interval_s: float = 1.0  # how often the inbox and delivery loops look
    # How long a channel message waits for the dialogue engine (a Rasa restart takes about a
    # minute) before the resident gets an apology instead; measured from its arrival.
    channel_max_wait_s: float = 300.0
    # Human handoff: when agents answer (IST; days Monday=0 … Sunday=6), console sessions.
    office_days: str = "0-5"
    office_opens: str = "09:00"
    office_closes: str = "18:00"
    agent_session_minutes: int = 480

    # personal data at rest (integrations/db/crypto.py): "<id>:<base64 32 bytes>,<older…>",
    # the first key encrypts, all decrypt; HMAC key (base64, >= 32 bytes) of the lookup
    # hashes. Empty: development keys derived from APP_SECRET_KEY (refused in production).
    data_encryption_keys: SecretStr = SecretStr("")
    data_hash_key: SecretStr = SecretStr("")
    # web chat sessions (bot/services/webchat_sessions.py): issued by the server, they end
    # after this long without use, and this long after they began in any case. Client ids:
    # whether a contract caller's own sender id starts a session, and its shortest length
    # (empty: 32 in production, any length in development).
    webchat_session_idle_minutes: int = 120
    webchat_session_max_hours: int = 24
    webchat_accept_client_ids: bool = True
    webchat_client_id_min_chars: int | None = None
    # abuse limits: messages per conversation per minute (0: no limit); OTP limits are fixed
    # in bot/services/linking.py. Counters in Redis when REDIS_URL is set.
    message_rate_per_minute: int = 30
    # A burst far quicker than anyone types (a stuck key, a script): this many in 10 s.
    message_burst_per_10s: int = 8

    # operations (issue 7): several processes, production stores
    # Another seed file for the sandbox (`make bench` seeds its own simulated residents).
    sandbox_seed_path: Path | None = None
    # Where the Rasa and action servers listen (0.0.0.0 inside containers).
    bind_host: str = "127.0.0.1"
    # Comma-separated Rasa base URLs the gateway spreads conversations over (default: the
    # local server on RASA_PORT). Several servers need a shared RASA_TRACKER_STORE_URL.
    rasa_urls: str = ""
    # The action server as Rasa reaches it (default http://127.0.0.1:ACTION_SERVER_PORT).
    action_server_base_url: str = ""
    # Rasa's tracker store, e.g. postgresql://rasa:secret@db:5432/rasa (default: in memory).
    rasa_tracker_store_url: SecretStr = SecretStr("")
    # Rasa servers `python -m app.stack` starts (on RASA_PORT, RASA_PORT+1, …); the gateway
    # keeps each conversation on one of them. Each needs ~1.1 GB; with an in-memory tracker
    # store a conversation's context is lost if its server goes (use RASA_TRACKER_STORE_URL).
    rasa_servers: int = 1
    # The engine runtime's interpreter (README, "Runtimes"): the Rasa servers run on it
    # (Python 3.10, Rasa's pins). Empty: <repository>/.venv-engine/bin/python (`make install`).
    engine_python: str = ""
    # Logs: "text" (one readable line) or "json" (one object per line, for collectors).
    log_format: str = "text"
    # Prometheus metrics of the action server (biller latency) on this port; 0 = off.
    action_server_metrics_port: int = 0

    # reminders: provider rates per sender (Twilio WhatsApp ~80/s, an SMS long code 1/s,
    # Telegram 30/s), how often the jobs run, and how fast bills are re-fetched per biller
    reminder_rate_whatsapp_per_s: float = 80.0
    reminder_rate_sms_per_s: float = 1.0
    reminder_rate_telegram_per_s: float = 30.0
    reminder_dispatch_interval_s: float = 30.0
    reminder_discovery_interval_s: float = 600.0
    reminder_biller_rate_per_s: float = 5.0
    # No reminder or outage notice goes out in this window (IST, "HH:MM-HH:MM", may cross
    # midnight); "off" for none (tests of the running stack, whatever the time of day).
    reminder_quiet_hours: str = "21:00-09:00"

    # --- receipts anyone can check (issue 16; bot/model/receipt_checks.py) ---------------
    # Keys of the code printed on every receipt, comma-separated: the first makes new codes,
    # every one is accepted, so receipts printed before a rotation stay checkable. Empty: one
    # key derived from APP_SECRET_KEY (then rotating APP_SECRET_KEY voids printed codes).
    receipt_check_keys: SecretStr = SecretStr("")
    # Receipt checks one client address may make a minute: enough for a shop checking a
    # queue of customers, too few to try codes or numbers at any useful rate.
    verify_lookups_per_minute: int = Field(default=30, ge=1)

    @property
    def reminder_quiet(self) -> QuietHours:
        if self.reminder_quiet_hours.strip().lower() == "off":
            return QuietHours(time(0), time(0))  # an empty window
        start, _, end = self.reminder_quiet_hours.partition("-")
        return QuietHours(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))

    @model_validator(mode="after")
    def _check_quiet_hours(self) -> Settings:
        try:
            self.reminder_quiet  # noqa: B018 - parsed once here so a typo stops the start
        except ValueError:
            raise ValueError('REMINDER_QUIET_HOURS must be "HH:MM-HH:MM" (IST) or "off"') from None
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            for name in _SECRETS:
                secret: SecretStr = getattr(self, name)
                if secret.get_secret_value().strip().lower() in _WELL_KNOWN:
                    raise ValueError(f"{name.upper()} must be set in production")
            if len(self.app_secret_key.get_secret_value()) < MIN_APP_SECRET_CHARS:
                raise ValueError(
                    f"APP_SECRET_KEY must be at least {MIN_APP_SECRET_CHARS} characters in production"
                )
            for name in ("data_encryption_keys", "data_hash_key"):
                if getattr(self, name).get_secret_value() in ("", _PLACEHOLDER):
                    raise ValueError(f"{name.upper()} must be set in production")
            backends = (
                "sso_backend",
                "biller_backend",
                "sms_backend",
                "payment_gateway",
                "power_desk_backend",
                "email_backend",
            )
            for name in backends:
                if getattr(self, name) == "sandbox":
                    raise ValueError(f"{name.upper()}=sandbox is not allowed in production")
        if not self.public_base_url:
            self.public_base_url = f"http://{self.gateway_host}:{self.gateway_port}"
        return self

    @property
    def internal_token_value(self) -> str:
        return internal_token(
            self.internal_token.get_secret_value(), self.app_secret_key.get_secret_value()
        )

    @property
    def app_secret_is_placeholder(self) -> bool:
        return self.app_secret_key.get_secret_value() in ("", _PLACEHOLDER)

    @property
    def gateway_url(self) -> str:
        """Where our own processes reach the gateway (not necessarily the public address)."""
        return f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def whatsapp_on(self) -> bool:
        return bool(self._twilio_credentials and self.twilio_whatsapp_from)

    @property
    def sms_on(self) -> bool:
        return bool(self._twilio_credentials and self.twilio_sms_from)

    @property
    def telegram_on(self) -> bool:
        # Without the webhook secret nothing could tell Telegram's requests from forgeries.
        return bool(
            self.telegram_bot_token.get_secret_value()
            and self.telegram_webhook_secret.get_secret_value()
        )

    @property
    def _twilio_credentials(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token.get_secret_value())

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa_server_urls(self) -> list[str]:
        urls = [url.strip().rstrip("/") for url in self.rasa_urls.split(",") if url.strip()]
        return urls or [self.rasa_url]

    @property
    def action_server_url(self) -> str:
        if self.action_server_base_url:
            return self.action_server_base_url.rstrip("/")
        return f"http://127.0.0.1:{self.action_server_port}"


def load_settings() -> Settings:
    return Settings()


def placeholder_secrets(settings: Settings) -> list[str]:
    """The secrets left at a development placeholder (production refuses to start with any)."""
    names = [
        name.upper()
        for name in _SECRETS
        if getattr(settings, name).get_secret_value().strip().lower() in _WELL_KNOWN
    ]
    if "APP_SECRET_KEY" in names and not settings.data_encryption_keys.get_secret_value():
        names.append("DATA_ENCRYPTION_KEYS (derived from APP_SECRET_KEY)")
    return names


def warn_about_placeholders(settings: Settings, log: logging.Logger) -> bool:
    """One loud WARNING when development runs on placeholder secrets: anyone can read them
    here, so a database dump decrypts and receipt links can be forged. Once per stack:
    `make run` warns in the supervisor, and its children inherit PLACEHOLDER_WARNED_ENV."""
    names = placeholder_secrets(settings)
    if not names or os.environ.get(PLACEHOLDER_WARNED_ENV):
        return False
    os.environ[PLACEHOLDER_WARNED_ENV] = "1"
    log.warning(
        "\n%s\nDEVELOPMENT MODE WITH PUBLIC PLACEHOLDER SECRETS: %s.\n"
        "Every key derives from values printed in this repository: personal data stored now\n"
        "is readable by anyone with the database, and receipt links can be forged.\n"
        "Fine on a laptop with sandbox data; set real secrets (README, Settings) for anything\n"
        "else. ENVIRONMENT=production refuses to start like this.\n%s",
        "!" * 78,
        ", ".join(names),
        "!" * 78,
    )
    return True
