"""Logging for every process: one line per record, identifiers masked, secrets removed.

Access logs print full request paths, and those carry the Rasa API token (httpx logs its
own requests), receipt-link signatures, web chat sender ids and phone numbers. Message
texts are never logged at INFO anywhere in the gateway. The Rasa and action servers' own
libraries quote what a resident typed: `mask_quoted_texts` masks those quotes.

Both runtimes load this module (README, "Runtimes"): plain Python, no framework.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

from bot.model.identifiers import mask
from bot.model.sensitive import screen

# `code`: a receipt's check code (GET /verify), which shows the receipt to whoever has it.
_SECRET_PARAMS = re.compile(r"([?&](?:token|sig|signature|code)=)[^&\s\"']+", re.IGNORECASE)
_ID_PARAMS = re.compile(r"([?&](?:sender|to)=)([^&\s\"']+)", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+|%2B)\d{10,15}\b", re.IGNORECASE)
# Consumer numbers, bare phone numbers and Telegram chat ids: any run of 9+ digits.
_LONG_NUMBER = re.compile(r"(?<![\d.])-?\d{9,}(?![\d.])")
_ADDRESS = re.compile(r"\b((?:whatsapp|tel|sms):)([^\s\"',]+)", re.IGNORECASE)
# Loggers that print our secrets at INFO: httpx logs every request URL with its query.
# At DEBUG aiosqlite (and SQLAlchemy's engine when echoing) print every statement's
# parameters: the sandbox's SMS texts with their codes, anything not encrypted. Sanic's
# access lines (action server, Rasa) have an empty message: their request is in `extra`.
_QUIET = ("httpx", "httpcore", "aiosqlite", "sqlalchemy.engine", "sanic.access")
# Loggers of the Rasa and action server processes that quote what a resident typed.
QUOTING_LOGGERS = ("rasa", "py.warnings", "sanic", "rasa_sdk")
# A quoted name (an intent, an action, a slot, a response) is kept; anything else in quotes
# (a user text, a conversation id, a value) is masked.
_QUOTED = re.compile(r"'([^'\n]{1,4000})'")
_A_NAME = re.compile(r"[A-Za-z_]{1,80}")


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message; attached to the handler so every logger,
    uvicorn's access log included, goes through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record, tracebacks included (an exception's message can
    hold whatever the resident typed)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact(text: str) -> str:
    text = screen(text).text  # passwords, cards, CVVs, Aadhaar numbers
    text = _SECRET_PARAMS.sub(r"\1***", text)
    text = _ID_PARAMS.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    text = _ADDRESS.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    text = _PHONE.sub(lambda m: mask(m.group(0)), text)
    return _LONG_NUMBER.sub(lambda m: mask(m.group(0)), text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the
    exception when there is one, redacted like the message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Warnings print to stderr by default, past the handler; libraries' warnings can quote
    # what a resident typed (Rasa's "Failed to parse arguments in line '...'").
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def mask_quoted(text: str) -> str:
    return _QUOTED.sub(
        lambda m: m.group(0) if _A_NAME.fullmatch(m.group(1)) else f"'{mask(m.group(1))}'", text
    )


class QuotedTextFilter(logging.Filter):
    """Masks quoted texts in the Rasa and action server processes' own log lines (stdlib
    and warnings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(QUOTING_LOGGERS):
            message = record.getMessage()
            masked = mask_quoted(message)
            if masked != message:
                record.msg, record.args = masked, None
        return True


def mask_quoted_texts() -> None:
    """QuotedTextFilter on the root handlers (ours): the action server needs it too, rasa-sdk
    logs "Contents of ignored event: '<the event, slot value included>'"."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(QuotedTextFilter())
