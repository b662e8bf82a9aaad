"""Telegram through python-telegram-bot: webhook updates in, inline keyboards and documents out.

Updates are parsed with the library's own `Update.de_json`. A pressed inline button arrives
as a callback query carrying the button's payload (or its token, when the payload is longer
than the 64 bytes `callback_data` holds); the gateway answers the callback query through the
Bot API at once, so the button stops spinning.

Limits (Bot API): ~30 messages/s overall, 1/s per chat; a 429 says how long to wait.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.errors import DeliveryFailed, DeliveryUncertain
from bot.model.channels import (
    Delivery,
    InboundKind,
    InboundMessage,
    button_token,
)
from bot.model.outbound import OutboundMessage
from bot.model.residents import Channel, Language
from channels.pacing import Pacer

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 256 * 1024
MAX_TEXT_CHARS = 4096
MAX_CAPTION_CHARS = 1024
TELEGRAM_API_BASE_URL = "https://api.telegram.org"
# Telegram's own commands mean something to residents; the dialogue knows them as intents.
COMMANDS = {"/start": "/greet", "/help": "/help", "/menu": "/help"}


def verify_secret(expected: str, received: str | None) -> bool:
    """The webhook secret set with setWebhook(secret_token=…), compared in constant time."""
    if not expected or not received:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


def parse_update(
    data: Mapping[str, Any], now: datetime
) -> tuple[InboundMessage | None, str | None]:
    """The resident's message in an update, and the id of a callback query to answer.

    Updates we do not act on (edits, channel posts, member changes) give (None, None)."""
    update = Update.de_json(dict(data), None)
    external_id = str(update.update_id)
    user = update.effective_user
    hint = language_hint(user.language_code if user is not None else None)
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        chat_id = chat.id if chat is not None else query.from_user.id
        text = (query.data or "").strip()
        kind = InboundKind.TEXT if text else InboundKind.MEDIA
        return InboundMessage(
            Channel.TELEGRAM, external_id, str(chat_id), kind, text, now, hint
        ), query.id
    message = update.message
    if message is None:
        return None, None
    text = (message.text or message.caption or "").strip()
    command, _, _ = text.partition(" ")
    if command.split("@")[0] in COMMANDS:
        text = COMMANDS[command.split("@")[0]]
    kind = InboundKind.TEXT if text else InboundKind.MEDIA
    return InboundMessage(
        Channel.TELEGRAM, external_id, str(message.chat_id), kind, text, now, hint
    ), None


def language_hint(code: str | None) -> Language | None:
    """Telegram's `language_code` (IETF, "hi", "en-IN") as a first guess at the language."""
    primary = (code or "").split("-")[0].lower()
    return {"hi": Language.HI, "en": Language.EN}.get(primary)


def keyboard(message: OutboundMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    rows = [
        [InlineKeyboardButton(b.title, callback_data=button_token(b.payload))]
        for b in message.buttons
    ]
    return InlineKeyboardMarkup(rows)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    channel = Channel.TELEGRAM

    def __init__(
        self,
        token: str,
        api_base_url: str = TELEGRAM_API_BASE_URL,
        timeout_s: float = 10.0,
        pacer: Pacer | None = None,
        max_retries: int = 3,
    ) -> None:
        self._token = token
        self._base = api_base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._pacer = pacer or Pacer(per_second=30, per_key_interval_s=1.0)
        self._max_retries = max_retries
        self._bot: Bot | None = None

    def _client(self) -> Bot:
        if self._bot is None:
            request = HTTPXRequest(
                connect_timeout=self._timeout_s,
                read_timeout=self._timeout_s,
                write_timeout=self._timeout_s,
                media_write_timeout=self._timeout_s,
            )
            self._bot = Bot(
                self._token,
                base_url=f"{self._base}/bot",
                base_file_url=f"{self._base}/file/bot",
                request=request,
            )
        return self._bot

    async def send(self, delivery: Delivery) -> None:
        bot = self._client()
        message, chat_id = delivery.message, delivery.address
        markup = keyboard(message)
        attachment = message.attachment
        if attachment is None:
            await self._call(
                chat_id,
                lambda: bot.send_message(
                    chat_id, message.text[:MAX_TEXT_CHARS], reply_markup=markup
                ),
            )
            return
        caption: str | None = message.text
        if len(message.text) > MAX_CAPTION_CHARS:
            await self._call(
                chat_id, lambda: bot.send_message(chat_id, message.text[:MAX_TEXT_CHARS])
            )
            caption = None
            first = False
        else:
            first = True
        try:
            # By URL: Telegram fetches the signed, expiring receipt link itself.
            await self._call(
                chat_id,
                lambda: bot.send_document(
                    chat_id, attachment.url, caption=caption, reply_markup=markup
                ),
            )
        except DeliveryFailed as exc:
            if first:
                raise
            raise DeliveryUncertain("text sent, document not") from exc

    async def _call(self, chat_id: str, send: Any) -> None:
        for _ in range(self._max_retries + 1):
            await self._pacer.wait(chat_id)
            try:
                await asyncio.wait_for(send(), self._timeout_s * 2)
                return
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.warning("Telegram asks to wait %.1f s", wait)
                self._pacer.hold(chat_id, wait)
            except (TimedOut, asyncio.TimeoutError) as exc:
                raise DeliveryUncertain("Telegram did not answer in time") from exc
            except (BadRequest, Forbidden) as exc:
                # Blocked by the resident, chat gone, malformed: trying again cannot help.
                raise DeliveryFailed(f"Telegram refused: {exc.message}", permanent=True) from exc
            except NetworkError as exc:
                raise DeliveryFailed(f"Telegram unreachable: {exc.message}") from exc
            except TelegramError as exc:
                raise DeliveryFailed(f"Telegram error: {exc.message}") from exc
        raise DeliveryFailed("Telegram kept asking to wait")

    async def answer_callback(self, callback_query_id: str) -> None:
        """Acknowledge a pressed inline button (its spinner stops); never raises."""
        try:
            await asyncio.wait_for(
                self._client().answer_callback_query(callback_query_id), self._timeout_s
            )
        except (TelegramError, asyncio.TimeoutError) as exc:
            log.info("callback query not answered: %s", type(exc).__name__)

    async def aclose(self) -> None:
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None
