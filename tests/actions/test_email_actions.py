"""Email opt-in through the actions, as the action server runs them: rasa-sdk trackers
against a real container (migrated SQLite, seeded sandbox, the sandbox mail server)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.confirmation import ActionAskConfirmed, ActionConfirmed
from actions.email import ActionConfirmRemoveEmail, ActionEmailCompleted, ValidateEmailForm
from actions.repair import Move, Turn, decide
from actions.routing import ActionRouteInform
from app.bootstrap import Container
from tests.actions.test_bill_copy_actions import followup, slot_events, tracker
from tests.actions.test_repair_actions import DOMAIN, form_tracker
from tests.gateway.conftest import link_webchat

EMAIL_DOMAIN = {
    "forms": {**DOMAIN["forms"], "email_form": {"required_slots": ["email_address", "email_code"]}}
}
ADDRESS = "ramesh.k@gmail.com"


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def values(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    return next(m for m in dispatcher.messages if m.get("response") == response)


def address_turn(cid: str, text: str) -> Any:
    return form_tracker(
        cid, text, "email_address", {"email_address": text}, form="email_form", intent="inform"
    )


async def code_of(container: Container, address: str) -> str:
    (mail,) = await container.sandbox.email_outbox(address)
    match = re.search(r"\b(\d{6})\b", mail["text"])
    assert match
    return match.group(1)


async def test_an_address_sends_a_code_and_the_slot_keeps_it_masked(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-email-1", "ramesh.kumar")
    dispatcher = CollectingDispatcher()

    events = await ValidateEmailForm().run(
        dispatcher, address_turn(cid, f"it is {ADDRESS}"), EMAIL_DOMAIN
    )

    assert slot_events(events)["email_address"] == "r•••@gmail.com"
    assert values(dispatcher, "utter_email_code_sent")["email"] == "r•••@gmail.com"
    assert len(await container.sandbox.email_outbox(ADDRESS)) == 1


async def test_no_address_is_answered_and_asked_again_with_nothing_sent(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-email-2", "ramesh.kumar")
    dispatcher = CollectingDispatcher()

    events = await ValidateEmailForm().run(
        dispatcher, address_turn(cid, "ramesh at gmail"), EMAIL_DOMAIN
    )

    assert slot_events(events)["email_address"] is None
    assert responses(dispatcher) == ["utter_email_invalid"]
    assert await container.email_opt_in.pending(cid) is None


async def test_the_gateways_verdict_on_a_code_fills_or_re_asks(container: Container) -> None:
    cid = await link_webchat(container, "web-email-3", "ramesh.kumar")
    await container.email_opt_in.start(cid, ADDRESS)

    def verdict(result: str) -> Any:
        entities = [{"entity": "email_code_result", "value": result}]
        return form_tracker(
            cid,
            f'/inform{{"email_code_result": "{result}"}}',
            "email_code",
            {"email_code": result},
            form="email_form",
            entities=entities,
            email_address="r•••@gmail.com",
        )

    wrong = CollectingDispatcher()
    events = await ValidateEmailForm().run(wrong, verdict("wrong:4"), EMAIL_DOMAIN)
    assert slot_events(events)["email_code"] is None
    assert values(wrong, "utter_email_code_wrong")["attempts_left"] == "4"

    expired = CollectingDispatcher()
    events = await ValidateEmailForm().run(expired, verdict("expired"), EMAIL_DOMAIN)
    assert slot_events(events) == {"email_code": None, "email_address": None}  # a new address

    verified = CollectingDispatcher()
    events = await ValidateEmailForm().run(verified, verdict("verified"), EMAIL_DOMAIN)
    assert slot_events(events) == {"email_address": "confirmed", "email_code": "verified"}


async def test_a_code_that_did_not_come_is_resent_to_the_same_address(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-email-4", "ramesh.kumar")
    await container.email_opt_in.start(cid, ADDRESS)
    assert (
        decide(
            "email_form", "email_code", Turn("code nahi aaya", "otp_not_received", 0.9), False
        ).move
        is Move.RESEND
    )
    dispatcher = CollectingDispatcher()

    await ValidateEmailForm().resend(dispatcher, tracker(cid))

    assert values(dispatcher, "utter_email_code_resent")["email"] == "r•••@gmail.com"
    assert len(await container.sandbox.email_outbox(ADDRESS)) == 2


async def test_a_late_code_outside_the_form_completes_and_says_where_mail_goes(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-email-5", "ramesh.kumar")
    await container.email_opt_in.start(cid, ADDRESS)
    await container.email_opt_in.confirm(cid, await code_of(container, ADDRESS))
    entities = [{"entity": "email_code_result", "value": "verified"}]
    late = tracker(cid, '/inform{"email_code_result": "verified"}', "inform", entities)

    events = await ActionRouteInform().run(CollectingDispatcher(), late, EMAIL_DOMAIN)
    assert followup(events) == "action_email_completed"
    done = CollectingDispatcher()
    await ActionEmailCompleted().run(done, tracker(cid), EMAIL_DOMAIN)

    assert values(done, "utter_email_added")["email"] == "r•••@gmail.com"


async def test_removing_asks_with_the_masked_address_then_forgets_it(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-email-6", "ramesh.kumar")
    await container.email_opt_in.start(cid, ADDRESS)
    await container.email_opt_in.confirm(cid, await code_of(container, ADDRESS))

    events = await ActionConfirmRemoveEmail().run(CollectingDispatcher(), tracker(cid), {})
    assert slot_events(events)["pending_confirmation"] == "remove_email"
    assert followup(events) == "confirm_form"
    asked = CollectingDispatcher()
    await ActionAskConfirmed().run(asked, tracker(cid, pending_confirmation="remove_email"), {})
    assert values(asked, "utter_confirm_remove_email")["email"] == "r•••@gmail.com"

    no = CollectingDispatcher()
    await ActionConfirmed().run(
        no, tracker(cid, pending_confirmation="remove_email", confirmed="no"), {}
    )
    assert await container.email_opt_in.address(cid) == "r•••@gmail.com"  # a no changes nothing

    yes = CollectingDispatcher()
    await ActionConfirmed().run(
        yes, tracker(cid, pending_confirmation="remove_email", confirmed="yes"), {}
    )
    assert "utter_email_removed" in responses(yes)
    assert await container.email_opt_in.address(cid) is None


async def test_removing_with_no_address_says_so_and_asks_nothing(container: Container) -> None:
    cid = await link_webchat(container, "web-email-7", "ramesh.kumar")
    dispatcher = CollectingDispatcher()

    events = await ActionConfirmRemoveEmail().run(dispatcher, tracker(cid), {})

    assert responses(dispatcher) == ["utter_no_email"]
    assert followup(events) == "action_listen"


async def test_a_corrected_address_while_the_code_is_awaited_gets_the_code_instead(
    container: Container,
) -> None:
    cid = await link_webchat(container, "web-email-8", "ramesh.kumar")
    await container.email_opt_in.start(cid, "ramesh.k@gmial.com")
    typed = "sorry it is ramesh.k@gmail.com"
    dispatcher = CollectingDispatcher()

    events = await ValidateEmailForm().run(
        dispatcher,
        form_tracker(
            cid, typed, "email_code", {"email_code": typed}, form="email_form", intent="add_email"
        ),
        EMAIL_DOMAIN,
    )

    assert slot_events(events) == {"email_address": "r•••@gmail.com", "email_code": None}
    pending = await container.email_opt_in.pending(cid)
    assert pending is not None and pending.address == ADDRESS
    assert len(await container.sandbox.email_outbox(ADDRESS)) == 1
