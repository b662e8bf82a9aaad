"""Finding 5 of issue 13 through the gateway: strangers on WhatsApp asking codes for
Ramesh's SSO ID get the same answers as for an SSO ID that does not exist, send his phone a
bounded number of SMS, and cannot stop him linking on WhatsApp from his own phone."""

from __future__ import annotations

import re

import pytest

from bot.services.link_limits import MAX_SENDS, MAX_SENDS_PER_SSO_ID_PER_DAY
from tests.channels.harness import RAMESH_MOBILE, Gateway, whatsapp_form

pytestmark = pytest.mark.asyncio


async def whatsapp_says(gateway: Gateway, sender: str, text: str) -> str:
    """The last reply the gateway sent to `sender` on WhatsApp after `text`."""
    await gateway.whatsapp(whatsapp_form(text, sender=sender))
    await gateway.settle()
    bodies = [m["Body"] for m in gateway.providers.twilio() if m.get("To") == f"whatsapp:{sender}"]
    return str(bodies[-1])


async def strangers_ask(gateway: Gateway, sso_id: str, first_number: int) -> list[str]:
    """Fresh WhatsApp numbers (new senders cost nothing to a stranger) asking for codes."""
    answers = []
    for chat in range(5):
        sender = f"+91700000{first_number + chat:04d}"
        await whatsapp_says(gateway, sender, "hi")
        for _ in range(MAX_SENDS):
            answer = await whatsapp_says(gateway, sender, sso_id)
            answers.append(answer.replace(sso_id, "<sso id>"))
    return answers


async def test_strangers_learn_nothing_flood_little_and_lock_nobody_out(gateway: Gateway) -> None:
    known = await strangers_ask(gateway, "ramesh.kumar", first_number=100)
    unknown = await strangers_ask(gateway, "nobody.here", first_number=200)

    assert known == unknown  # word for word, refusals included
    assert "Code sent if <sso id> is registered." in known
    assert "Refused: TooManyOtpRequests." in known
    assert not any(re.search(r"\d{4}", answer) for answer in known)  # no mobile digits
    sent = await gateway.container.sandbox.sms.outbox(RAMESH_MOBILE)
    assert len(sent) <= MAX_SENDS_PER_SSO_ID_PER_DAY

    # Ramesh, on WhatsApp from the mobile registered with his SSO ID, links all the same.
    await gateway.whatsapp(whatsapp_form("hi"))
    await gateway.settle()
    await gateway.whatsapp(whatsapp_form("ramesh.kumar"))
    await gateway.settle()
    (*_, sms) = await gateway.container.sandbox.sms.outbox(RAMESH_MOBILE)
    code = re.search(r"\b(\d{6})\b", sms["text"])
    assert code and len(sent) < len(await gateway.container.sandbox.sms.outbox(RAMESH_MOBILE))
    await gateway.whatsapp(whatsapp_form(code.group(1)))
    await gateway.settle()
    bodies = [m["Body"] for m in gateway.providers.twilio() if "Body" in m]
    assert any(body.startswith("Linked to ramesh.kumar.") for body in bodies), bodies
