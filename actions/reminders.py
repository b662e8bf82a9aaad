"""Reminders from the dialogue: "remind me" / "stop reminders", and the settings screen
(days before, which kinds, for all saved accounts or one), driven by button payloads
`/set_reminder{"reminder_option": "..."}` that need no NLU training (the intent has its
examples; the entity only comes from buttons)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import account_label
from actions.forms import LISTEN, is_certain, turn_of
from actions.runtime import ResidentAction, language, services
from bot.model.identifiers import ascii_digits
from bot.model.reminders import ALL_KINDS, ReminderKind
from bot.services.reminders import PolicyChange, ReminderSettingsView

ACCOUNT_SLOT = "reminder_account"
OPTION_ENTITY = "reminder_option"
DAYS = {"days_1": 1, "days_3": 3, "days_7": 7}
TOGGLES = {kind.value: kind for kind in ALL_KINDS}  # a bill policy's kinds


def _payload(option: str) -> str:
    return f'/set_reminder{{"{OPTION_ENTITY}": "{option}"}}'


def _account_label(view: ReminderSettingsView, account_id: str) -> str:
    return account_label(next(a for a in view.accounts if a.account_id == account_id))


def show_settings(
    dispatcher: CollectingDispatcher, view: ReminderSettingsView, account_id: str | None
) -> None:
    """The settings of all accounts (the resident's policy) or of one, with the buttons: the
    fixed ones come from the response, one per saved account is added here."""
    policy = view.policy_for(account_id)

    def mark(kind: ReminderKind) -> str:
        return "✅" if kind in policy.kinds else "❌"

    values = {
        "days": policy.days_before,
        "new_bill": mark(ReminderKind.NEW_BILL),
        "before_due": mark(ReminderKind.BEFORE_DUE),
        "due_day": mark(ReminderKind.DUE_DAY),
        "overdue": mark(ReminderKind.OVERDUE),
    }
    buttons = [
        {"title": "⚙️ " + _account_label(view, a.account_id), "payload": _payload(f"account_{n}")}
        for n, a in enumerate(view.accounts, start=1)
        if a.account_id != account_id
    ]
    if account_id is None:
        dispatcher.utter_message(response="utter_reminder_settings_all", buttons=buttons, **values)
    else:
        dispatcher.utter_message(
            response="utter_reminder_settings_account",
            buttons=buttons,
            account=_account_label(view, account_id),
            **values,
        )


class _ToggleReminders(ResidentAction, ABC):
    enabled: bool

    @abstractmethod
    def name(self) -> str: ...

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        resident = await services().conversations.resident(tracker.sender_id)
        if resident is None:
            dispatcher.utter_message(response="utter_not_linked")
            return []
        option = next(tracker.get_latest_entity_values(OPTION_ENTITY), None)
        if self.enabled and option is None:
            option = typed_option(turn_of(tracker).text)
        if self.enabled and option is not None:  # a button of the settings screen
            return await settings_button(dispatcher, tracker, resident.resident_id, str(option))
        if not self.enabled:
            if not is_certain(turn_of(tracker), "stop_reminders"):
                return [
                    SlotSet("pending_confirmation", "stop_reminders"),
                    FollowupAction("confirm_form"),
                ]
            return [*await stop_reminders(dispatcher, tracker), FollowupAction(LISTEN)]
        await services().reminder_consents.set_enabled(
            resident.resident_id, tracker.sender_id, language(tracker), self.enabled
        )
        dispatcher.utter_message(response="utter_reminders_on")
        view = await services().reminder_settings.view(
            resident.resident_id, tracker.sender_id, language(tracker)
        )
        show_settings(dispatcher, view, None)
        return [SlotSet(ACCOUNT_SLOT, None)]


_DAYS_TYPED = re.compile(r"\b([137])\s*(?:day|days|din|दिन)\b", re.IGNORECASE)


def typed_option(text: str) -> str | None:
    """A settings button typed instead of pressed: "remind me 7 days before", "3 din pehle"."""
    found = _DAYS_TYPED.search(ascii_digits(text))
    return f"days_{found.group(1)}" if found else None


async def stop_reminders(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """Turn the resident's reminders off (a clear request, or the yes to "stop them?")."""
    resident = await services().conversations.resident(tracker.sender_id)
    if resident is None:
        dispatcher.utter_message(response="utter_not_linked")
        return []
    await services().reminder_consents.set_enabled(
        resident.resident_id, tracker.sender_id, language(tracker), False
    )
    dispatcher.utter_message(response="utter_reminders_off")
    return []


class ActionSetReminder(_ToggleReminders):
    enabled = True

    def name(self) -> str:
        return "action_set_reminder"


class ActionStopReminders(_ToggleReminders):
    enabled = False

    def name(self) -> str:
        return "action_stop_reminders"


async def settings_button(
    dispatcher: CollectingDispatcher, tracker: Tracker, resident_id: str, option: str
) -> list[dict[str, Any]]:
    """One button of the settings screen: pick the account, or change one setting of the
    account picked (all accounts until one is). Anything else changes nothing."""
    settings = services().reminder_settings
    cid, lang = tracker.sender_id, language(tracker)
    view = await settings.view(resident_id, cid, lang)
    ids = [a.account_id for a in view.accounts]
    target = tracker.get_slot(ACCOUNT_SLOT)
    if target not in ids:
        target = None
    change: PolicyChange | None = None
    if option == "account_all":
        target = None
    elif option.startswith("account_"):
        number = option.removeprefix("account_")
        if not (number.isdigit() and 1 <= int(number) <= len(ids)):
            dispatcher.utter_message(response="utter_reminder_option_invalid")
            show_settings(dispatcher, view, target)
            return [SlotSet(ACCOUNT_SLOT, target)]
        target = ids[int(number) - 1]
    elif option in DAYS:
        change = PolicyChange(days_before=DAYS[option])
    elif option in TOGGLES:
        change = PolicyChange(toggle=TOGGLES[option])
    elif option != "show":
        dispatcher.utter_message(response="utter_reminder_option_invalid")
        show_settings(dispatcher, view, target)
        return [SlotSet(ACCOUNT_SLOT, target)]
    if change is not None:
        view = await settings.change(resident_id, cid, lang, target, change)
        dispatcher.utter_message(response="utter_reminder_settings_saved")
    show_settings(dispatcher, view, target)
    return [SlotSet(ACCOUNT_SLOT, target)]
