"""WhatsApp through Twilio: numbered options instead of buttons, receipts as PDF documents
by URL, and Meta's 24-hour rule.

Inside the customer-service window (24 h after the resident's last message) any text goes;
outside it only a template approved by Meta, sent as `ContentSid` + `ContentVariables`
(plain-text "templates" fail since April 2025, error 63016). Templates are configured per
message kind (receipt, notice) and language; with none configured a message outside the
window is not sent at all rather than sent to fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime

from bot.errors import DeliveryFailed
from bot.model.channels import Delivery
from bot.model.residents import Channel, Language
from channels.options import numbered_text
from channels.twilio_api import WHATSAPP_PREFIX, TwilioMessages

# Twilio's limit for a WhatsApp body.
MAX_BODY_CHARS = 1600
# Meta refuses template variables with line breaks, tabs or more than 4 spaces in a row.
_VARIABLE_SPACE = re.compile(r"\s+")
MAX_VARIABLE_CHARS = 1000


def template_kind(delivery: Delivery) -> str:
    """Which approved template carries this message outside the window."""
    return "receipt" if delivery.message.attachment is not None else "notice"


def template_variables(delivery: Delivery) -> dict[str, str]:
    """{{1}}: the message text on one line; {{2}} (receipts): the receipt's link."""
    text = _VARIABLE_SPACE.sub(" ", delivery.message.text).strip()[:MAX_VARIABLE_CHARS]
    variables = {"1": text}
    if delivery.message.attachment is not None:
        variables["2"] = delivery.message.attachment.url
    return variables


def session_body(delivery: Delivery) -> str:
    text = numbered_text(delivery.message, delivery.language)
    if len(text) > MAX_BODY_CHARS:
        text = text[: MAX_BODY_CHARS - 1].rstrip() + "…"
    return text


class WhatsAppSender:
    channel = Channel.WHATSAPP

    def __init__(
        self,
        messages: TwilioMessages,
        from_address: str,
        templates: Mapping[tuple[str, Language], str],
    ) -> None:
        self._messages = messages
        sender = from_address.removeprefix(WHATSAPP_PREFIX)
        self._from = WHATSAPP_PREFIX + sender
        self._templates = {key: sid for key, sid in templates.items() if sid}

    async def send(self, delivery: Delivery) -> None:
        to = WHATSAPP_PREFIX + delivery.address
        if delivery.in_session_window:
            attachment = delivery.message.attachment
            media = {"media_url": [attachment.url]} if attachment is not None else {}
            await self._messages.create(
                to=to, from_=self._from, body=session_body(delivery), **media
            )
            return
        kind = template_kind(delivery)
        content_sid = self._templates.get((kind, delivery.language))
        if content_sid is None:
            raise DeliveryFailed(
                f"outside the 24-hour window and no {kind} template for {delivery.language.value}",
                permanent=True,
            )
        await self._messages.create(
            to=to,
            from_=self._from,
            content_sid=content_sid,
            content_variables=json.dumps(template_variables(delivery), ensure_ascii=False),
        )

    @property
    def longest_send_s(self) -> float:
        return self._messages.longest_create_s

    async def find_sent(self, delivery: Delivery, since: datetime) -> bool | None:
        """Twilio has it when a message to the resident since `since` holds its text (a
        template's body holds the text as its variable)."""
        text = (
            session_body(delivery)
            if delivery.in_session_window
            else template_variables(delivery)["1"]
        )
        return await self._messages.sent_since(
            WHATSAPP_PREFIX + delivery.address, self._from, since, text
        )

    async def aclose(self) -> None:
        await self._messages.aclose()
