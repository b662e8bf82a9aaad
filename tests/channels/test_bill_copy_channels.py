"""A bill copy on WhatsApp, SMS and Telegram over real HTTP: the gateway on 127.0.0.1, the
providers' APIs as doubles on 127.0.0.1. WhatsApp and Telegram get the PDF by its address
(and the address serves it), SMS gets "Bill: <link>" in its text instead of a file."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from bot.model.bill_copies import bill_copy_filename
from bot.model.outbound import Attachment, Button, OutboundMessage
from bot.model.residents import Language
from channels.sms import render_sms
from tests.channels.harness import (
    JVVNL,
    PUBLIC_BASE_URL,
    RAMESH_NUMBER,
    Gateway,
    sms_form,
    telegram_text,
    whatsapp_form,
)
from tests.channels.test_flows import _otp

pytestmark = pytest.mark.asyncio

Say = Callable[[str], Awaitable[None]]


@pytest.fixture
def copies_on_request(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripted dialogue also answers "bill ki copy bhejo" as action_show_bill does with
    the copy goal: the real use cases fetch the bill (saving the account) and sign a link."""
    dialogue = gateway.dialogue
    scripted = dialogue._answer

    async def answer(conversation_id: str, text: str) -> list[OutboundMessage]:
        if text != "bill ki copy bhejo":
            return await scripted(conversation_id, text)
        c = gateway.container
        fetched = await c.billing.fetch(conversation_id, JVVNL, RAMESH_NUMBER)
        url = await c.bill_copies.link_for(conversation_id, JVVNL, RAMESH_NUMBER, Language.EN)
        return [
            OutboundMessage(
                text=f"Here is a copy of your JVVNL bill {fetched.bill.bill_number}.",
                buttons=(Button("Pay ₹3,107.50", "/pay_bill"),),
            ),
            OutboundMessage(
                text="",
                attachment=Attachment(
                    url, bill_copy_filename("JVVNL", RAMESH_NUMBER), "application/pdf"
                ),
            ),
        ]

    monkeypatch.setattr(dialogue, "_answer", answer)


async def link_and_ask(gateway: Gateway, say: Say) -> None:
    await say("hi")
    await say("ramesh.kumar")
    await say(await _otp(gateway))
    await say("bill ki copy bhejo")


async def served(gateway: Gateway, url: str) -> bytes:
    """What the provider gets when it fetches the address (the gateway behind its proxy)."""
    assert url.startswith(f"{PUBLIC_BASE_URL}/bills/")
    response = await gateway.http.get(gateway.url + url.removeprefix(PUBLIC_BASE_URL))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    return response.content


async def test_whatsapp_gets_the_copy_as_media_with_its_caption_and_option(
    gateway: Gateway, copies_on_request: None
) -> None:
    async def say(text: str) -> None:
        await gateway.whatsapp(whatsapp_form(text))
        await gateway.settle()

    await link_and_ask(gateway, say)

    sent = gateway.providers.twilio()[-1]
    assert sent["Body"].startswith("Here is a copy of your JVVNL bill")
    assert "1. Pay ₹3,107.50" in sent["Body"]  # one message: caption, file and option
    assert RAMESH_NUMBER not in sent["MediaUrl"]
    assert (await served(gateway, sent["MediaUrl"])).startswith(b"%PDF-")


async def test_sms_gets_the_link_in_its_text_and_no_file(
    gateway: Gateway, copies_on_request: None
) -> None:
    async def say(text: str) -> None:
        await gateway.sms(sms_form(text))
        await gateway.settle()

    sent_before = len(gateway.providers.twilio())
    await link_and_ask(gateway, say)

    texts = "\n".join(m["Body"] for m in gateway.providers.twilio()[sent_before:][-3:])
    link = re.search(r"Bill:\s+(https://bot\.example\.in/bills/\S+sig=\w{32})", texts)
    assert link, texts
    assert "Receipt:" not in texts
    assert all("MediaUrl" not in m for m in gateway.providers.twilio())
    assert (await served(gateway, link.group(1))).startswith(b"%PDF-")


async def test_telegram_gets_the_copy_as_a_document(
    gateway: Gateway, copies_on_request: None
) -> None:
    async def say(text: str) -> None:
        await gateway.telegram(telegram_text(text))
        await gateway.settle()

    await link_and_ask(gateway, say)

    said = gateway.providers.telegram("sendMessage")[-1]
    assert str(said["text"]).startswith("Here is a copy of your JVVNL bill")  # with its button
    (document,) = gateway.providers.telegram("sendDocument")  # then the file itself
    assert (await served(gateway, str(document["document"]))).startswith(b"%PDF-")


@pytest.mark.parametrize(("language", "label"), [(Language.EN, "Bill:"), (Language.HI, "बिल:")])
async def test_an_sms_names_a_bill_copy_link_in_its_language(
    language: Language, label: str
) -> None:
    copy = OutboundMessage(
        text="copy",
        attachment=Attachment("https://bot.example.in/bills/r/a.pdf", "bill-JVVNL-8912.pdf", "x"),
    )
    receipt = OutboundMessage(
        text="paid",
        attachment=Attachment("https://bot.example.in/receipts/R.pdf", "receipt-R.pdf", "x"),
    )

    assert f"{label} https://bot.example.in/bills/r/a.pdf" in "\n".join(render_sms(copy, language))
    assert label not in "\n".join(render_sms(receipt, language))
