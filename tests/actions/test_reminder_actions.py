"""The reminder settings screen against a real container (migrated SQLite): "set reminder"
shows the settings with masked account buttons; button payloads pick an account or change
one setting, which is stored and reschedules; a bad choice changes nothing."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.reminders import ActionSetReminder, ActionStopReminders
from app.bootstrap import Container
from bot.model.billing import SavedAccount, Utility
from bot.model.reminders import ReminderKind
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from tests.gateway.conftest import (
    JVVNL,
    RAMESH_NUMBER,
    link_webchat,
)

OTHER_NUMBER = "210100004321"


def tracker(
    sender: str, option: str | None = None, language: str = "en", account: str | None = None
) -> Tracker:
    entities = [] if option is None else [{"entity": "reminder_option", "value": option}]
    return Tracker(
        sender_id=sender,
        slots={"language": language, "reminder_account": account},
        latest_message={
            "text": "reminder settings",
            "intent": {"name": "set_reminder"},
            "entities": entities,
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


async def _two_accounts(container: Container, resident_id: str) -> list[SavedAccount]:
    accounts = [
        SavedAccount("acc-1", resident_id, Utility.ELECTRICITY, JVVNL, RAMESH_NUMBER),
        SavedAccount("acc-2", resident_id, Utility.ELECTRICITY, JVVNL, OTHER_NUMBER),
    ]
    async with container.uow() as tx:
        for account in accounts:
            await tx.accounts.add(account)
        await tx.commit()
    return accounts


async def _press(
    container: Container,
    cid: str,
    option: str | None,
    account: str | None = None,
    language: str = "en",
) -> tuple[list[dict[str, Any]], str | None]:
    dispatcher = CollectingDispatcher()
    events = await ActionSetReminder().run(dispatcher, tracker(cid, option, language, account), {})
    slot = [e["value"] for e in events if e["event"] == "slot" and e["name"] == "reminder_account"]
    return dispatcher.messages, slot[-1] if slot else account


async def test_settings_buttons_change_all_accounts_or_one(container: Container) -> None:
    cid = await link_webchat(container, "resident-ramesh", "ramesh.kumar")
    await _two_accounts(container, "resident-ramesh.kumar")

    messages, account = await _press(container, cid, None)
    assert [m["response"] for m in messages] == [
        "utter_reminders_on",
        "utter_reminder_settings_all",
    ]
    screen = messages[1]
    assert screen["days"] == 3 and screen["due_day"] == screen["overdue"] == "✅"
    titles = [b["title"] for b in screen["buttons"]]
    assert any("••••8912" in t for t in titles) and any("••••4321" in t for t in titles)
    assert RAMESH_NUMBER not in str(messages) and OTHER_NUMBER not in str(messages)
    assert account is None
    [other] = [b for b in screen["buttons"] if "••••4321" in b["title"]]
    other_option = other["payload"].split('"')[-2]  # /set_reminder{"reminder_option": "account_n"}

    # All accounts: 7 days before.
    messages, account = await _press(container, cid, "days_7")
    assert [m["response"] for m in messages] == [
        "utter_reminder_settings_saved",
        "utter_reminder_settings_all",
    ]
    assert messages[1]["days"] == 7

    # The second account only: due day off.
    messages, account = await _press(container, cid, other_option)
    assert messages[0]["response"] == "utter_reminder_settings_account" and account == "acc-2"
    assert "••••4321" in messages[0]["account"]
    messages, account = await _press(container, cid, "due_day", account, language="hi")
    assert messages[1]["response"] == "utter_reminder_settings_account"
    assert messages[1]["due_day"] == "❌" and messages[1]["days"] == 7

    async with SqlUnitOfWorkFactory(container.engine)() as tx:
        own = await tx.consents.account_policies(["acc-1", "acc-2"])
        consent = await tx.consents.get("resident-ramesh.kumar")
    assert set(own) == {"acc-2"} and ReminderKind.DUE_DAY not in own["acc-2"].kinds
    assert (
        consent is not None and consent.days_before == 7 and ReminderKind.DUE_DAY in consent.kinds
    )

    # Back to all accounts.
    messages, account = await _press(container, cid, "account_all", account)
    assert messages[0]["response"] == "utter_reminder_settings_all" and account is None


async def test_a_bad_choice_changes_nothing_and_an_unlinked_chat_is_told_to_link(
    container: Container,
) -> None:
    cid = await link_webchat(container, "resident-sunita", "sunita.devi")
    await _two_accounts(container, "resident-sunita.devi")

    for bad in ("account_9", "account_x", "days_5", "everything"):
        messages, account = await _press(container, cid, bad)
        assert [m["response"] for m in messages] == [
            "utter_reminder_option_invalid",
            "utter_reminder_settings_all",
        ]
        assert messages[1]["days"] == 3 and account is None
    messages, _ = await _press(container, cid, "days_1", account="acc-of-someone-else")
    assert messages[1]["response"] == "utter_reminder_settings_all"  # an unknown slot: all
    async with SqlUnitOfWorkFactory(container.engine)() as tx:
        assert await tx.consents.account_policies(["acc-1", "acc-2"]) == {}

    stranger = CollectingDispatcher()
    await ActionSetReminder().run(stranger, tracker("nobody", "days_1"), {})
    await ActionStopReminders().run(stranger, tracker("nobody"), {})
    assert [m["response"] for m in stranger.messages] == ["utter_not_linked", "utter_not_linked"]
