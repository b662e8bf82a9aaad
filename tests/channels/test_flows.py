"""A resident links their SSO ID, checks a bill, pays it and gets the receipt, on WhatsApp,
SMS and Telegram; and the durability promises: one resident per phone number across
WhatsApp and SMS, and messages accepted before a crash answered after the restart."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import pytest
import uvicorn

from app.gateway.app import create_app
from bot.model.channels import InboundKind, InboundMessage
from bot.model.residents import Channel
from bot.services.inbox import ChannelInboxService
from tests.channels.harness import (
    CHAT_ID,
    RAMESH_MOBILE,
    Gateway,
    sms_form,
    telegram_press,
    telegram_text,
    whatsapp_form,
)
from tests.gateway.rasa_double import free_port

pytestmark = pytest.mark.asyncio


async def _otp(gateway: Gateway) -> str:
    (*_, sms) = await gateway.container.sandbox.sms.outbox(RAMESH_MOBILE)
    match = re.search(r"\b(\d{6})\b", sms["text"])
    assert match
    return match.group(1)


async def _pay(gateway: Gateway, last_text: str) -> None:
    match = re.search(r"(plink_\w+)", last_text)
    link = re.search(r"/sandbox/pay/(\w+)", last_text)
    link_id = link or match
    assert link_id, last_text
    status = await gateway.container.sandbox.payments.settle(link_id.group(1), "success")
    assert status == 200


Say = Callable[[str], Awaitable[None]]


async def _converse(gateway: Gateway, say: Say, last: Callable[[], str], press_pay: Say) -> None:
    await say("hi")
    await say("ramesh.kumar")
    assert "Code sent if ramesh.kumar is registered" in last() and "0001" not in last()
    await say(await _otp(gateway))
    assert last().startswith("Linked to ramesh.kumar.")
    await say("1")  # numbered option / button: Check my bill
    assert last().startswith("Bill ")
    await press_pay("/pay_bill")
    assert "Pay here:" in last()
    await _pay(gateway, last())
    await gateway.settle()


async def test_whatsapp_link_bill_pay_receipt(gateway: Gateway) -> None:
    async def say(text: str) -> None:
        await gateway.whatsapp(whatsapp_form(text))
        await gateway.settle()

    def last() -> str:
        return str(gateway.providers.twilio()[-1]["Body"])

    await _converse(gateway, say, last, lambda _: say("1"))  # "1. Pay my bill"
    receipt = gateway.providers.twilio()[-1]
    assert receipt["Body"].startswith("Payment received.")
    assert re.fullmatch(
        r"https://bot\.example\.in/receipts/RJB\w+\.pdf\?.*sig=\w+", receipt["MediaUrl"]
    )


async def test_sms_link_bill_pay_receipt(gateway: Gateway) -> None:
    async def say(text: str) -> None:
        await gateway.sms(sms_form(text))
        await gateway.settle()

    def last() -> str:
        return str(gateway.providers.twilio()[-1]["Body"])

    await _converse(gateway, say, last, lambda _: say("pay my bill"))
    receipt_parts = [m["Body"] for m in gateway.providers.twilio()[-3:]]
    text = "\n".join(receipt_parts)
    assert "Payment received." in text
    assert re.search(
        r"Receipt:\s+https://bot\.example\.in/receipts/RJB\w+\.pdf\?\S+sig=\w{64}", text
    )
    assert all("MediaUrl" not in m for m in gateway.providers.twilio())


async def test_telegram_link_bill_pay_receipt(gateway: Gateway) -> None:
    async def say(text: str) -> None:
        await gateway.telegram(telegram_text(text))
        await gateway.settle()

    async def press(payload: str) -> None:
        await gateway.telegram(telegram_press(payload))
        await gateway.settle()

    def last() -> str:
        sent = gateway.providers.telegram()
        return str(sent[-1].get("text") or sent[-1].get("caption"))

    await say("hi")
    await say("ramesh.kumar")
    await say(await _otp(gateway))
    assert last().startswith("Linked to ramesh.kumar.")
    await press("/check_bill")
    assert last().startswith("Bill ")
    await press("/pay_bill")
    await _pay(gateway, last())
    await gateway.settle()
    (document,) = gateway.providers.telegram("sendDocument")
    assert int(document["chat_id"]) == CHAT_ID
    assert str(document["caption"]).startswith("Payment received.")
    assert re.fullmatch(
        r"https://bot\.example\.in/receipts/RJB\w+\.pdf\?.*", str(document["document"])
    )


async def test_a_number_linked_on_whatsapp_is_the_same_resident_on_sms(gateway: Gateway) -> None:
    for text in ("hi", "ramesh.kumar"):
        await gateway.whatsapp(whatsapp_form(text))
        await gateway.settle()
    await gateway.whatsapp(whatsapp_form(await _otp(gateway)))
    await gateway.settle()

    await gateway.sms(sms_form("/check_bill"))
    await gateway.settle()

    assert gateway.providers.twilio()[-1]["Body"].startswith("Bill ")
    c = gateway.container
    whatsapp = await c.conversations.resident(
        (await c.conversations.open(Channel.WHATSAPP, RAMESH_MOBILE)).conversation_id
    )
    sms = await c.conversations.resident(
        (await c.conversations.open(Channel.SMS, RAMESH_MOBILE)).conversation_id
    )
    assert whatsapp is not None and sms is not None
    assert whatsapp.resident_id == sms.resident_id


async def test_messages_accepted_before_a_crash_are_answered_after_the_restart(
    gateway: Gateway,
) -> None:
    # Accepted (recorded, 2xx given) but the process died before answering them.
    inbox: ChannelInboxService = gateway.runtime.inbox
    await gateway.runtime.stop()
    now = gateway.container.clock.now()
    for number, text in enumerate(("first", "second")):
        message = InboundMessage(
            Channel.WHATSAPP, f"SMcrash{number}", RAMESH_MOBILE, InboundKind.TEXT, text, now
        )
        assert await inbox.accept(message) is not None
    assert gateway.providers.calls == []

    # A new gateway process on the same database.
    app = create_app(gateway.container)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None)
    )
    serve = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        await app.state.channel_runtime.idle()
    finally:
        server.should_exit = True
        await serve
    assert [m["Body"] for m in gateway.providers.twilio()] == ["echo: first", "echo: second"]
