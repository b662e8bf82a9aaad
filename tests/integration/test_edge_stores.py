"""What the web edge stores, on SQLite and PostgreSQL (issue 13): a signed payment webhook
with a 300-character delivery id is recorded (PostgreSQL's VARCHAR(255) once made it a
503), and web chat sessions are kept as hashes that expire."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.webchat_sessions import (
    SessionPolicy,
    SessionRefusal,
    SessionRefused,
    WebchatSessions,
)
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from integrations.db.webchat_sessions import SqlWebchatSessionStore, webchat_sessions
from integrations.payments.razorpay_webhook import parse_webhook, sign
from tests.fakes import FakeClock

SECRET = "edge-store-secret"


async def test_a_300_character_delivery_id_is_recorded_once(uow: SqlUnitOfWorkFactory) -> None:
    body = json.dumps(
        {
            "event": "payment_link.expired",
            "payload": {
                "payment_link": {
                    "entity": {"id": "plink_Ex0000000001", "amount": 100, "status": "expired"}
                }
            },
        }
    ).encode()
    clock = FakeClock()
    recorded = []
    for delivery in ("evt_" + "x" * 296, "evt_" + "y" * 296):
        headers = {"X-Razorpay-Signature": sign(body, SECRET), "X-Razorpay-Event-Id": delivery}
        event = parse_webhook(body, headers, SECRET)
        assert event is not None
        async with uow() as tx:
            recorded.append(await tx.webhook_events.record("payments", event.event_id, clock.now()))
            await tx.commit()

    assert recorded == [True, False]  # the second delivery is the same news


async def test_web_chat_sessions_are_stored_as_hashes_and_expire(engine: AsyncEngine) -> None:
    clock = FakeClock()
    sessions = WebchatSessions(
        SqlWebchatSessionStore(engine),
        clock,
        SessionPolicy(idle=timedelta(minutes=30), max_age=timedelta(hours=2)),
        SqlUnitOfWorkFactory(engine),
    )
    issued = await sessions.issue()
    assert await sessions.resolve(issued.token) == issued.token
    clock.advance(timedelta(minutes=20))
    assert await sessions.resolve(issued.token) == issued.token  # use keeps it alive
    clock.advance(timedelta(minutes=29))
    assert await sessions.resolve(issued.token) == issued.token

    async with engine.connect() as connection:
        rows = (await connection.execute(select(webchat_sessions))).mappings().all()
    assert len(rows) == 1 and issued.token not in str(dict(rows[0]))
    assert rows[0]["last_seen_at"] == clock.now()

    clock.advance(timedelta(minutes=31))
    with pytest.raises(SessionRefused) as refused:
        await sessions.resolve(issued.token)
    assert refused.value.reason is SessionRefusal.EXPIRED
