"""Reminder consent through the trained model and the web chat: asked before linking, noted at
linking, turned off with "reminder mat bhejo" and back on, then changed with the settings buttons."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Chat, Stack, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_reminders_are_consented_at_linking_and_toggled_by_the_resident(stack: Stack) -> None:
    chat = Chat(stack, f"e2e-rem-{uuid.uuid4().hex[:8]}")

    assert "link your SSO ID first" in text_of(chat.say("stop reminders"))

    chat.say("link my SSO ID")
    chat.say("anita.rathore")
    linked = text_of(chat.say(chat.latest_otp("+917014100006")))
    assert "remind you here" in linked and "stop reminders" in linked

    assert "no more bill reminders" in text_of(chat.say("reminder mat bhejo"))
    back_on = text_of(chat.say("turn on bill reminders"))
    assert "Bill reminders are on" in back_on and "3 days before" in back_on

    # The settings buttons: their payloads go through the real model without NLU.
    changed = text_of(chat.say('/set_reminder{"reminder_option": "days_7"}'))
    assert "Saved" in changed and "7 days before" in changed
    bad = text_of(chat.say('/set_reminder{"reminder_option": "days_99"}'))
    assert "nothing was changed" in bad and "7 days before" in bad
