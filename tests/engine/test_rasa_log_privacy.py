"""Rasa's own logging, configured as the Rasa server process configures it (app/stack.py),
prints no slot value, user text or local variable at any level (issue 13, finding 2).

Each test emits what Rasa 3.6 emits, through Rasa's own code where it can: a response whose
template filling fails (structlog `exception`, which printed every local variable, slot
values included), DEBUG events with the user's text and slots, a warning quoting the text,
a stdlib line quoting it, and Sanic's logging config."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from integrations.rasa.engine import log_privacy

SSO_ID, NUMBER, MOBILE = "sunita.devi", "410389012345", "+919414100002"


def sanic_config_copy() -> dict[str, Any]:
    """What route_sanic_to_root changes (its handlers hold streams: no deepcopy)."""
    from sanic import log as sanic_log

    config = sanic_log.LOGGING_CONFIG_DEFAULTS
    return {
        "handlers": dict(config["handlers"]),
        "loggers": {name: dict(logger) for name, logger in config["loggers"].items()},
    }


@pytest.fixture
def rasa_logging(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """The Rasa process's logging at DEBUG; everything it changes is put back afterwards."""
    from sanic import log as sanic_log

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("rasa", "sanic.access")}
    sanic_config = sanic_config_copy()
    structlog_config = structlog.get_config()
    with warnings.catch_warnings():
        log_privacy.apply("DEBUG", "text")
        logging.getLogger("rasa").setLevel(logging.DEBUG)
        try:
            yield capsys
        finally:
            logging.captureWarnings(False)
            root.handlers[:] = handlers
            root.setLevel(level)
            for name, old in levels.items():
                logging.getLogger(name).setLevel(old)
            sanic_log.LOGGING_CONFIG_DEFAULTS.update(sanic_config)
            structlog.configure(**structlog_config)


def logged(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    return out + err


def test_a_failed_template_filling_prints_no_slot_value_nor_local(
    rasa_logging: pytest.CaptureFixture[str],
) -> None:
    from rasa.core.nlg.interpolator import interpolate_text

    slots = {"sso_id": SSO_ID, "consumer_number": NUMBER, "language": "hi"}
    # A placeholder no slot fills: Rasa logs the KeyError with structlog's `exception`.
    assert interpolate_text("Bill for {account}", slots) == "Bill for {account}"

    text = logged(rasa_logging)
    assert "interpolator.interpolate.text" in text  # it was logged
    assert SSO_ID not in text and NUMBER not in text
    assert "locals" not in text and "'values'" not in text


def test_debug_events_keep_their_names_but_not_their_content(
    rasa_logging: pytest.CaptureFixture[str],
) -> None:
    log = structlog.get_logger()
    log.debug(
        "processor.message.parse",
        parse_data_text=f"my sso id is {SSO_ID}",
        parse_data_intent={"name": "inform", "confidence": 0.99},
        parse_data_entities=[{"entity": "sso_id", "value": SSO_ID}],
    )
    log.debug("forms.slots.validate", slot_candidates={"consumer_number": NUMBER})
    log.debug("processor.slots.log", slot_values=f"\tsso_id: {SSO_ID}\n\tmobile: {MOBILE}")

    text = logged(rasa_logging)
    assert "processor.message.parse" in text and "inform" in text  # still useful
    for secret in (SSO_ID, NUMBER, MOBILE, MOBILE[3:]):
        assert secret not in text


def test_warnings_and_stdlib_lines_that_quote_a_text_are_masked(
    rasa_logging: pytest.CaptureFixture[str],
) -> None:
    import rasa.shared.utils.io

    rasa.shared.utils.io.raise_warning(
        f"Failed to parse arguments in line '/inform{{not json {SSO_ID}'. "
        f"Continuing without {{not json {SSO_ID}. "
    )
    warnings.warn(f"Unexpected entity in '{SSO_ID} please'", UserWarning, stacklevel=1)
    logging.getLogger("rasa.core.processor").debug(f"Received user message '{SSO_ID}'")
    logging.getLogger("rasa.core.processor").debug("Predicted next action 'utter_greet'")

    text = logged(rasa_logging)
    assert SSO_ID not in text
    assert "'utter_greet'" in text  # names stay readable


def test_sanic_logs_reach_our_handler_only() -> None:
    from sanic import log as sanic_log

    saved = sanic_config_copy()
    try:
        log_privacy.route_sanic_to_root()
        config = sanic_log.LOGGING_CONFIG_DEFAULTS
        assert config["handlers"] == {}
        assert all(logger["handlers"] == [] for logger in config["loggers"].values())
        assert all(logger["propagate"] for logger in config["loggers"].values())
    finally:
        sanic_log.LOGGING_CONFIG_DEFAULTS.update(saved)
