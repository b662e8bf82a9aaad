"""The resident's rights over their data: see what is held, erase it (after a yes)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.linking import FORM_SLOTS
from actions.runtime import ResidentAction, language, services
from bot.model.calendar import format_datetime_ist
from bot.model.privacy import DataHeld
from bot.model.residents import Language

_CHANNELS = {"webchat": "web chat", "whatsapp": "WhatsApp", "sms": "SMS", "telegram": "Telegram"}
_NONE = {Language.EN: "none", Language.HI: "कोई नहीं"}


def describe(held: DataHeld, lang: Language) -> dict[str, str]:
    """The response's placeholders: every identifier masked, dates in IST."""
    consent = held.consent
    agreed = "-"
    if consent is not None and consent.consented_at is not None:
        agreed = f"{consent.notice_version}, {format_datetime_ist(consent.consented_at, lang)}"
    elif consent is not None:
        agreed = consent.notice_version
    chats = ", ".join(f"{_CHANNELS[c.value]} {address}" for c, address in held.chats)
    accounts = ", ".join(f"{a.biller_id} {a.masked_consumer_number}" for a in held.accounts)
    supply = ", ".join(
        f"{c.ticket_number} ({c.biller_id} {c.masked_consumer_number})"
        for c in held.supply_complaints
    )
    return {
        "sso_id": held.masked_sso_id,
        "name": held.masked_name,
        "mobile": held.masked_mobile,
        "email": held.masked_email or _NONE[lang],
        "linked_on": format_datetime_ist(held.linked_at, lang) if held.linked_at else "-",
        "chats": chats or _NONE[lang],
        "accounts": accounts or _NONE[lang],
        "power_complaints": supply or _NONE[lang],
        "payments": str(held.payments),
        "consent": agreed,
    }


class ActionMyData(ResidentAction):
    def name(self) -> str:
        return "action_my_data"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await tell_my_data(dispatcher, tracker)
        return []


async def tell_my_data(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """What is held about the person in this chat, masked (also asked in the middle of a form)."""
    held = await services().privacy.data_held(tracker.sender_id)
    response = "utter_my_data_linked" if held.linked else "utter_my_data_unlinked"
    dispatcher.utter_message(response=response, **describe(held, language(tracker)))


class ActionConfirmDeleteData(ResidentAction):
    """Erasure is only done after an explicit yes: the question is confirm_form's."""

    def name(self) -> str:
        return "action_confirm_delete_data"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return [SlotSet("pending_confirmation", "delete_data"), FollowupAction("confirm_form")]


async def delete_my_data(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """The yes to "erase everything I hold about you?"."""
    erasure = await services().privacy.erase(tracker.sender_id)
    dispatcher.utter_message(
        response="utter_data_deleted", payments=str(erasure.payments_deidentified)
    )
    return [
        SlotSet("linked", False),
        SlotSet("goal", None),
        SlotSet("bill", None),
        *[SlotSet(name, None) for name in FORM_SLOTS],
    ]
