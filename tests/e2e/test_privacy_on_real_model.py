"""Privacy through the real stack: the notice at first contact, a card number cut out before
Rasa, "what do you know about me" masked, and "delete my data" leaving nothing of the
resident in any table nor in Rasa's tracker (read back through Rasa's HTTP API)."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
from sqlalchemy import select

from app.bootstrap import keyring
from app.settings import Settings
from bot.model.residents import Channel
from integrations.db.engine import make_engine
from integrations.db.tables import metadata
from integrations.db.unit_of_work import SqlUnitOfWork
from tests.e2e.conftest import Chat, Stack, payloads, text_of

SSO_ID, MOBILE, NUMBER, NAME = "gopal.choudhary", "+919460100005", "610523456789", "Gopal"
CARD = "4111 1111 1111 1111"
PLAINTEXTS = (SSO_ID, MOBILE, MOBILE[3:], NUMBER, "6105 2345 6789", NAME, CARD, CARD[:9])


async def stored_for(stack: Stack, sender: str) -> tuple[str | None, str]:
    """The chat's conversation id, and every product table's values decrypted."""
    settings = Settings(
        database_url=stack.env["DATABASE_URL"], app_secret_key=stack.env["APP_SECRET_KEY"]
    )
    engine = make_engine(settings.database_url, keyring(settings))
    try:
        async with SqlUnitOfWork(engine) as tx:
            conversation = await tx.conversations.find(Channel.WEBCHAT, sender)
        values: list[str] = []
        async with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in (await connection.execute(select(table))).all():
                    values.extend(str(v) for v in row)
    finally:
        await engine.dispose()
    return (conversation.conversation_id if conversation else None), "\n".join(values)


def tracker(stack: Stack, conversation_id: str) -> dict:
    response = httpx.get(
        f"{stack.rasa_url}/conversations/{conversation_id}/tracker",
        params={"token": stack.env["RASA_API_TOKEN"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_resident_sees_their_data_masked_and_erases_it_everywhere(stack: Stack) -> None:
    sender = f"e2e-privacy-{uuid.uuid4().hex[:8]}"
    chat = Chat(stack, sender)
    first = text_of(chat.say(f"hello, card {CARD}"))
    assert "Privacy:" in first  # the notice, at first contact
    assert "For your safety" in first  # and the card cut out before Rasa saw it
    chat.say("/link_account")
    chat.say(SSO_ID)
    chat.say(chat.latest_otp(MOBILE))
    chat.say("/check_bill")
    chat.say('/inform{"utility": "electricity"}')
    chat.say('/inform{"biller": "BKESL0000RAJ02"}')
    bill = text_of(chat.say("6105 2345 6789"))
    assert "1,654.00" in bill

    held = text_of(chat.say("what do you know about me"))
    assert "••••6789" in held and "••••0005" in held and "Go***" in held
    assert NUMBER not in held and MOBILE not in held

    conversation_id, before = asyncio.run(stored_for(stack, chat.sender))
    assert conversation_id and SSO_ID in before and NUMBER in before
    events_before = json.dumps(tracker(stack, conversation_id), ensure_ascii=False)
    assert "6105 2345 6789" in events_before  # Rasa did hold what was typed
    assert CARD not in events_before and CARD[:9] not in events_before  # never the card

    confirm = chat.say("delete my data")
    assert "/affirm" in payloads(confirm)
    done = text_of(chat.say("haan"))
    assert "your data is erased" in done  # English: the chat began in English

    _, after = asyncio.run(stored_for(stack, chat.sender))
    events_after = json.dumps(tracker(stack, conversation_id), ensure_ascii=False)
    for plaintext in PLAINTEXTS:
        assert plaintext not in after, plaintext
        assert plaintext not in events_after, plaintext
    assert "Privacy" in text_of(chat.say("hello"))  # a fresh start, notice again
