"""Conversation repair inside the forms, run as the action server runs it: rasa-sdk trackers
against a real container (migrated SQLite, seeded sandbox)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.accounts import bill_slot
from actions.bill_form import ActionAskBiller, ValidateBillForm
from actions.billing import ActionShowBill, ActionStartBill
from actions.confirmation import ActionConfirmed, ValidateConfirmForm
from actions.linking import ValidateLinkForm
from app.bootstrap import Container
from tests.gateway.conftest import JVVNL, RAMESH_NUMBER, link_webchat

ANITA_TPADL = "4100567890"
KEDL, IRFAN_KEDL = "KEDLOB000RAJ02", "510412345678"
RSGL, IRFAN_RSGL = "RSGL00000RAJ01", "2100456789"


def form_tracker(
    sender: str,
    text: str,
    requested: str,
    candidates: dict[str, Any],
    form: str = "bill_form",
    intent: str = "inform",
    confidence: float = 0.9,
    channel: str = "webchat",
    entities: list[dict[str, Any]] | None = None,
    **slots: Any,
) -> Tracker:
    """What a form's validation action receives: the slot candidates of this message are the
    trailing slot events (rasa-sdk's `slots_to_validate`)."""
    return Tracker(
        sender_id=sender,
        slots={"language": "en", "linked": True, "requested_slot": requested, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
        },
        events=[
            {"event": "user", "text": text, "input_channel": channel},
            {"event": "action", "name": form},
            *[{"event": "slot", "name": k, "value": v} for k, v in candidates.items()],
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": form},
        latest_action_name=form,
    )


# What rasa-sdk reads of the domain to know a form's slots (the action server gets this part).
DOMAIN = {
    "forms": {
        "link_form": {"required_slots": ["sso_id", "otp"]},
        "bill_form": {"required_slots": ["utility", "biller", "consumer_number"]},
        "confirm_form": {"required_slots": ["confirmed"]},
    },
    "slots": {},
}


def said(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("response") or "" for m in dispatcher.messages]


async def test_where_the_k_number_is_printed_comes_with_a_sample_bill_where_pictures_show(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    for channel, pictures in (("webchat", 1), ("sms", 0)):
        dispatcher = CollectingDispatcher()
        tracker = form_tracker(
            cid, "CID kya hai", "consumer_number", {"consumer_number": "CID kya hai"},
            intent="faq_consumer_number", channel=channel, utility="electricity", biller=JVVNL,
        )  # fmt: skip
        events = await ValidateBillForm().run(dispatcher, tracker, DOMAIN)

        assert said(dispatcher)[0] == "utter_explain_consumer_number"
        assert dispatcher.messages[0]["param_name"] == "K Number"
        images = [m for m in dispatcher.messages if (m.get("custom") or {}).get("attachment")]
        assert len(images) == pictures, channel
        assert {"event": "slot", "name": "consumer_number", "value": None, "timestamp": None} in (
            events
        )  # asked again


async def test_a_tp_ajmer_number_given_for_avvnl_offers_tp_ajmer(container: Container) -> None:
    cid = await link_webchat(container, "web-anita", "anita.rathore")
    dispatcher = CollectingDispatcher()
    tracker = form_tracker(
        cid, ANITA_TPADL, "consumer_number", {"consumer_number": ANITA_TPADL},
        utility="electricity", biller="AVVNL0000RAJ01",
    )  # fmt: skip

    await ValidateBillForm().run(dispatcher, tracker, DOMAIN)

    [offer] = dispatcher.messages
    assert offer["response"] == "utter_number_fits_other_biller" and offer["other"] == "TPADL"
    assert [b["title"] for b in offer["buttons"]] == ["TPADL"]
    assert f'"consumer_number": "{ANITA_TPADL}"' in offer["buttons"][0]["payload"]


async def test_ajmer_asks_which_of_its_two_companies_once(container: Container) -> None:
    cid = await link_webchat(container, "web-anita", "anita.rathore")
    dispatcher = CollectingDispatcher()
    tracker = form_tracker(
        cid, "Ajmer", "biller", {"biller": "ajmer"}, utility="electricity",
        entities=[{"entity": "biller", "value": "ajmer"}],
    )  # fmt: skip

    events = await ValidateBillForm().run(dispatcher, tracker, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["biller"] is None and dispatcher.messages == []  # asked next, by the form

    asking = form_tracker(cid, "Ajmer", "biller", {}, biller_choices=slots["biller_choices"])
    await ActionAskBiller().run(dispatcher, asking, DOMAIN)

    [asked] = dispatcher.messages
    assert asked["response"] == "utter_biller_ambiguous" and asked["town"] == "Ajmer"
    assert [b["title"] for b in asked["buttons"]] == ["TPADL", "AVVNL"]  # not all seven


async def test_nothing_due_offers_the_residents_other_accounts(container: Container) -> None:
    """No dead end: KEDL has nothing due, but the same resident's gas bill is unpaid."""
    cid = await link_webchat(container, "web-irfan", "irfan.khan")
    await container.billing.fetch(cid, RSGL, IRFAN_RSGL)  # saved, and due
    kedl = await container.billing.fetch(cid, KEDL, IRFAN_KEDL)
    assert not kedl.bill.is_due
    dispatcher = CollectingDispatcher()
    tracker = form_tracker(
        cid, IRFAN_KEDL, "", {}, biller=KEDL, consumer_number=IRFAN_KEDL, bill=bill_slot(kedl.bill)
    )

    await ActionShowBill().run(dispatcher, tracker, DOMAIN)

    assert said(dispatcher) == ["utter_nothing_due", "utter_other_accounts_due"]
    [button] = dispatcher.messages[1]["buttons"]
    assert "RSGL" in button["title"] and IRFAN_RSGL in button["payload"]


async def test_check_my_bill_with_one_saved_account_goes_straight_to_it(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    await container.billing.fetch(cid, JVVNL, RAMESH_NUMBER)
    tracker = form_tracker(cid, "check my bill", "", {}, intent="check_bill")

    events = await ActionStartBill().run(CollectingDispatcher(), tracker, {})

    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["biller"] == JVVNL and slots["consumer_number"] == RAMESH_NUMBER
    assert events[-1] == {"event": "followup", "name": "bill_form", "timestamp": None}


async def test_unexpected_input_at_a_yes_no_question_asks_it_again(container: Container) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    for text, intent, answer in (
        (RAMESH_NUMBER, "inform", None),
        ("haan ji", "affirm", "yes"),
        ("nahi", "deny", "no"),
        ("1", "inform", None),  # an option number arrives as its payload, resolved earlier
        ("Pay now", "pay_bill", "yes"),
    ):
        dispatcher = CollectingDispatcher()
        tracker = form_tracker(
            cid, text, "confirmed", {"confirmed": text}, form="confirm_form", intent=intent,
            pending_confirmation="pay",
        )  # fmt: skip
        events = await ValidateConfirmForm().run(dispatcher, tracker, DOMAIN)

        slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
        assert slots["confirmed"] == answer, text
        assert (said(dispatcher) == ["utter_please_yes_no"]) is (answer is None), text


async def test_a_no_to_erasing_changes_nothing(container: Container) -> None:
    cid = await link_webchat(container, "web-ramesh", "ramesh.kumar")
    dispatcher = CollectingDispatcher()
    tracker = form_tracker(
        cid, "nahi", "", {}, intent="deny", pending_confirmation="delete_data", confirmed="no"
    )

    await ActionConfirmed().run(dispatcher, tracker, DOMAIN)

    assert said(dispatcher) == ["utter_ok"]
    assert await container.conversations.resident(cid) is not None


async def test_a_question_back_at_the_sso_id_is_explained_not_looked_up(
    container: Container,
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_tracker(
        "web-new", "SSO ID kya hoti hai?", "sso_id", {"sso_id": "SSO ID kya hoti hai?"},
        form="link_form", intent="faq_sso_id", linked=False,
    )  # fmt: skip

    events = await ValidateLinkForm().run(dispatcher, tracker, DOMAIN)

    assert said(dispatcher) == ["utter_explain_sso_id"]
    assert {"event": "slot", "name": "sso_id", "value": None, "timestamp": None} in events


async def test_a_typed_yes_takes_the_company_the_number_fits(container: Container) -> None:
    cid = await link_webchat(container, "web-anita", "anita.rathore")
    offered = CollectingDispatcher()
    typed = form_tracker(
        cid, ANITA_TPADL, "consumer_number", {"consumer_number": ANITA_TPADL},
        utility="electricity", biller="AVVNL0000RAJ01",
    )  # fmt: skip
    events = await ValidateBillForm().run(offered, typed, DOMAIN)
    offer = {e["name"]: e["value"] for e in events if e["event"] == "slot"}["offered_biller"]
    assert offer == f"TPADL0000RAJ01|{ANITA_TPADL}"

    answered = CollectingDispatcher()
    yes = form_tracker(
        cid, "yes", "consumer_number", {"consumer_number": "yes"}, intent="affirm",
        utility="electricity", biller="AVVNL0000RAJ01", offered_biller=offer,
    )  # fmt: skip
    events = await ValidateBillForm().run(answered, yes, DOMAIN)

    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["biller"] == "TPADL0000RAJ01" and slots["consumer_number"] == ANITA_TPADL
    assert slots["bill"]["biller_id"] == "TPADL0000RAJ01"  # fetched: the bill comes next
