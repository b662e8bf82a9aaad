"""Telegram over real HTTP: Bot API updates in, python-telegram-bot's Bot out to a fake API."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.channels.harness import CHAT_ID, Gateway, telegram_press, telegram_text

pytestmark = pytest.mark.asyncio


def _keyboard(sent: dict[str, object]) -> list[list[dict[str, str]]]:
    markup = sent["reply_markup"]
    data = json.loads(markup) if isinstance(markup, str) else markup
    assert isinstance(data, dict)
    rows: list[list[dict[str, str]]] = data["inline_keyboard"]
    return rows


async def test_a_message_with_the_secret_is_answered_with_an_inline_keyboard(
    gateway: Gateway,
) -> None:
    response = await gateway.telegram(telegram_text("/start"))

    assert response.status_code == 200
    await gateway.settle()
    assert [t for _, t, _ in gateway.dialogue.turns] == ["/greet"]
    (sent,) = gateway.providers.telegram("sendMessage")
    assert int(sent["chat_id"]) == CHAT_ID
    assert sent["text"] == "Namaste! What would you like to do?"
    assert _keyboard(sent) == [
        [{"text": "Check my bill", "callback_data": "/check_bill"}],
        [{"text": "Pay my bill", "callback_data": "/pay_bill"}],
    ]


@pytest.mark.parametrize("secret", [None, "not-the-secret"], ids=["missing", "wrong"])
async def test_an_update_without_the_secret_is_403_and_changes_nothing(
    gateway: Gateway, secret: str | None
) -> None:
    response = await gateway.telegram(telegram_text("hi"), secret=secret)

    assert response.status_code == 403
    await gateway.settle()
    assert gateway.dialogue.turns == []
    assert gateway.providers.calls == []


async def test_a_pressed_button_sends_its_payload_and_its_spinner_is_stopped(
    gateway: Gateway,
) -> None:
    """The tap is answered through the Bot API (answerCallbackQuery), which Telegram
    confirms, rather than in the webhook's response, which it never confirms."""
    press = telegram_press("/check_bill")
    response = await gateway.telegram(press)

    assert response.status_code == 200
    await gateway.settle()
    assert [t for _, t, _ in gateway.dialogue.turns] == ["/check_bill"]
    [answered] = gateway.providers.telegram("answerCallbackQuery")
    assert answered["callback_query_id"] == press["callback_query"]["id"]


async def test_the_same_update_id_twice_even_at_once_is_answered_once(gateway: Gateway) -> None:
    update = telegram_text("hello")
    responses = await asyncio.gather(*(gateway.telegram(update) for _ in range(3)))

    assert {r.status_code for r in responses} == {200}
    await gateway.settle()
    assert len(gateway.dialogue.turns) == 1
    assert len(gateway.providers.telegram("sendMessage")) == 1


async def test_a_429_is_waited_out_for_retry_after_then_sent_once(gateway: Gateway) -> None:
    gateway.providers.fail_next(
        "telegram",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    await gateway.telegram(telegram_text("hello"))
    await gateway.settle()

    first, second = gateway.providers.attempts("telegram")
    assert second.at - first.at >= 0.95
    assert len(gateway.providers.telegram("sendMessage")) == 1


async def test_a_voice_note_gets_a_polite_request_to_type(gateway: Gateway) -> None:
    update = telegram_text("x")
    del update["message"]["text"]
    update["message"]["voice"] = {"file_id": "v1", "file_unique_id": "u1", "duration": 3}
    assert (await gateway.telegram(update)).status_code == 200
    await gateway.settle()

    assert gateway.dialogue.turns == []
    (sent,) = gateway.providers.telegram("sendMessage")
    assert "Please type your message" in sent["text"]


async def test_replies_to_one_chat_are_spaced_a_second_apart(gateway: Gateway) -> None:
    for text in ("a", "b"):
        await gateway.telegram(telegram_text(text))
    await gateway.settle()

    first, second = gateway.providers.attempts("telegram")
    assert [first.params["text"], second.params["text"]] == ["echo: a", "echo: b"]
    assert second.at - first.at >= 0.95
