"""Log lines: no secrets, no raw identifiers, whichever logger wrote them."""

from __future__ import annotations

import logging

from integrations.log_redaction import RedactingFilter, redact


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


def test_consumer_numbers_chat_ids_and_typed_secrets_are_masked() -> None:
    line = redact(
        "bill for 210145678912, telegram chat 777000111, to whatsapp:+919829100001, "
        "text 'card 4111 1111 1111 1111 cvv 123', took 0.25 s, entry 42"
    )
    for raw in ("210145678912", "777000111", "919829100001", "4111", "cvv 123"):
        assert raw not in line
    assert "••••8912" in line and "••••0111" in line and "whatsapp:••••0001" in line
    assert "[card number removed]" in line and "took 0.25 s, entry 42" in line


def test_tracebacks_are_redacted_too() -> None:
    from integrations.log_redaction import RedactingFormatter

    try:
        raise ValueError("no bill for consumer 410389012345")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "bot", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    formatted = RedactingFormatter("%(message)s").format(record)
    assert "Traceback" in formatted and "410389012345" not in formatted
    assert "••••2345" in formatted
