"""A real container (migrated SQLite, seeded sandbox) behind the gateway app, with the
dialogue engine replaced by a fake so no Rasa is needed, and helpers to link a chat and
pay a bill the way a resident would."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.bootstrap import Container, bootstrap
from app.gateway.app import create_app
from app.settings import Settings
from bot.model.outbound import OutboundMessage
from bot.model.payments import Payment
from bot.model.residents import Channel, Language, Resident
from bot.services.turns import TurnService
from integrations.billers.catalog import load_billers
from integrations.db.engine import make_engine
from integrations.db.migrate import upgrade
from integrations.sandbox import apply_seed, load_seed
from tests.fakes import FakeClock, FakeDialogueEngine
from tests.gateway.rasa_double import free_port

BASE_URL = "http://gateway.test"
WEBHOOK_SECRET = "gateway-test-webhook-secret"
JVVNL, RAMESH_NUMBER = "JVVNL0000RAJ01", "210145678912"

ContainerFactory = Callable[..., Awaitable[Container]]


def web_sender(name: str) -> str:
    """A contract caller's own web chat sender id: a session is started for an id of at
    least 32 characters (bot/services/webchat_sessions.py); the name keeps tests readable."""
    return f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:32]}"


class GatedDialogue:
    """A dialogue engine whose turns take a while, recording how many overlap per
    conversation and overall (to check that the gateway serialises per conversation)."""

    def __init__(self, delay_s: float = 0.05) -> None:
        self.delay_s = delay_s
        self.running: dict[str, int] = {}
        self.max_per_conversation = 0
        self.max_overall = 0

    async def question_open(self, conversation_id: str) -> bool:
        return False

    async def converse(
        self,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel = Channel.WEBCHAT,
        message_key: str = "",
    ) -> list[OutboundMessage]:
        self.running[conversation_id] = self.running.get(conversation_id, 0) + 1
        self.max_per_conversation = max(self.max_per_conversation, self.running[conversation_id])
        self.max_overall = max(self.max_overall, sum(self.running.values()))
        await asyncio.sleep(self.delay_s)
        self.running[conversation_id] -= 1
        return [OutboundMessage(text=text)]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated and seeded SQLite file, copied for each test (migrating takes ~0.5 s)."""
    path = tmp_path_factory.mktemp("gateway") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)

    async def seed() -> None:
        engine = make_engine(url)
        try:
            await apply_seed(engine, load_seed(billers=load_billers()))
        finally:
            await engine.dispose()

    asyncio.run(seed())
    return path


@pytest.fixture
async def make_container(tmp_path: Path, seeded_template: Path) -> AsyncIterator[ContainerFactory]:
    """Builds containers on a fresh copy of the seeded database; Rasa and the action server
    point at closed ports unless the test says otherwise."""
    built: list[Container] = []
    database = tmp_path / "t.db"
    shutil.copyfile(seeded_template, database)

    async def make(**overrides: Any) -> Container:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{database}",
            "app_secret_key": SecretStr("gateway-test-app-secret"),
            "razorpay_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "rasa_api_token": SecretStr("rasa-test-token"),
            "public_base_url": BASE_URL,
            "rasa_port": free_port(),
            "action_server_port": free_port(),
        }
        values.update(overrides)
        container = bootstrap(Settings(**values), clock=FakeClock())
        built.append(container)
        return container

    yield make
    for container in built:
        await container.close()


@pytest.fixture
def dialogue() -> FakeDialogueEngine:
    return FakeDialogueEngine()


@pytest.fixture
async def container(make_container: ContainerFactory, dialogue: FakeDialogueEngine) -> Container:
    container = await make_container()
    container.turns = TurnService(
        container.uow, container.clock, dialogue, handoff=container.handoff
    )
    return container


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def clock(container: Container) -> FakeClock:
    assert isinstance(container.clock, FakeClock)
    return container.clock


# --- a resident who links the chat and asks to pay ----------------------------------------
@dataclass
class OpenPayment:
    sender: str
    conversation_id: str
    payment: Payment


async def link_webchat(container: Container, sender: str, sso_id: str) -> str:
    """Link the web chat `sender` to the sandbox holder of `sso_id`, as a verified OTP does.

    Written directly rather than through LinkingService.start/verify: on SQLite that path
    deadlocks with the sandbox SMS sender (see the report to the lead).
    """
    # The sender's session first, as its first message would: a web chat address that has
    # a conversation but no session is an id from before sessions, and refused.
    await container.webchat_sessions.resolve(sender, from_contract=True)
    conversation = await container.conversations.open(Channel.WEBCHAT, sender)
    holder = await container.sso.lookup(sso_id)
    assert holder is not None
    async with container.uow() as tx:
        resident = Resident(
            resident_id=f"resident-{sso_id}",
            sso_id=sso_id,
            name=holder.name,
            mobile=holder.mobile,
            language=holder.language,
            linked_at=container.clock.now(),
        )
        await tx.residents.add(resident)
        conversation.resident_id = resident.resident_id
        await tx.conversations.update(conversation)
        await tx.commit()
    return conversation.conversation_id


@pytest.fixture
async def open_payment(container: Container) -> OpenPayment:
    sender = web_sender("resident-ramesh")
    conversation_id = await link_webchat(container, sender, "ramesh.kumar")
    payment, _ = await container.payments.request_link(conversation_id, JVVNL, RAMESH_NUMBER)
    assert payment.link_id
    return OpenPayment(sender, conversation_id, payment)


def razorpay_event(
    name: str,
    link_id: str,
    reference_id: str,
    amount_paise: int,
    payment_id: str = "pay_T3stPaym3nt001",
) -> dict[str, Any]:
    """A Razorpay webhook body with the fields the gateway reads, as Razorpay shapes them."""
    payload: dict[str, Any] = {
        "payment_link": {
            "entity": {
                "id": link_id,
                "entity": "payment_link",
                "amount": amount_paise,
                "amount_paid": amount_paise if name == "payment_link.paid" else 0,
                "reference_id": reference_id,
                "status": "paid" if name == "payment_link.paid" else "expired",
            }
        }
    }
    if name == "payment_link.paid":
        payload["payment"] = {
            "entity": {
                "id": payment_id,
                "entity": "payment",
                "amount": amount_paise,
                "status": "captured",
            }
        }
    return {"entity": "event", "event": name, "contains": list(payload), "payload": payload}


def signed(
    body: dict[str, Any], event_id: str, secret: str = WEBHOOK_SECRET
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": signature,
        "X-Razorpay-Event-Id": event_id,
    }
    return raw, headers
