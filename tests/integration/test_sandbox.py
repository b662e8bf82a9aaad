"""The embedded sandbox on a real SQLite file: seed, SSO, bills, payment links and their
signed webhooks (delivered to a real HTTP double), biller postings and SMS."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import BillerUnavailable, ConsumerNotFound, SmsUnavailable, UnknownPaymentLink
from bot.model.billing import Utility
from bot.model.payments import PaymentEventKind
from bot.ports import PaymentLinkRequest
from integrations.billers.catalog import load_billers
from integrations.db.engine import make_engine
from integrations.payments.razorpay_webhook import dedupe_key, parse_webhook
from integrations.sandbox import LinkClosedError, Sandbox
from tests.doubles.http_double import HttpDouble
from tests.fakes import FakeClock

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture
pytestmark = pytest.mark.asyncio

SECRET = "test-webhook-secret"
WEBHOOK_PATH = "/webhooks/payments"
NOW = datetime(2026, 12, 15, 5, 30, tzinfo=timezone.utc)
BILLERS = load_billers()


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def _sandbox(engine: AsyncEngine, clock: FakeClock, double: HttpDouble) -> Sandbox:
    return Sandbox(
        engine=engine,
        billers=BILLERS,
        public_base_url="http://127.0.0.1:8000",
        webhook_url=double.base_url + WEBHOOK_PATH,
        webhook_secret=SECRET,
        clock=clock,
    )


@pytest_asyncio.fixture
async def sandbox(engine: AsyncEngine, clock: FakeClock, http_double: HttpDouble) -> Sandbox:
    sandbox = _sandbox(engine, clock, http_double)
    await sandbox.apply_seed()
    http_double.reply("POST", WEBHOOK_PATH, json_body={"status": "processed"})
    return sandbox


def _request(
    reference_id: str = "pay_ref0000000001", amount_paise: int = 310750
) -> PaymentLinkRequest:
    return PaymentLinkRequest(
        reference_id=reference_id,
        amount_paise=amount_paise,
        description="JVVNL bill JV2612-4567891",
        customer_name="Ramesh Kumar Sharma",
        customer_mobile="+919829100001",
        expire_by=NOW + timedelta(minutes=30),
        callback_url="http://127.0.0.1:8000/payments/return",
    )


# --- seed ------------------------------------------------------------------------------------
async def test_the_seed_covers_every_utility_and_the_demo_cases(sandbox: Sandbox) -> None:
    accounts = list(sandbox.seed.accounts())
    assert len(sandbox.seed.residents) >= 6
    assert {account.utility for _, account in accounts} == set(Utility)
    assert len({account.biller_id for _, account in accounts}) >= 6
    electricity = [
        sum(a.utility is Utility.ELECTRICITY for a in r.accounts) for r in sandbox.seed.residents
    ]
    assert max(electricity) >= 2
    assert {r.language.value for r in sandbox.seed.residents} == {"en", "hi"}
    assert any(a.behaviour == "timeout" for _, a in accounts)
    assert any(all(b.status == "paid" for b in a.bills) for _, a in accounts)
    assert any(sum(b.status == "unpaid" for b in a.bills) >= 2 for _, a in accounts)


# --- SSO -------------------------------------------------------------------------------------
async def test_sso_lookup_ignores_case_and_knows_only_seeded_ids(sandbox: Sandbox) -> None:
    holder = await sandbox.sso.lookup("Ramesh.Kumar")

    assert holder is not None
    assert (holder.sso_id, holder.mobile) == ("ramesh.kumar", "+919829100001")
    assert await sandbox.sso.lookup("nobody.here") is None


# --- bills -----------------------------------------------------------------------------------
async def test_arrears_are_outstanding_and_the_latest_unpaid_bill_is_shown(
    sandbox: Sandbox,
) -> None:
    jvvnl = sandbox.billers.get("JVVNL0000RAJ01")

    bill = await sandbox.billers.fetch_bill(jvvnl, "210145678912", "+919829100001")

    assert bill.customer_name == "Ramesh Kumar Sharma"
    assert (bill.bill_number, bill.amount_paise) == ("JV2612-4567891", 186200)
    assert bill.outstanding_paise == 124550 + 186200
    assert bill.due_on.isoformat() == "2026-12-20"


async def test_an_account_with_everything_paid_has_nothing_due(sandbox: Sandbox) -> None:
    kedl = sandbox.billers.get("KEDLOB000RAJ02")

    bill = await sandbox.billers.fetch_bill(kedl, "510412345678", "+919783100003")

    assert bill.bill_number == "KE2612-2345678"
    assert not bill.is_due


async def test_an_unknown_consumer_is_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(ConsumerNotFound):
        await sandbox.billers.fetch_bill(sandbox.billers.get("JVVNL0000RAJ01"), "210100000000", "")


async def test_the_timeout_account_fails_quickly_as_unavailable(sandbox: Sandbox) -> None:
    started = time.monotonic()

    with pytest.raises(BillerUnavailable):
        await sandbox.billers.fetch_bill(sandbox.billers.get("JVVNL0000RAJ01"), "210199999999", "")
    assert time.monotonic() - started < 2


async def test_a_posted_payment_clears_the_account_once(sandbox: Sandbox) -> None:
    jvvnl = sandbox.billers.get("JVVNL0000RAJ01")

    first = await sandbox.billers.post_payment(
        jvvnl, "210145678912", "JV2612-4567891", 310750, "pay_ref0000000001"
    )
    again = await sandbox.billers.post_payment(
        jvvnl, "210145678912", "JV2612-4567891", 310750, "pay_ref0000000001"
    )

    assert first == again
    bill = await sandbox.billers.fetch_bill(jvvnl, "210145678912", "+919829100001")
    assert bill.outstanding_paise == 0
    # Another account of the same resident is untouched.
    avvnl = sandbox.billers.get("AVVNL0000RAJ01")
    assert (await sandbox.billers.fetch_bill(avvnl, "310267894501", "")).outstanding_paise == 234000


async def test_reseeding_keeps_paid_bills_paid_unless_reset(sandbox: Sandbox) -> None:
    jvvnl = sandbox.billers.get("JVVNL0000RAJ01")
    await sandbox.billers.post_payment(jvvnl, "210145678912", "JV2612-4567891", 310750, "pay_r1")

    await sandbox.apply_seed()
    assert (await sandbox.billers.fetch_bill(jvvnl, "210145678912", "")).outstanding_paise == 0

    await sandbox.apply_seed(reset=True)
    assert (await sandbox.billers.fetch_bill(jvvnl, "210145678912", "")).outstanding_paise == 310750


# --- payment links ---------------------------------------------------------------------------
async def test_a_paid_link_delivers_a_webhook_signed_and_shaped_like_razorpays(
    sandbox: Sandbox, http_double: HttpDouble
) -> None:
    link = await sandbox.payments.create_link(_request())
    assert link.link_id.startswith("plink_")
    assert link.short_url == f"http://127.0.0.1:8000/sandbox/pay/{link.link_id}"

    status = await sandbox.settle(link.link_id, "success")

    assert status == 200
    (delivery,) = http_double.received("POST", WEBHOOK_PATH)
    event = parse_webhook(delivery.body, delivery.headers, SECRET)
    assert event is not None and event.kind is PaymentEventKind.PAID
    assert (event.link_id, event.reference_id) == (link.link_id, "pay_ref0000000001")
    assert event.amount_paise == 310750
    assert event.gateway_payment_id and event.gateway_payment_id.startswith("pay_")
    assert delivery.headers["x-razorpay-event-id"]
    assert event.event_id == dedupe_key("payment_link.paid", link.link_id, "paid")
    body = delivery.json()
    assert body["payload"]["payment_link"]["entity"]["status"] == "paid"
    assert body["payload"]["payment"]["entity"]["status"] == "captured"
    stored = await sandbox.link(link.link_id)
    assert stored is not None and stored["status"] == "paid"


async def test_a_paid_link_cannot_be_settled_again(sandbox: Sandbox) -> None:
    link = await sandbox.payments.create_link(_request())
    await sandbox.settle(link.link_id, "success")

    for outcome in ("success", "failure"):
        with pytest.raises(LinkClosedError):
            await sandbox.settle(link.link_id, outcome)


async def test_a_failed_attempt_reports_payment_failed_and_leaves_the_link_payable(
    sandbox: Sandbox, http_double: HttpDouble
) -> None:
    link = await sandbox.payments.create_link(_request())

    await sandbox.settle(link.link_id, "failure")

    (delivery,) = http_double.received("POST", WEBHOOK_PATH)
    event = sandbox.payments.parse_webhook(delivery.body, delivery.headers)
    assert event is not None and event.kind is PaymentEventKind.FAILED
    assert event.link_id == link.link_id
    assert await sandbox.settle(link.link_id, "success") == 200


async def test_links_past_their_expiry_cannot_be_paid_and_expire_by_webhook(
    sandbox: Sandbox, clock: FakeClock, http_double: HttpDouble
) -> None:
    link = await sandbox.payments.create_link(_request())
    clock.advance(timedelta(minutes=31))

    with pytest.raises(LinkClosedError):
        await sandbox.settle(link.link_id, "success")
    await sandbox.expire(link.link_id)

    (delivery,) = http_double.received("POST", WEBHOOK_PATH)
    event = sandbox.payments.parse_webhook(delivery.body, delivery.headers)
    assert event is not None and event.kind is PaymentEventKind.EXPIRED
    assert event.reference_id == "pay_ref0000000001"


async def test_settling_needs_a_known_link_and_a_known_outcome(sandbox: Sandbox) -> None:
    link = await sandbox.payments.create_link(_request())

    with pytest.raises(UnknownPaymentLink):
        await sandbox.settle("plink_NoSuchLink0000", "success")
    with pytest.raises(ValueError):
        await sandbox.settle(link.link_id, "maybe")


async def test_an_unreachable_webhook_is_reported_as_status_zero(
    engine: AsyncEngine, clock: FakeClock, sandbox: Sandbox
) -> None:
    unreachable = Sandbox(
        engine=engine,
        billers=BILLERS,
        public_base_url="http://127.0.0.1:8000",
        webhook_url="http://127.0.0.1:9/webhooks/payments",
        webhook_secret=SECRET,
        clock=clock,
    )
    link = await unreachable.payments.create_link(_request())

    assert await unreachable.settle(link.link_id, "success") == 0


async def test_two_processes_sharing_the_database_see_one_sandbox(
    engine: AsyncEngine, clock: FakeClock, sandbox: Sandbox, http_double: HttpDouble
) -> None:
    # The action server creates the link; the gateway serves its page and settles it.
    action_server, gateway = sandbox, _sandbox(engine, clock, http_double)
    link = await action_server.payments.create_link(_request())

    assert await gateway.settle(link.link_id, "success") == 200
    stored = await action_server.link(link.link_id)
    assert stored is not None and stored["status"] == "paid"


# --- SMS -------------------------------------------------------------------------------------
async def test_sms_land_in_the_outbox_of_their_number(sandbox: Sandbox, clock: FakeClock) -> None:
    await sandbox.sms.send_sms("+919829100001", "Your code is 123456")
    clock.advance(timedelta(seconds=30))
    await sandbox.sms.send_sms("+919829100001", "आपका कोड 654321 है")
    await sandbox.sms.send_sms("+919414100002", "someone else")

    outbox = await sandbox.sms_outbox("+919829100001")

    assert [m["text"] for m in outbox] == ["Your code is 123456", "आपका कोड 654321 है"]
    assert outbox[0] == {
        "to": "+919829100001",
        "text": "Your code is 123456",
        "sent_at": NOW.isoformat(),
    }


async def test_sms_to_a_number_that_is_not_e164_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(SmsUnavailable):
        await sandbox.sms.send_sms("9829100001", "Your code is 123456")
