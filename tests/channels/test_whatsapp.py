"""WhatsApp over real HTTP: Twilio's signed form posts in, twilio's client out to a fake API."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from tests.channels.harness import (
    RAMESH_MOBILE,
    WHATSAPP_FROM,
    Gateway,
    whatsapp_form,
)

pytestmark = pytest.mark.asyncio


async def test_a_signed_message_is_accepted_fast_and_answered_through_the_api(
    gateway: Gateway,
) -> None:
    # A slow turn must not hold up the webhook's answer. The margin is wide: this is the
    # file's first request (cold caches) and CI shares 2 cores (0.69 s measured once).
    gateway.dialogue.delay_s = 3.0
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await gateway.whatsapp(whatsapp_form("hi"))
    elapsed = loop.time() - started

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert elapsed < 1.5
    await gateway.settle()
    (sent,) = gateway.providers.twilio()
    assert sent["To"] == f"whatsapp:{RAMESH_MOBILE}"
    assert sent["From"] == WHATSAPP_FROM
    assert sent["Body"].startswith("Namaste! What would you like to do?")
    assert "1. Check my bill\n2. Pay my bill" in sent["Body"]


@pytest.mark.parametrize("signature", [None, "bm90IHRoZSBzaWduYXR1cmU="], ids=["missing", "wrong"])
async def test_an_unsigned_or_badly_signed_message_is_403_and_changes_nothing(
    gateway: Gateway, signature: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    form = whatsapp_form("my secret text")
    response = await gateway.whatsapp(form, signature=signature)

    assert response.status_code == 403
    await gateway.settle()
    assert gateway.dialogue.turns == []
    assert gateway.providers.calls == []
    assert await gateway.runtime.inbox.pending() == []
    rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 1
    assert "my secret text" not in rejected[0] and RAMESH_MOBILE not in rejected[0]


async def test_the_signature_covers_the_public_url_not_the_one_the_proxy_forwards_to(
    gateway: Gateway,
) -> None:
    from tests.channels.harness import twilio_signature

    form = whatsapp_form("hi")
    local = twilio_signature("/channels/whatsapp", form).replace(" ", "")
    assert (await gateway.whatsapp(form, signature=local)).status_code == 200
    form = whatsapp_form("hi")
    form_tampered = dict(form, Body="pay 1000 to me")
    signed_for_original = twilio_signature("/channels/whatsapp", form)
    assert (await gateway.whatsapp(form_tampered, signature=signed_for_original)).status_code == 403


async def test_a_redelivered_message_is_answered_once_even_when_both_arrive_together(
    gateway: Gateway,
) -> None:
    form = whatsapp_form("hi")
    first, second = await asyncio.gather(gateway.whatsapp(form), gateway.whatsapp(form))
    third = await gateway.whatsapp(form)

    assert {first.status_code, second.status_code, third.status_code} == {200}
    await gateway.settle()
    assert len(gateway.dialogue.turns) == 1
    assert len(gateway.providers.twilio()) == 1


async def test_one_conversations_messages_are_answered_in_order(gateway: Gateway) -> None:
    gateway.dialogue.delay_s = 0.05
    for text in ("one", "two", "three"):
        await gateway.whatsapp(whatsapp_form(text))
    await gateway.settle()

    assert [t for _, t, _ in gateway.dialogue.turns] == ["one", "two", "three"]
    assert [m["Body"] for m in gateway.providers.twilio()] == [
        "echo: one",
        "echo: two",
        "echo: three",
    ]


async def test_a_numbered_reply_presses_the_option_last_offered(gateway: Gateway) -> None:
    await gateway.whatsapp(whatsapp_form("hi"))
    await gateway.settle()
    await gateway.whatsapp(whatsapp_form("2"))
    await gateway.settle()
    await gateway.whatsapp(whatsapp_form("hi"))
    await gateway.settle()
    await gateway.whatsapp(whatsapp_form("check my bill"))
    await gateway.settle()

    texts = [t for _, t, _ in gateway.dialogue.turns]
    assert texts[1] == "/pay_bill"
    assert texts[3] == "/check_bill"


async def test_a_media_only_message_gets_a_polite_request_to_type(gateway: Gateway) -> None:
    form = whatsapp_form(
        "", NumMedia="1", MediaUrl0="https://api.twilio.com/media/1", MediaContentType0="audio/ogg"
    )
    assert (await gateway.whatsapp(form)).status_code == 200
    await gateway.settle()

    assert gateway.dialogue.turns == []
    (sent,) = gateway.providers.twilio()
    assert "Please type your message" in sent["Body"]
    assert "कृपया अपना संदेश लिखें" in sent["Body"]  # language not known yet: both


async def test_a_429_is_retried_and_the_message_goes_out_once(gateway: Gateway) -> None:
    gateway.providers.fail_next(
        "twilio", 429, {"code": 20429, "message": "Too Many Requests", "status": 429}
    )
    gateway.providers.fail_next(
        "twilio", 503, {"code": 20503, "message": "Unavailable", "status": 503}
    )
    await gateway.whatsapp(whatsapp_form("hi"))
    await gateway.settle()
    # The retries back off for 0.5 s then 1 s; on a loaded machine they may still be under way.
    deadline = asyncio.get_running_loop().time() + 10
    while len(gateway.providers.attempts("twilio")) < 3:
        assert asyncio.get_running_loop().time() < deadline, "the 429 and 503 were not retried"
        await asyncio.sleep(0.05)
    await gateway.settle()

    assert len(gateway.providers.attempts("twilio")) == 3
    assert len(gateway.providers.twilio()) == 1


async def test_a_push_inside_the_window_is_a_session_message_outside_a_template(
    gateway: Gateway,
) -> None:
    from bot.model.outbound import Attachment, OutboundMessage

    c = gateway.container
    await gateway.whatsapp(whatsapp_form("hi"))
    await gateway.settle()
    conversation = await c.conversations.open(
        __import__("bot.model.residents").model.residents.Channel.WHATSAPP, RAMESH_MOBILE
    )
    receipt = OutboundMessage(
        text="Payment received.\nReceipt no. RJB1.",
        attachment=Attachment(
            "https://bot.example.in/receipts/RJB1.pdf?sig=x", "receipt-RJB1.pdf", "application/pdf"
        ),
    )
    async with c.uow() as tx:
        await tx.outbox.push(conversation.conversation_id, receipt, c.clock.now())
        await tx.commit()
    await gateway.settle()
    session = gateway.providers.twilio()[-1]
    assert session["Body"].startswith("Payment received.")
    assert session["MediaUrl"] == "https://bot.example.in/receipts/RJB1.pdf?sig=x"
    assert "ContentSid" not in session

    c.clock.advance(timedelta(hours=25))  # type: ignore[attr-defined]
    async with c.uow() as tx:
        await tx.outbox.push(conversation.conversation_id, receipt, c.clock.now())
        await tx.commit()
    await gateway.settle()
    template = gateway.providers.twilio()[-1]
    assert template["ContentSid"] == "HXreceipten"
    assert json.loads(template["ContentVariables"]) == {
        "1": "Payment received. Receipt no. RJB1.",
        "2": "https://bot.example.in/receipts/RJB1.pdf?sig=x",
    }
    assert "Body" not in template
