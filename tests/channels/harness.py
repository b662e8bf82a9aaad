"""The gateway served by uvicorn on 127.0.0.1 (lifespan, background loops and all), with
WhatsApp, SMS and Telegram on and pointed at fake provider APIs on 127.0.0.1, a seeded
SQLite database and a scripted dialogue engine instead of Rasa."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from app.bootstrap import Container
from app.gateway.app import create_app
from app.gateway.delivery import ChannelRuntime
from bot.errors import NotLinked, OtpLockedOut, TooManyOtpRequests
from bot.model.outbound import Button, OutboundMessage
from bot.model.residents import Channel, Language
from bot.services.turns import TurnService
from tests.channels.providers import ACCOUNT_SID, AUTH_TOKEN, BOT_TOKEN, Providers, serving
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    ContainerFactory,
    make_container,
    seeded_template,
)
from tests.gateway.rasa_double import free_port

PUBLIC_BASE_URL = "https://bot.example.in"  # what Twilio calls: the gateway sits behind a proxy
TELEGRAM_SECRET = "telegram-channel-test-secret"
WHATSAPP_FROM = "whatsapp:+14155238886"
SMS_FROM = "+15005550006"
JVVNL, RAMESH_NUMBER = "JVVNL0000RAJ01", "210145678912"
RAMESH_MOBILE = "+919829100001"
MENU = (
    Button("Check my bill", "/check_bill"),
    Button("Pay my bill", "/pay_bill"),
)


def twilio_signature(
    path: str, form: dict[str, str], token: str = AUTH_TOKEN, base_url: str = PUBLIC_BASE_URL
) -> str:
    """X-Twilio-Signature as Twilio computes it (written out, not taken from the library
    under test): base64 HMAC-SHA1 of the URL followed by the sorted params."""
    data = base_url + path + "".join(k + form[k] for k in sorted(form))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class ScriptedDialogue:
    """Stands in for Rasa and the action server: a few rules that call the real use cases,
    enough for link → bill → pay → receipt."""

    def __init__(self) -> None:
        self.container: Container | None = None
        self.turns: list[tuple[str, str, Language]] = []
        self.keys: list[str] = []  # each turn's message key
        self.delay_s = 0.0
        self.asking: set[str] = set()  # conversations in the middle of a question (a form)

    async def question_open(self, conversation_id: str) -> bool:
        return conversation_id in self.asking

    async def converse(
        self,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel = Channel.WEBCHAT,
        message_key: str = "",
    ) -> list[OutboundMessage]:
        self.turns.append((conversation_id, text, language))
        self.keys.append(message_key)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        try:
            return await self._answer(conversation_id, text)
        except NotLinked:
            return [OutboundMessage(text="Please link your SSO ID first.")]

    async def _answer(self, conversation_id: str, text: str) -> list[OutboundMessage]:
        c = self.container
        assert c is not None
        if text in ("/greet", "hi", "hello"):
            return [OutboundMessage(text="Namaste! What would you like to do?", buttons=MENU)]
        if re.fullmatch(r"[a-z]+\.[a-z]+", text):
            try:
                started = await c.linking.start(conversation_id, text)
            except (TooManyOtpRequests, OtpLockedOut) as refused:
                return [OutboundMessage(text=f"Refused: {type(refused).__name__}.")]
            return [OutboundMessage(text=f"Code sent if {started.sso_id} is registered.")]
        if re.fullmatch(r"\d{6}", text):
            resident = await c.linking.verify(conversation_id, text)
            return [OutboundMessage(text=f"Linked to {resident.sso_id}.", buttons=MENU)]
        if text == "/check_bill":
            fetched = await c.billing.fetch(conversation_id, JVVNL, RAMESH_NUMBER)
            return [
                OutboundMessage(
                    text=f"Bill {fetched.bill.bill_number}: {fetched.bill.outstanding_paise} paise",
                    buttons=MENU[1:],
                )
            ]
        if text == "/pay_bill":
            payment, _ = await c.payments.request_link(conversation_id, JVVNL, RAMESH_NUMBER)
            return [OutboundMessage(text=f"Pay here: {payment.link_url}")]
        return [OutboundMessage(text=f"echo: {text}")]


@dataclass
class Gateway:
    url: str
    container: Container
    runtime: ChannelRuntime
    providers: Providers
    dialogue: ScriptedDialogue
    http: httpx.AsyncClient

    async def whatsapp(
        self, form: dict[str, str], signature: str | None = "sign"
    ) -> httpx.Response:
        return await self._twilio("/channels/whatsapp", form, signature)

    async def sms(self, form: dict[str, str], signature: str | None = "sign") -> httpx.Response:
        return await self._twilio("/channels/sms", form, signature)

    async def _twilio(
        self, path: str, form: dict[str, str], signature: str | None
    ) -> httpx.Response:
        headers = {}
        if signature == "sign":
            headers["X-Twilio-Signature"] = twilio_signature(path, form)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self.http.post(self.url + path, data=form, headers=headers)

    async def telegram(
        self, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET
    ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.http.post(self.url + "/channels/telegram", json=update, headers=headers)

    async def settle(self) -> None:
        await self.runtime.idle()


_sids = iter(range(1, 1_000_000))


def whatsapp_form(body: str, sender: str = RAMESH_MOBILE, **extra: str) -> dict[str, str]:
    sid = f"SM{next(_sids):032d}"
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{sender}",
        "To": WHATSAPP_FROM,
        "Body": body,
        "NumMedia": "0",
    }
    form.update(extra)
    return form


def sms_form(body: str, sender: str = RAMESH_MOBILE, **extra: str) -> dict[str, str]:
    form = whatsapp_form(body, sender, **extra)
    form["From"], form["To"] = sender, SMS_FROM
    return form


_updates = iter(range(500_000, 1_000_000))
CHAT_ID = 777000111


def telegram_text(text: str, chat_id: int = CHAT_ID) -> dict[str, Any]:
    update_id = next(_updates)
    user = {"id": chat_id, "is_bot": False, "first_name": "Ramesh", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1736915400,
            "chat": {"id": chat_id, "type": "private", "first_name": "Ramesh"},
            "from": user,
            "text": text,
        },
    }


def telegram_press(data: str, chat_id: int = CHAT_ID) -> dict[str, Any]:
    update_id = next(_updates)
    user = {"id": chat_id, "is_bot": False, "first_name": "Ramesh"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": user,
            "chat_instance": "ci1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 1736915400,
                "chat": {"id": chat_id, "type": "private"},
                "text": "menu",
            },
        },
    }


@pytest.fixture
def providers() -> Iterator[Providers]:
    with serving() as fake:
        yield fake


@pytest.fixture
async def gateway(
    make_container: ContainerFactory,  # noqa: F811
    providers: Providers,
) -> AsyncIterator[Gateway]:
    port = free_port()
    container = await make_container(
        public_base_url=PUBLIC_BASE_URL,
        gateway_port=port,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_whatsapp_from=WHATSAPP_FROM,
        twilio_sms_from=SMS_FROM,
        twilio_api_base_url=providers.base_url,
        telegram_bot_token=SecretStr(BOT_TOKEN),
        telegram_webhook_secret=SecretStr(TELEGRAM_SECRET),
        telegram_api_base_url=providers.base_url,
        twilio_template_receipt_en="HXreceipten",
        twilio_template_receipt_hi="HXreceipthi",
        twilio_template_notice_en="HXnoticeen",
        channel_send_timeout_s=2.0,
        channel_retry_base_s=0.05,
        channel_poll_interval_s=0.2,
    )
    dialogue = ScriptedDialogue()
    dialogue.container = container
    container.turns = TurnService(
        container.uow, container.clock, dialogue, handoff=container.handoff
    )
    app = create_app(container)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    serve = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            yield Gateway(
                url=f"http://127.0.0.1:{port}",
                container=container,
                runtime=app.state.channel_runtime,
                providers=providers,
                dialogue=dialogue,
                http=http,
            )
    finally:
        server.should_exit = True
        # Bounded: once in ~10 runs the graceful shutdown after two simultaneous deliveries
        # waited forever (seen in CI, cause not found yet); force it rather than hang the suite.
        done, _ = await asyncio.wait({serve}, timeout=15)
        if not done:
            server.force_exit = True
            await asyncio.wait({serve}, timeout=5)
