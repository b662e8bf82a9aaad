"""The resident's side of each channel: send a message or press a button, get the bot's answer.

- Web chat: the public API (`POST /webchat/messages`); the answer is in the response.
- WhatsApp and SMS: a webhook signed as Twilio signs it; the answer is what the bot then
  sent to the fake Twilio Messages API (tests/channels/providers.py) on 127.0.0.1.
- Telegram: an update with the webhook's secret header (a message, or a callback query for
  a pressed inline button); the answer is what reached the fake Bot API.

Channel turns run later, in the gateway's inbox and delivery loops; what the provider
received is collected once the stack's own database says the turn is finished
(`watcher.TurnWatcher`): no sleeping, no guessing.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from scripts.converse_eval.sms import segments
from scripts.converse_eval.watcher import TURN_TIMEOUT_S, TurnWatcher
from tests.channels.harness import (
    TELEGRAM_SECRET,
    sms_form,
    telegram_press,
    telegram_text,
    twilio_signature,
    whatsapp_form,
)
from tests.channels.providers import Providers

_OPTION = re.compile(r"^\s*(\d{1,2})[.)]\s+(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Button:
    title: str
    send: str  # what pressing it sends: the payload, the option's number or callback data


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: tuple[Button, ...] = ()
    sms_segments: int = 0  # SMS only: what this message cost


@dataclass
class Answer:
    messages: list[BotMessage]
    callback_answered: bool | None = None  # Telegram button presses only


class ChannelClient(Protocol):
    channel: str

    def say(self, text: str) -> Answer: ...

    def press(self, button: Button) -> Answer: ...


class WebChat:
    channel = "webchat"

    def __init__(self, base_url: str, sender: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=TURN_TIMEOUT_S)
        self._sender = sender

    def say(self, text: str) -> Answer:
        response = self._http.post("/webchat/messages", json={"sender": self._sender, "text": text})
        response.raise_for_status()
        return Answer([_web_message(m) for m in response.json()["messages"]])

    def press(self, button: Button) -> Answer:
        return self.say(button.send)


def _web_message(raw: dict[str, Any]) -> BotMessage:
    buttons = tuple(Button(b["title"], b["payload"]) for b in raw.get("buttons") or ())
    text = raw.get("text") or ""
    if raw.get("attachment"):
        text = f"{text}\n{raw['attachment'].get('url', '')}".strip()
    return BotMessage(text, buttons)


class Twilio:
    """A WhatsApp or SMS resident writing from `mobile`."""

    def __init__(
        self, channel: str, base_url: str, providers: Providers, watcher: TurnWatcher, mobile: str
    ) -> None:
        self.channel = channel
        self._http = httpx.Client(base_url=base_url, timeout=30)
        self._base_url = base_url
        self._providers = providers
        self._watcher = watcher
        self._mobile = mobile
        self._to = f"whatsapp:{mobile}" if channel == "whatsapp" else mobile
        self._seen = 0

    def say(self, text: str) -> Answer:
        path = f"/channels/{self.channel}"
        form = (
            whatsapp_form(text, self._mobile)
            if self.channel == "whatsapp"
            else sms_form(text, self._mobile)
        )
        signature = twilio_signature(path, form, base_url=self._base_url)
        before = self._watcher.last_sequence()
        response = self._http.post(path, data=form, headers={"X-Twilio-Signature": signature})
        response.raise_for_status()
        self._watcher.wait(self.channel, form["MessageSid"], self._mobile, before)
        sent = [m for m in self._providers.twilio() if m.get("To") == self._to]
        new, self._seen = sent[self._seen :], len(sent)
        return Answer([self._message(m) for m in new])

    def press(self, button: Button) -> Answer:
        return self.say(button.send)

    def _message(self, params: dict[str, Any]) -> BotMessage:
        body = str(params.get("Body") or "")
        if params.get("MediaUrl"):
            body = f"{body}\n{params['MediaUrl']}".strip()
        options = tuple(Button(title, number) for number, title in _OPTION.findall(body))
        cost = segments(body) if self.channel == "sms" else 0
        return BotMessage(body, options, cost)


class Telegram:
    def __init__(
        self,
        base_url: str,
        providers: Providers,
        watcher: TurnWatcher,
        chat_id: int,
        language_code: str,
    ) -> None:
        self.channel = "telegram"
        self._http = httpx.Client(base_url=base_url, timeout=30)
        self._providers = providers
        self._watcher = watcher
        self._chat_id = chat_id
        self._language_code = language_code
        self._seen = 0

    def say(self, text: str) -> Answer:
        update = telegram_text(text, self._chat_id)
        update["message"]["from"]["language_code"] = self._language_code
        return self._post(update)

    def press(self, button: Button) -> Answer:
        update = telegram_press(button.send, self._chat_id)
        update["callback_query"]["from"]["language_code"] = self._language_code
        return self._post(update)

    def _post(self, update: dict[str, Any]) -> Answer:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        before = self._watcher.last_sequence()
        response = self._http.post("/channels/telegram", json=update, headers=headers)
        response.raise_for_status()
        chat = str(self._chat_id)
        self._watcher.wait("telegram", str(update["update_id"]), chat, before)
        answered = None
        if "callback_query" in update:
            body = response.json() if response.content else {}
            answered = body.get("method") == "answerCallbackQuery" or self._answered(
                update["callback_query"]["id"]
            )
        sent = [
            c.params
            for c in list(self._providers.calls)
            if c.api == "telegram"
            and c.method.startswith("send")
            and c.params.get("_ok")
            and str(c.params.get("chat_id")) == str(self._chat_id)
        ]
        new, self._seen = sent[self._seen :], len(sent)
        return Answer([_telegram_message(p) for p in new], answered)

    def _answered(self, query_id: str, within_s: float = 5.0) -> bool:
        """Whether the bot answered the callback query through the Bot API. The gateway may
        do that in the background: a missing answer is given a few seconds to arrive."""
        deadline = time.monotonic() + within_s
        while True:
            if any(
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
                for c in list(self._providers.calls)
            ):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _telegram_message(params: dict[str, Any]) -> BotMessage:
    text = str(params.get("text") or params.get("caption") or "")
    if params.get("document"):
        text = f"{text}\n{params['document']}".strip()
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = (markup or {}).get("inline_keyboard") or []
    buttons = tuple(Button(b["text"], str(b.get("callback_data", ""))) for row in rows for b in row)
    return BotMessage(text, buttons)
