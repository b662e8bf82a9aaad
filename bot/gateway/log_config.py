"""Logging for the gateway: one line per record, identifiers masked, secrets removed.

Access logs print full request paths, and those carry the Rasa API token (httpx logs its
own requests), receipt-link signatures, web chat sender ids and phone numbers. Message
texts are never logged at INFO anywhere in the gateway.
"""

from __future__ import annotations

import logging
import re

from bot.model.identifiers import mask

_SECRET_PARAMS = re.compile(r"([?&](?:token|sig|signature)=)[^&\s\"']+", re.IGNORECASE)
_ID_PARAMS = re.compile(r"([?&](?:sender|to)=)([^&\s\"']+)", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+|%2B)\d{10,15}\b", re.IGNORECASE)
# Loggers that print our secrets at INFO: httpx logs every request URL with its query.
_QUIET = ("httpx", "httpcore")


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message; attached to the handler so every logger,
    uvicorn's access log included, goes through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact(text: str) -> str:
    text = _SECRET_PARAMS.sub(r"\1***", text)
    text = _ID_PARAMS.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    return _PHONE.sub(lambda m: mask(m.group(0)), text)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
