"""After a whole link -> bill -> pay -> receipt flow, the database FILE holds no phone number,
SSO ID, consumer number or name in plaintext outside the sandbox's own tables."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.bootstrap import Container
from bot.model.channels import InboundKind, InboundMessage
from bot.model.payments import PaymentStatus
from bot.model.residents import Channel
from tests.gateway.conftest import JVVNL, RAMESH_NUMBER, razorpay_event, signed

pytestmark = pytest.mark.asyncio

SSO_ID, MOBILE, NAME = "ramesh.kumar", "+919829100001", "Ramesh Kumar Sharma"
PLAINTEXTS = (SSO_ID, MOBILE, MOBILE[3:], RAMESH_NUMBER, NAME, "919829100001")


def product_bytes(database: Path, scratch: Path) -> bytes:
    """The bytes of a copy of `database` (WAL included) without the sandbox's tables,
    vacuumed so that no freed page keeps an old value."""
    copy = scratch / "scan.db"
    source = sqlite3.connect(database)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    # The scan does see plaintext: the sandbox's SMS log and bills hold some.
    before = copy.read_bytes()
    assert MOBILE.encode() in before and RAMESH_NUMBER.encode() in before
    names = [
        row[0]
        for row in target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if row[0].startswith("sandbox_")
    ]
    assert names, "the seeded sandbox should have tables"
    for name in names:
        target.execute(f'DROP TABLE "{name}"')
    target.commit()
    target.execute("VACUUM")
    target.close()
    return copy.read_bytes()


def database_path(container: Container) -> Path:
    return Path(str(make_url(container.settings.database_url).database))


async def test_a_paid_flow_leaves_no_plaintext_identifiers_in_the_database_file(
    client: httpx.AsyncClient, container: Container, tmp_path: Path
) -> None:
    # link with a real OTP, as a resident does
    conversation = await container.conversations.open(Channel.WEBCHAT, "chat-ramesh-1")
    started = await container.linking.start(conversation.conversation_id, f"my sso id {SSO_ID}")
    [sms] = await container.sandbox.sms.outbox(MOBILE)
    otp = re.search(r"\b\d{6}\b", sms["text"])
    assert started.sso_id == SSO_ID and otp
    resident = await container.linking.verify(conversation.conversation_id, otp.group(0))
    assert resident.sso_id == SSO_ID
    # a message from the same resident over WhatsApp, waiting in the channel inbox
    async with container.uow() as tx:
        await tx.inbox.record(
            InboundMessage(
                channel=Channel.WHATSAPP,
                external_id="SM0001",
                address=MOBILE,
                kind=InboundKind.TEXT,
                text=f"bill for {RAMESH_NUMBER} please, I am {NAME}",
                received_at=datetime.now(timezone.utc),
            )
        )
        await tx.commit()
    # bill (saves the account), payment link, paid webhook, receipt
    fetched = await container.billing.fetch(conversation.conversation_id, JVVNL, RAMESH_NUMBER)
    assert fetched.newly_saved
    payment, _ = await container.payments.request_link(
        conversation.conversation_id, JVVNL, RAMESH_NUMBER
    )
    assert payment.link_id
    event = razorpay_event(
        "payment_link.paid", payment.link_id, payment.payment_id, payment.total_paise
    )
    raw, headers = signed(event, event_id="evt_AtRest0001")
    assert (
        await client.post("/webhooks/payments", content=raw, headers=headers)
    ).status_code == 200

    # the application still reads everything back in plaintext...
    async with container.uow() as tx:
        stored = await tx.payments.get(payment.payment_id)
        by_sso = await tx.residents.by_sso_id(SSO_ID)
        [account] = await tx.accounts.list_for(resident.resident_id)
    assert stored is not None and stored.status is PaymentStatus.PAID
    assert stored.consumer_number == RAMESH_NUMBER
    assert by_sso is not None and by_sso.mobile == MOBILE and by_sso.name == NAME
    assert account.consumer_number == RAMESH_NUMBER
    async with container.uow() as tx:
        [waiting] = await tx.inbox.pending_for(Channel.WHATSAPP, MOBILE)
    assert RAMESH_NUMBER in waiting.message.text

    # ...but the file holds none of it outside the sandbox's tables
    data = product_bytes(database_path(container), tmp_path)
    assert b"outbox" in data and b"residents" in data  # the product's tables are there
    for plaintext in PLAINTEXTS:
        assert plaintext.encode() not in data, plaintext
