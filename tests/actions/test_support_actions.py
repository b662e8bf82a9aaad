"""The support actions against a real container (migrated SQLite, seeded sandbox): the
complaint form offers the resident's payments, refuses a bad choice politely, raises the
complaint; tracking answers only the resident's own; talk to a person queues the chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.support import (
    ActionAskComplaintPayment,
    ActionRaiseComplaint,
    ActionTalkToHuman,
    ActionTrackComplaint,
    ValidateComplaintForm,
)
from app.bootstrap import Container
from bot.model.calendar import IST
from bot.model.complaints import ComplaintStatus, Disposition
from bot.model.handoff import HandoffStatus
from tests.fakes import FakeClock
from tests.gateway.conftest import (
    JVVNL,
    RAMESH_NUMBER,
    link_webchat,
)


def tracker(
    sender: str,
    text: str = "",
    language: str = "en",
    intent: str = "x",
    confidence: float = 0.95,
    **slots: Any,
) -> Tracker:
    return Tracker(
        sender_id=sender,
        slots={"language": language, **slots},
        latest_message={"text": text, "intent": {"name": intent, "confidence": confidence}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": "complaint_form"},
        latest_action_name=None,
    )


async def test_a_complaint_against_a_recent_payment_from_question_to_id(
    container: Container,
) -> None:
    cid = await link_webchat(container, "resident-ramesh", "ramesh.kumar")
    payment, _ = await container.payments.request_link(cid, JVVNL, RAMESH_NUMBER)
    dispatcher = CollectingDispatcher()

    await ActionAskComplaintPayment().run(dispatcher, tracker(cid), {})
    [asked] = dispatcher.messages
    assert asked["response"] == "utter_ask_complaint_payment"
    assert [b["payload"] for b in asked["buttons"]] == ["1", "service"]
    assert "••••8912" in asked["buttons"][0]["title"] and RAMESH_NUMBER not in str(asked)

    form = ValidateComplaintForm()
    assert await form.validate_complaint_payment("7", dispatcher, tracker(cid), {}) == {
        "complaint_payment": None
    }
    assert dispatcher.messages[-1]["response"] == "utter_complaint_choice_invalid"
    assert await form.validate_complaint_payment("1", dispatcher, tracker(cid), {}) == {
        "complaint_payment": payment.payment_id
    }
    assert await form.validate_complaint_disposition("3", dispatcher, tracker(cid), {}) == {
        "complaint_disposition": "not_credited"
    }
    assert await form.validate_complaint_description("ok", dispatcher, tracker(cid), {}) == {
        "complaint_description": None
    }

    done = CollectingDispatcher()
    events = await ActionRaiseComplaint().run(
        done,
        tracker(
            cid,
            complaint_payment=payment.payment_id,
            complaint_disposition="not_credited",
            complaint_description="Money went but JVVNL shows the bill unpaid",
        ),
        {},
    )
    [raised] = done.messages
    assert raised["response"] == "utter_complaint_raised"
    complaint_id = raised["complaint_id"]
    stored = await container.complaints.status(cid, complaint_id)
    assert (
        stored.disposition is Disposition.NOT_CREDITED and stored.payment_id == payment.payment_id
    )
    assert all(e["value"] is None for e in events if e["event"] == "slot")

    await container.complaints.change_status(complaint_id, ComplaintStatus.RESOLVED)
    track = CollectingDispatcher()
    await ActionTrackComplaint().run(
        track, tracker(cid, f"status of {complaint_id.lower()}", language="hi"), {}
    )
    [status] = track.messages
    assert status["response"] == "utter_complaint_status" and status["status"] == "सुलझ गई"


async def test_tracking_someone_elses_complaint_or_no_number_gets_a_polite_answer(
    container: Container,
) -> None:
    ramesh = await link_webchat(container, "resident-ramesh", "ramesh.kumar")
    sunita = await link_webchat(container, "resident-sunita", "sunita.devi")
    complaint = await container.complaints.raise_complaint(ramesh, Disposition.SERVICE, "slow")
    dispatcher = CollectingDispatcher()

    await ActionTrackComplaint().run(dispatcher, tracker(sunita, complaint.complaint_id), {})
    await ActionTrackComplaint().run(dispatcher, tracker(sunita, "status of my complaint"), {})

    assert [m["response"] for m in dispatcher.messages] == [
        "utter_complaint_not_found",
        "utter_ask_complaint_id",
    ]


async def test_a_service_complaint_needs_no_payment(container: Container) -> None:
    cid = await link_webchat(container, "resident-irfan", "irfan.khan")
    dispatcher = CollectingDispatcher()
    form = ValidateComplaintForm()

    await ActionAskComplaintPayment().run(dispatcher, tracker(cid), {})
    picked = await form.validate_complaint_payment("service", dispatcher, tracker(cid), {})

    assert dispatcher.messages[0]["response"] == "utter_ask_complaint_no_payments"
    assert picked == {"complaint_payment": "service", "complaint_disposition": "service"}


async def test_talk_to_a_person_queues_the_chat_and_says_when_outside_hours(
    container: Container,
) -> None:
    cid = await link_webchat(container, "resident-gopal", "gopal.choudhary")
    clock = container.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime(2026, 11, 29, 11, 0, tzinfo=IST))  # a Sunday
    dispatcher = CollectingDispatcher()

    asked = tracker(
        cid, "mujhe kisi insaan se baat karni hai", language="hi", intent="talk_to_human"
    )
    events = await ActionTalkToHuman().run(dispatcher, asked, {})

    [said] = dispatcher.messages
    assert said["response"] == "utter_handoff_after_hours"
    assert said["when"] == "30 नवंबर 2026, 09:00 IST"
    [queued] = await container.handoff.queue()
    assert queued.handoff.status is HandoffStatus.WAITING
    assert queued.transcript[0].text == "mujhe kisi insaan se baat karni hai"
    assert events == [{"event": "followup", "name": "action_listen", "timestamp": None}]


async def test_an_unsure_guess_of_wanting_a_person_asks_before_queueing(
    container: Container,
) -> None:
    """The bot falls silent while a chat waits for an agent: an unrelated message the NLU
    only guessed to be a request for a person must not put the resident there."""
    cid = await link_webchat(container, "resident-gopal", "gopal.choudhary")
    dispatcher = CollectingDispatcher()
    guessed = tracker(cid, "मेरा काम अभी तक नहीं हुआ", intent="talk_to_human", confidence=0.55)

    events = await ActionTalkToHuman().run(dispatcher, guessed, {})

    assert await container.handoff.queue() == []
    assert {
        "event": "slot",
        "name": "pending_confirmation",
        "value": "talk_to_human",
        "timestamp": None,
    } in events
    assert {"event": "followup", "name": "confirm_form", "timestamp": None} in events
