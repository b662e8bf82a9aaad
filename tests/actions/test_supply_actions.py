""" "Bijli nahi hai" through the actions, as the action server runs them: rasa-sdk trackers
against a real container (migrated SQLite, seeded sandbox electricity company)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.accounts import bill_slot
from actions.billing import ActionShowBill
from actions.confirmation import ActionAskConfirmed, ActionConfirmed
from actions.supply import ActionStartSupply
from actions.support import ActionTrackComplaint
from app.bootstrap import Container
from bot.model.billing import Bill
from tests.actions.test_bill_copy_actions import followup, slot_events
from tests.actions.test_repair_actions import DOMAIN
from tests.gateway.conftest import JVVNL, RAMESH_NUMBER, link_webchat

BKESL, GOPAL_BKESL = "BKESL0000RAJ02", "610523456789"


def tracker(sender: str, text: str = "bijli nahi hai", intent: str = "report_no_power",
            language: str = "en", entities: list[dict[str, Any]] | None = None,
            **slots: Any) -> Tracker:  # fmt: skip
    return Tracker(
        sender_id=sender,
        slots={"language": language, "linked": True, "goal": "supply", **slots},
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


def said(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


async def shown_bill(container: Container, cid: str, biller: str, number: str) -> Bill:
    return (await container.billing.fetch(cid, biller, number)).bill


async def test_one_electricity_account_goes_straight_to_the_question_on_it(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    await container.billing.fetch(cid, JVVNL, RAMESH_NUMBER)
    dispatcher = CollectingDispatcher()
    light = [{"entity": "utility", "value": "electricity", "start": 0, "end": 5}]

    events = await ActionStartSupply().run(
        dispatcher, tracker(cid, text="light chali gayi", entities=light), DOMAIN
    )

    slots = slot_events(events)
    assert (slots["utility"], slots["biller"], slots["consumer_number"]) == (
        "electricity",
        JVVNL,
        RAMESH_NUMBER,
    )
    assert slots["pending_confirmation"] == "supply" and followup(events) == "confirm_form"
    assert said(dispatcher) == ["utter_supply_no_outage_known"]


async def test_no_saved_electricity_account_asks_through_the_bill_form(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-sunita", "sunita.devi")

    events = await ActionStartSupply().run(CollectingDispatcher(), tracker(cid), DOMAIN)

    slots = slot_events(events)
    assert (slots["utility"], slots["biller"], slots["goal"]) == ("electricity", None, "supply")
    assert followup(events) == "bill_form"


async def test_the_found_connection_gets_its_outages_then_the_question_then_a_ticket(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-gopal", "gopal.choudhary")
    bill = await shown_bill(container, cid, BKESL, GOPAL_BKESL)
    slots: dict[str, Any] = {
        "biller": BKESL,
        "consumer_number": GOPAL_BKESL,
        "bill": bill_slot(bill),
    }
    dispatcher = CollectingDispatcher()

    events = await ActionShowBill().run(dispatcher, tracker(cid, language="hi", **slots), DOMAIN)

    assert said(dispatcher) == ["utter_supply_no_outage_known"]
    assert slot_events(events)["pending_confirmation"] == "supply"
    assert followup(events) == "confirm_form"
    question = CollectingDispatcher()
    await ActionAskConfirmed().run(
        question, tracker(cid, pending_confirmation="supply", **slots), DOMAIN
    )
    assert question.messages[0]["response"] == "utter_confirm_supply"
    assert question.messages[0]["consumer"] == "••••6789"

    done = CollectingDispatcher()
    events = await ActionConfirmed().run(
        done,
        tracker(cid, language="hi", pending_confirmation="supply", confirmed="yes", **slots),
        DOMAIN,
    )

    [registered] = done.messages
    assert registered["response"] == "utter_supply_registered"
    assert registered["ticket"].startswith("BKESL-NS-") and registered["biller"] == "BkESL"
    assert "लाइन टीम" in registered["status"]  # the status word in the chat's language
    assert slot_events(events)["goal"] is None

    status = CollectingDispatcher()
    await ActionTrackComplaint().run(
        status, tracker(cid, text="bijli ki complaint ka status", intent="track_complaint"), DOMAIN
    )
    assert said(status) == ["utter_supply_status"]
    assert status.messages[0]["ticket"] == registered["ticket"]


async def test_a_no_keeps_nothing_and_ends_the_goal(container: Container) -> None:
    cid = await link_webchat(container, "web-gopal", "gopal.choudhary")
    dispatcher = CollectingDispatcher()
    slots: dict[str, Any] = {"biller": BKESL, "consumer_number": GOPAL_BKESL}

    events = await ActionConfirmed().run(
        dispatcher, tracker(cid, pending_confirmation="supply", confirmed="no", **slots), DOMAIN
    )

    assert said(dispatcher) == ["utter_ok"]
    assert slot_events(events)["goal"] is None
    assert await container.sandbox.power.tickets(GOPAL_BKESL) == []


async def test_unknown_numbers_and_rjc_ids_are_not_power_complaints(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-gopal", "gopal.choudhary")

    unknown = CollectingDispatcher()
    await ActionTrackComplaint().run(
        unknown, tracker(cid, text="status of BKESL-NS-0000001", intent="track_complaint"), DOMAIN
    )
    nothing = CollectingDispatcher()
    await ActionTrackComplaint().run(
        nothing, tracker(cid, text="complaint ka status", intent="track_complaint"), DOMAIN
    )

    assert said(unknown) == ["utter_supply_complaint_not_found"]
    assert unknown.messages[0]["ticket"] == "BKESL-NS-0000001"
    assert said(nothing) == ["utter_ask_complaint_id"]  # no power complaints: ours, by id
