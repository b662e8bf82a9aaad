"""A card number, CVV, Aadhaar number or password typed into a chat is cut out before the
inbox table, the dialogue engine (Rasa's tracker) and the logs see it; the resident is warned."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app.bootstrap import Container
from integrations.db.tables import inbox
from tests.channels.harness import Gateway, telegram_text, whatsapp_form

pytestmark = pytest.mark.asyncio

CARD, CVV, AADHAAR = "4111 1111 1111 1111", "737", "2345 6789 0124"


async def stored_texts(container: Container) -> list[str]:
    async with container.engine.connect() as connection:
        return list((await connection.execute(select(inbox.c.text))).scalars())


async def test_secrets_sent_on_whatsapp_are_removed_before_the_inbox_and_the_tracker(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = f"pay my bill with card {CARD} cvv {CVV}"
    response = await gateway.whatsapp(whatsapp_form(text))
    assert response.status_code == 200
    [stored] = await stored_texts(gateway.container)
    assert "4111" not in stored and CVV not in stored
    assert "[card number removed]" in stored

    await gateway.settle()

    [(_, seen, _)] = gateway.dialogue.turns
    assert seen == "pay my bill with card cvv"
    [reply] = gateway.providers.twilio()  # one WhatsApp message a turn
    assert reply["Body"].startswith("For your safety I removed")
    assert reply["Body"].endswith("echo: pay my bill with card cvv")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "4111" not in logged and CARD.replace(" ", "") not in logged


async def test_an_aadhaar_number_on_telegram_is_removed_with_a_warning_in_hindi(
    gateway: Gateway,
) -> None:
    await gateway.telegram(telegram_text(f"मेरा आधार {AADHAAR}"))
    await gateway.settle()

    [(_, seen, _)] = gateway.dialogue.turns
    assert seen == "मेरा आधार" and "6789" not in seen
    warning, echo = gateway.providers.telegram("sendMessage")
    assert warning["text"].startswith("आपकी सुरक्षा के लिए")
    assert echo["text"] == "echo: मेरा आधार"
