""" "Bill ki copy bhejo" through the actions, as the action server runs them: rasa-sdk trackers
against a real container (migrated SQLite, seeded sandbox)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.accounts import bill_slot
from actions.bill_form import ValidateBillForm
from actions.billing import ActionShowBill, ActionStartBill
from actions.linking import ActionLinkCompleted
from actions.repair import Move, Turn, decide
from app.bootstrap import Container
from app.gateway.app import create_app
from tests.actions.test_repair_actions import DOMAIN, form_tracker
from tests.gateway.conftest import BASE_URL, JVVNL, RAMESH_NUMBER, link_webchat

KEDL, IRFAN_KEDL = "KEDLOB000RAJ02", "510412345678"
RSGL, IRFAN_RSGL = "RSGL00000RAJ01", "2100456789"
AVVNL, RAMESH_AVVNL = "AVVNL0000RAJ01", "310267894501"
PRIYA_TIMES_OUT = "210199999999"  # the sandbox's JVVNL account whose biller times out


def tracker(
    sender: str,
    text: str = "bill ki copy bhejo",
    intent: str = "bill_copy",
    entities: list[dict[str, Any]] | None = None,
    language: str = "en",
    **slots: Any,
) -> Tracker:
    return Tracker(
        sender_id=sender,
        slots={"language": language, "linked": True, "goal": "copy", **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": entities or [],
        },
        events=[{"event": "user", "text": text, "input_channel": "webchat"}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def followup(events: list[dict[str, Any]]) -> str | None:
    return next((e["name"] for e in events if e["event"] == "followup"), None)


def attachment_of(dispatcher: CollectingDispatcher) -> dict[str, str]:
    [attached] = [m["custom"]["attachment"] for m in dispatcher.messages if m.get("custom")]
    return dict(attached)


async def test_one_saved_account_goes_straight_to_its_bill_with_the_copy_goal(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    await container.billing.fetch(cid, JVVNL, RAMESH_NUMBER)
    dispatcher = CollectingDispatcher()

    events = await ActionStartBill().run(dispatcher, tracker(cid), DOMAIN)

    slots = slot_events(events)
    assert (slots["biller"], slots["consumer_number"]) == (JVVNL, RAMESH_NUMBER)
    assert "goal" not in slots  # "copy", from the intent's mapping, is kept
    assert followup(events) == "bill_form"


async def test_a_copy_asked_after_a_bill_was_shown_is_of_that_bill(container: Container) -> None:
    """Two saved accounts: "send me a copy" right after the AVVNL bill means that one."""
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    await container.billing.fetch(cid, JVVNL, RAMESH_NUMBER)
    shown = await container.billing.fetch(cid, AVVNL, RAMESH_AVVNL)
    dispatcher = CollectingDispatcher()

    events = await ActionStartBill().run(
        dispatcher, tracker(cid, "send me a copy of it", bill=bill_slot(shown.bill)), DOMAIN
    )

    slots = slot_events(events)
    assert (slots["biller"], slots["consumer_number"]) == (AVVNL, RAMESH_AVVNL)


@pytest.mark.parametrize("language", ["en", "hi"])
async def test_a_due_bill_comes_as_a_pdf_link_with_a_button_to_pay_it(
    container: Container, language: str
) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    fetched = await container.billing.fetch(cid, JVVNL, RAMESH_NUMBER)
    dispatcher = CollectingDispatcher()
    shown = tracker(
        cid, language=language, biller=JVVNL, consumer_number=RAMESH_NUMBER,
        bill=bill_slot(fetched.bill),
    )  # fmt: skip

    events = await ActionShowBill().run(dispatcher, shown, DOMAIN)

    said = dispatcher.messages[0]
    assert said["response"] == "utter_bill_copy"
    assert (said["biller"], said["consumer"], said["outstanding"]) == (
        "JVVNL",
        "••••8912",
        "₹3,107.50",
    )
    [pay] = said["buttons"]
    assert pay["title"] == ("Pay ₹3,107.50" if language == "en" else "₹3,107.50 भरें")
    assert pay["payload"].startswith("/pay_bill")
    assert json.loads(pay["payload"].removeprefix("/pay_bill")) == {
        "utility": "electricity",
        "biller": JVVNL,
        "consumer_number": RAMESH_NUMBER,
    }
    attached = attachment_of(dispatcher)
    assert attached["filename"] == "bill-JVVNL-8912.pdf"
    assert attached["mime"] == "application/pdf"
    url = urlsplit(attached["url"])
    assert url.path.startswith("/bills/") and RAMESH_NUMBER not in attached["url"]
    assert parse_qs(url.query)["lang"] == [language]
    slots = slot_events(events)
    assert slots["goal"] is None and slots["pending_confirmation"] is None  # no pay question
    assert followup(events) == "action_listen"


async def test_the_link_the_action_gives_downloads_that_bill(container: Container) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    fetched = await container.billing.fetch(cid, JVVNL, RAMESH_NUMBER)
    dispatcher = CollectingDispatcher()
    shown = tracker(cid, biller=JVVNL, consumer_number=RAMESH_NUMBER, bill=bill_slot(fetched.bill))
    await ActionShowBill().run(dispatcher, shown, DOMAIN)
    url = attachment_of(dispatcher)["url"]
    assert url.startswith(container.settings.public_base_url)

    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get(unquote(url.removeprefix(BASE_URL)))

    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


async def test_a_bill_with_nothing_due_still_comes_as_a_copy(container: Container) -> None:
    cid = await link_webchat(container, "web-irfan", "irfan.khan")
    fetched = await container.billing.fetch(cid, KEDL, IRFAN_KEDL)
    assert not fetched.bill.is_due
    dispatcher = CollectingDispatcher()

    await ActionShowBill().run(
        dispatcher,
        tracker(cid, biller=KEDL, consumer_number=IRFAN_KEDL, bill=bill_slot(fetched.bill)),
        DOMAIN,
    )

    assert dispatcher.messages[0]["response"] == "utter_bill_copy_paid"
    assert not dispatcher.messages[0].get("buttons")
    assert attachment_of(dispatcher)["filename"] == "bill-KEDL-5678.pdf"


async def test_a_shown_bill_without_the_copy_goal_still_asks_to_pay(container: Container) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    fetched = await container.billing.fetch(cid, JVVNL, RAMESH_NUMBER)
    dispatcher = CollectingDispatcher()

    events = await ActionShowBill().run(
        dispatcher,
        tracker(
            cid,
            intent="check_bill",
            goal="check",
            biller=JVVNL,
            consumer_number=RAMESH_NUMBER,
            bill=bill_slot(fetched.bill),
        ),
        DOMAIN,
    )

    assert dispatcher.messages[0]["response"] == "utter_bill"
    assert followup(events) == "confirm_form"


async def test_an_account_that_is_not_saved_gets_no_link(container: Container) -> None:
    """A bill in the slot whose account is not (or no longer) saved: the usual answer."""
    cid = await link_webchat(container, "web-irfan", "irfan.khan")
    fetched = await container.billing.fetch(cid, RSGL, IRFAN_RSGL)
    other = bill_slot(fetched.bill) | {"consumer_number": "2100000000"}
    dispatcher = CollectingDispatcher()

    events = await ActionShowBill().run(
        dispatcher, tracker(cid, biller=RSGL, consumer_number="2100000000", bill=other), DOMAIN
    )

    assert [m["response"] for m in dispatcher.messages] == ["utter_consumer_not_found"]
    assert slot_events(events)["goal"] is None


async def test_a_company_that_times_out_gets_the_polite_error_and_nothing_is_saved(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-priya", "priya.meena")
    dispatcher = CollectingDispatcher()
    asked = form_tracker(
        cid, PRIYA_TIMES_OUT, "consumer_number", {"consumer_number": PRIYA_TIMES_OUT},
        utility="electricity", biller=JVVNL, goal="copy",
    )  # fmt: skip

    events = await ValidateBillForm().run(dispatcher, asked, DOMAIN)

    assert [m["response"] for m in dispatcher.messages] == ["utter_biller_unavailable"]
    assert slot_events(events)["consumer_number"] is None  # the number is asked again
    assert await container.billing.saved_accounts(cid) == []


async def test_linking_first_carries_on_to_the_copy(container: Container) -> None:
    cid = await link_webchat(container, "web-sunita", "sunita.devi")
    dispatcher = CollectingDispatcher()
    linked = tracker(cid, text="123456", intent="inform", language="hi", linked=False)

    events = await ActionLinkCompleted().run(dispatcher, linked, DOMAIN)

    assert followup(events) == "action_start_bill"


@pytest.mark.parametrize(
    ("form", "slot", "expected"),
    [
        ("link_form", "sso_id", (Move.DIGRESS, "utter_link_first")),
        ("bill_form", "utility", (Move.RESTART, None)),
        ("confirm_form", "confirmed", (Move.SWITCH, "action_start_bill")),
    ],
)
def test_a_copy_asked_inside_a_form(
    form: str, slot: str, expected: tuple[Move, str | None]
) -> None:
    repair = decide(form, slot, Turn("bill ki copy bhejo", "bill_copy", 0.9), fits=False)

    assert (repair.move, repair.target) == expected


@pytest.mark.parametrize("form", ["link_form", "bill_form", "confirm_form"])
def test_is_this_message_real_is_answered_inside_any_form(form: str) -> None:
    repair = decide(form, "sso_id", Turn("ye message asli hai kya", "faq_fraud", 0.7), fits=False)

    assert (repair.move, repair.target) == (Move.DIGRESS, "utter_faq_fraud")


@pytest.mark.parametrize("intent", ["inform", "pay_bill"])
async def test_a_button_naming_a_whole_account_fetches_that_bill_at_once(
    container: Container, intent: str
) -> None:
    """A saved account's button (/inform) or the copy's "Pay ₹…" (/pay_bill) fills all three
    of the bill form's slots: none of them is taken for a correction of another."""
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    entities = {"utility": "electricity", "biller": JVVNL, "consumer_number": RAMESH_NUMBER}
    payload = f"/{intent}{json.dumps(entities)}"
    started = Tracker(
        sender_id=cid,
        slots={"language": "en", "linked": True, "requested_slot": None, **entities},
        latest_message={
            "text": payload,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": [{"entity": k, "value": v} for k, v in entities.items()],
        },
        events=[
            {"event": "user", "text": payload, "input_channel": "webchat"},
            {"event": "action", "name": "action_start_bill"},
            *[{"event": "slot", "name": k, "value": v} for k, v in entities.items()],
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": "bill_form"},
        latest_action_name="action_start_bill",
    )

    events = await ValidateBillForm().run(CollectingDispatcher(), started, DOMAIN)

    slots = slot_events(events)
    assert (slots["biller"], slots["consumer_number"]) == (JVVNL, RAMESH_NUMBER)
    assert slots["bill"]["outstanding_paise"] == 3_107_50
