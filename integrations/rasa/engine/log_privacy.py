"""Rasa's own logging through our redaction (runs inside the Rasa server: server.py).

Rasa 3.6 logs in three ways, none of which passes our redacting handler by itself:
- structlog events (rasa/utils/log_utils.py): at DEBUG they carry the user's text, the
  extracted entities, every slot value and the tracker's states; when not on a terminal they
  render tracebacks as dicts *with local variables* (structlog's `dict_tracebacks` shows
  locals by default), so one failed template filling prints every slot. Rasa marks those
  keys for its (Rasa Pro only) anonymizer; we drop their values instead, render tracebacks
  without locals, and hand the line to the stdlib logger, whose handler is ours.
- the stdlib `logging` module, with user texts and conversation ids in single quotes.
- `warnings.warn` (rasa.shared.utils.io.raise_warning), printed straight to stderr: "Failed
  to parse arguments in line '<the whole user text>'". Captured into logging here.
And Sanic, which Rasa's server creates with Sanic's own handlers (unredacted, and its access
lines print the request path with the sender id); they are sent to ours instead.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import MutableMapping
from typing import Any

from integrations.log_redaction import configure_logging, mask_quoted_texts

# Rasa's own list of event keys that can hold personal data (rasa/utils/log_utils.py,
# `_anonymizer`), plus the ones its list misses (a template's text, a message's metadata).
CONTENT_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        "metadata",
        "events",
        "tracker",
        "slots",
        "value",
    }
)
REMOVED = "[removed]"
USER_INPUT_WARNINGS = r"Failed to parse arguments in line"


def remove_content(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the values of content keys replaced, whatever their level."""
    for key in CONTENT_KEYS & event_dict.keys():
        event_dict[key] = REMOVED
    return event_dict


def configure_structlog(level: int) -> None:
    """Rasa's structlog set-up (log_utils.configure_structlog) minus locals and content."""
    import structlog

    structlog.configure(
        processors=[
            remove_content,
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.dev.set_exc_info,
            structlog.processors.format_exc_info,  # a plain traceback: no local variables
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def route_sanic_to_root() -> None:
    """Sanic applies LOGGING_CONFIG_DEFAULTS when Rasa creates its app: its loggers then get
    handlers of their own. Made empty, so their records reach the root handler (ours)."""
    from sanic import log as sanic_log

    config = sanic_log.LOGGING_CONFIG_DEFAULTS
    config["handlers"] = {}
    for name, logger in config["loggers"].items():
        logger["handlers"] = []
        logger["propagate"] = True
        # The access lines' message is empty (the request is in `extra`): nothing to read.
        logger["level"] = "WARNING" if name == "sanic.access" else logger.get("level", "INFO")


def apply(level_name: str, log_format: str) -> None:
    """Every record of the Rasa process through our redacting handler; call before Rasa
    logs anything (structlog caches its loggers on first use)."""
    configure_logging(level_name, log_format)
    mask_quoted_texts()
    # About what a resident typed ("/" then anything), not about the server, and it quotes
    # the text whole, also unquoted ("Continuing without <the rest>"). Rasa's structlog event
    # for the same (message.parsing.failed) stays, its text removed.
    warnings.filterwarnings("ignore", message=USER_INPUT_WARNINGS)
    configure_structlog(logging.getLevelName(level_name.upper()))
    route_sanic_to_root()
