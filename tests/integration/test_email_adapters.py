"""The email adapters against real servers: SMTP (aiosmtplib) to an aiosmtpd server on
127.0.0.1, and the sandbox outbox through GET /sandbox/email."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi import FastAPI

from app.gateway.sandbox import sandbox_router
from bot.errors import EmailUnavailable
from bot.model.email import OutgoingEmail
from integrations.billers.catalog import load_billers
from integrations.db.engine import make_engine
from integrations.email.smtp import SmtpEmailSender
from integrations.sandbox import Sandbox
from tests.fakes import FakeClock

NOW = datetime(2026, 12, 15, 5, 30, tzinfo=timezone.utc)
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF"
HINDI_RECEIPT = OutgoingEmail(
    to="sunita@yahoo.in",
    subject="रसीद RJ2612150001: JVVNL को ₹3,107.50 का भुगतान",
    text="भुगतान मिल गया। रसीद PDF के रूप में साथ लगी है।",
    attachments=(("receipt-RJ2612150001.pdf", PDF, "application/pdf"),),
)


class Mailbox:
    """What the SMTP server received, and what it refuses."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp_server(mailbox: Mailbox) -> Iterator[int]:
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        # A test server without a certificate: AUTH over the plain connection.
        auth_require_tls=False,
        decode_data=False,
    )
    controller.start()
    yield port
    controller.stop()


def _sender(port: int, **options: Any) -> SmtpEmailSender:
    return SmtpEmailSender(
        "127.0.0.1",
        port,
        "Rajasthan bill assistant <bills@example.gov.in>",
        starttls=False,
        timeout_s=5,
        **options,
    )


async def test_a_hindi_receipt_arrives_readable_with_its_pdf_intact(
    smtp_server: int, mailbox: Mailbox
) -> None:
    await _sender(smtp_server).send(HINDI_RECEIPT)

    ((mail_from, recipients, message),) = mailbox.received
    assert mail_from == "bills@example.gov.in" and recipients == ["sunita@yahoo.in"]
    assert message["Subject"] == HINDI_RECEIPT.subject  # decoded from its RFC 2047 form
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == HINDI_RECEIPT.text
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "receipt-RJ2612150001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    assert message["Message-ID"].endswith("@example.gov.in>")


async def test_it_logs_in_with_the_configured_credentials(
    smtp_server: int, mailbox: Mailbox
) -> None:
    await _sender(smtp_server, username="bills", password="s3cret").send(HINDI_RECEIPT)

    assert mailbox.logins == [(b"bills", b"s3cret")]
    assert len(mailbox.received) == 1


async def test_a_wrong_password_is_email_unavailable_and_nothing_is_sent(
    smtp_server: int, mailbox: Mailbox
) -> None:
    with pytest.raises(EmailUnavailable):
        await _sender(smtp_server, username="bills", password="wrong").send(HINDI_RECEIPT)
    assert mailbox.received == []


async def test_a_refused_recipient_is_email_unavailable(smtp_server: int, mailbox: Mailbox) -> None:
    refused = OutgoingEmail(to="nobody@example.in", subject="s", text="t")

    with pytest.raises(EmailUnavailable):
        await _sender(smtp_server).send(refused)
    assert mailbox.received == []


async def test_a_server_that_is_not_there_is_email_unavailable() -> None:
    with pytest.raises(EmailUnavailable):
        await _sender(_free_port()).send(HINDI_RECEIPT)


def test_smtp_without_a_host_or_sender_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="SMTP_HOST"):
        SmtpEmailSender("", 587, "bills@example.gov.in")


# --- the sandbox mail server ---------------------------------------------------------------------
@pytest_asyncio.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    engine = make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    sandbox = Sandbox(
        engine=engine,
        billers=load_billers(),
        public_base_url="http://testserver",
        webhook_url="http://127.0.0.1:9/webhooks/payments",
        webhook_secret="test-webhook-secret",
        clock=FakeClock(NOW),
    )
    await sandbox.apply_seed()
    yield sandbox
    await engine.dispose()


async def test_the_sandbox_outbox_shows_mail_as_the_contract_says(sandbox: Sandbox) -> None:
    await sandbox.email.send(HINDI_RECEIPT)
    await sandbox.email.send(OutgoingEmail(to="ramesh@gmail.com", subject="other", text="x"))

    app = FastAPI()
    app.include_router(sandbox_router(sandbox))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/sandbox/email", params={"to": "Sunita@Yahoo.in"})
        nothing = await client.get("/sandbox/email", params={"to": "nobody@example.in"})

    assert answer.status_code == 200
    assert answer.json() == {
        "messages": [
            {
                "to": "sunita@yahoo.in",
                "subject": HINDI_RECEIPT.subject,
                "text": HINDI_RECEIPT.text,
                "attachments": ["receipt-RJ2612150001.pdf"],
                "sent_at": NOW.isoformat(),
            }
        ]
    }
    assert nothing.json() == {"messages": []}


async def test_the_sandbox_refuses_what_is_no_address(sandbox: Sandbox) -> None:
    with pytest.raises(EmailUnavailable):
        await sandbox.email.send(OutgoingEmail(to="not an address", subject="s", text="t"))
    assert await sandbox.email_outbox("not an address") == []
