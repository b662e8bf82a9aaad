"""Planned-outage notices through the running stack: a resident saves an electricity account
on the web chat (or on WhatsApp), the sandbox company announces a shutdown on it
(POST /sandbox/outages), and the stack's own reminder loop pushes the notice once.

A stack of its own, with its own residents (tests/e2e/seeds/outages.yml), fast discovery
and no quiet hours, so that the test means the same at any time of day and the notices
land in no other test's chat."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.channels.providers import Providers
from tests.e2e.conftest import Chat, Stack, running_stack, text_of
from tests.e2e.test_whatsapp_on_real_model import WhatsAppResident, bodies

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEED = Path(__file__).parent / "seeds" / "outages.yml"
MEERA, MEERA_MOBILE, MEERA_JVVNL = "meera.joshi", "+919000017001", "210177770001"
KAVITA, KAVITA_MOBILE, KAVITA_AVVNL = "kavita.sharma", "+919000017002", "310277770002"


@pytest.fixture(scope="module")
def outage_stack(
    tmp_path_factory: pytest.TempPathFactory, fake_twilio: Providers
) -> Iterator[Stack]:
    env = {
        "SANDBOX_SEED_PATH": str(SEED),
        "REMINDER_QUIET_HOURS": "off",
        "REMINDER_DISCOVERY_INTERVAL_S": "2",
        "REMINDER_DISPATCH_INTERVAL_S": "1",
    }
    with running_stack(tmp_path_factory.mktemp("outage-stack"), fake_twilio, env) as stack:
        yield stack


def announce(chat: Chat, biller_id: str, number: str, reason: str) -> datetime:
    starts_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    response = chat.http.post(
        "/sandbox/outages",
        json={
            "biller_id": biller_id,
            "consumer_numbers": [number],
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=4)).isoformat(),
            "reason": reason,
            "area": "Shipra Path feeder",
        },
    )
    assert response.status_code in (200, 201), response.text
    return starts_at


def wait_for(poll, needle: str, seconds: float = 45) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.extend(poll())
        if any(needle in text for text in seen):
            return seen
        time.sleep(0.5)
    pytest.fail(f"no {needle!r} within {seconds} s; got {seen}")


def test_a_planned_outage_reaches_the_web_chat_once(outage_stack: Stack) -> None:
    chat = Chat(outage_stack, "e2e-outage-web")
    chat.say("I want to link my SSO ID")
    chat.say(MEERA)
    assert "linked" in text_of(chat.say(chat.latest_otp(MEERA_MOBILE)))
    chat.say("/check_bill")
    chat.say('/inform{"utility": "electricity"}')
    chat.say('/inform{"biller": "JVVNL0000RAJ01"}')
    assert "₹1,430.00" in text_of(chat.say(MEERA_JVVNL))  # the account is saved now
    chat.pushed()  # whatever was pushed before the announcement

    starts_at = announce(chat, "JVVNL0000RAJ01", MEERA_JVVNL, "Transformer maintenance")
    texts = wait_for(lambda: [m["text"] for m in chat.pushed()], "Planned power cut")

    notice = next(text for text in texts if "Planned power cut" in text)
    local = starts_at.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert f"{local:%H:%M}" in notice and "IST" in notice
    assert "••••0001" in notice and MEERA_JVVNL not in notice
    assert "Transformer maintenance" in notice and "Shipra Path feeder" in notice
    assert notice.endswith("We never ask for card details.")
    # Several discovery and dispatch rounds later: still the one notice.
    time.sleep(6)
    later = [m["text"] for m in chat.pushed()]
    assert not [t for t in later if "Planned power cut" in t]


def test_a_planned_outage_reaches_whatsapp_in_hindi(outage_stack: Stack) -> None:
    resident = WhatsAppResident(outage_stack, KAVITA_MOBILE)
    web = Chat(outage_stack, "e2e-outage-sandbox")  # only for the sandbox pages
    resident.say("मुझे अपनी SSO ID जोड़नी है")
    resident.say(KAVITA)
    sent = bodies(resident.say(web.latest_otp(KAVITA_MOBILE)))
    company = re.search(r"(\d+)\. AVVNL\b", sent)
    if company is None:  # the bill question first
        sent = bodies(resident.say("बिजली का बिल"))
        company = re.search(r"(\d+)\. AVVNL\b", sent)
    assert company, sent
    resident.say(company.group(1))
    assert "980" in bodies(resident.say(KAVITA_AVVNL))  # ₹980.00: the account is saved

    seen = len(outage_stack.twilio.twilio())
    announce(web, "AVVNL0000RAJ01", KAVITA_AVVNL, "Line maintenance")

    def poll() -> list[str]:
        nonlocal seen
        new = outage_stack.twilio.twilio()[seen:]
        seen += len(new)
        return [str(m.get("Body", "")) for m in new if m["To"] == f"whatsapp:{KAVITA_MOBILE}"]

    texts = wait_for(poll, "नियोजित बिजली कटौती")
    notice = next(text for text in texts if "नियोजित बिजली कटौती" in text)
    assert "Line maintenance" in notice and "0002" in notice and KAVITA_AVVNL not in notice
    assert notice.endswith("हम कार्ड नंबर नहीं माँगते।")
