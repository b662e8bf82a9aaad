"""Log lines: no secrets, no raw identifiers, whichever logger wrote them."""

from __future__ import annotations

import logging

from bot.gateway.log_config import RedactingFilter, redact


def test_secrets_and_identifiers_are_masked_in_log_lines() -> None:
    line = (
        'GET /webchat/messages?sender=3f9a2b7c8d&after=4 "POST /conversations/x/tracker/events'
        '?token=s3cr3t HTTP/1.1" /receipts/RJB1.pdf?lang=en&expires=1&sig=abcdef /sandbox/sms?to=%2B919829100001'
    )
    redacted = redact(line)

    assert "s3cr3t" not in redacted and "sig=abcdef" not in redacted
    assert "3f9a2b7c8d" not in redacted and "sender=••••7c8d" in redacted
    assert "919829100001" not in redacted
    assert "after=4" in redacted


def test_the_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s", ("GET", "/x?token=abc"), None
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "GET /x?token=***"
