"""The core loop over WhatsApp on the real trained model: signed Twilio webhooks in, replies
out through twilio's own client to a fake Twilio API on 127.0.0.1, numbered options, the
receipt as a PDF media URL pushed after the payment."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.channels.harness import twilio_signature, whatsapp_form
from tests.e2e.conftest import Chat, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class WhatsAppResident:
    def __init__(self, stack: Stack, mobile: str) -> None:
        self.stack = stack
        self.mobile = mobile
        self.http = httpx.Client(base_url=stack.base_url, timeout=30)

    def say(self, text: str, settle_s: float = 1.5) -> list[dict]:
        """Send one message; return what the bot sent back once it has gone quiet."""
        seen = len(self.stack.twilio.twilio())
        form = whatsapp_form(text, self.mobile)
        signature = twilio_signature("/channels/whatsapp", form, base_url=self.stack.base_url)
        started = time.monotonic()
        response = self.http.post(
            "/channels/whatsapp", data=form, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200, response.text
        assert time.monotonic() - started < 1.0  # Twilio must get its answer fast
        return self._new_since(seen, settle_s)

    def _new_since(self, seen: int, settle_s: float) -> list[dict]:
        deadline, last_change, count = time.monotonic() + 30, time.monotonic(), seen
        while time.monotonic() < deadline:
            now = len(self.stack.twilio.twilio())
            if now != count:
                count, last_change = now, time.monotonic()
            elif count > seen and time.monotonic() - last_change > settle_s:
                break
            time.sleep(0.1)
        sent = self.stack.twilio.twilio()[seen:]
        assert sent, "the bot sent nothing back"
        assert all(m["To"] == f"whatsapp:{self.mobile}" for m in sent)
        return sent


def bodies(messages: list[dict]) -> str:
    return "\n".join(str(m.get("Body", "")) for m in messages)


IRFAN_MOBILE = "+919783100003"  # sandbox: Rajasthan State Gas 2100456789, ₹742.00 due


def test_whatsapp_resident_links_checks_pays_and_gets_the_receipt(stack: Stack) -> None:
    resident = WhatsAppResident(stack, IRFAN_MOBILE)
    web = Chat(stack, "unused")  # only for the sandbox pages

    assert "bill assistant" in bodies(resident.say("Hi"))
    asked = bodies(resident.say("I want to pay my gas bill"))
    assert "link your SSO ID" in asked
    sent = bodies(resident.say("irfan.khan"))
    assert "If this SSO ID is registered" in sent and "0003" not in sent  # issue 13, finding 5

    companies = bodies(resident.say(web.latest_otp(IRFAN_MOBILE)))
    assert "linked" in companies
    rsgl = re.search(r"(\d+)\. RSGL\b", companies)
    assert rsgl, companies  # the companies come as numbered options

    resident.say(rsgl.group(1))
    answered = resident.say("2100456789")
    assert len(answered) == 1  # the bill and the question in one WhatsApp message
    confirm = bodies(answered)
    assert "₹742.00" in confirm and "fee ₹5.00 = ₹747.00" in confirm
    yes = re.search(r"(\d+)\. Yes", confirm)
    assert yes, confirm

    link = bodies(resident.say(yes.group(1)))
    link_id = re.search(r"/sandbox/pay/(plink_\w+)", link)
    assert link_id, link
    seen = len(stack.twilio.twilio())
    settled = web.http.post(f"/sandbox/pay/{link_id.group(1)}", json={"outcome": "success"})
    assert settled.status_code == 200 and settled.json()["status"] == "paid"

    pushed = resident._new_since(seen, settle_s=1.0)
    receipts = [m for m in pushed if m.get("MediaUrl")]
    assert len(receipts) == 1 and "Payment received" in receipts[0]["Body"]
    pdf = httpx.get(receipts[0]["MediaUrl"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
