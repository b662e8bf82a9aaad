"""The BBPS biller directory against a real HTTP double: fetch, pay, and failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
import pytest_asyncio

from bot.errors import BillerUnavailable, ConsumerNotFound, UnknownBiller
from bot.model.billing import Biller, Utility
from integrations.billers.bbps import BbpsBillerDirectory
from integrations.billers.catalog import load_billers
from tests.doubles.http_double import HttpDouble

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture
pytestmark = pytest.mark.asyncio

FETCH = "/bbps/v1/bill/fetch"
PAY = "/bbps/v1/bill/pay"
BILLER_RESPONSE = {
    "customerName": "Ramesh Kumar Sharma",
    "billAmount": "310750",
    "billDate": "2026-12-05",
    "billNumber": "JV2612-4567891",
    "billPeriod": "NOV-2026",
    "dueDate": "2026-12-20",
}
FOUND = {"responseCode": "000", "billerResponse": BILLER_RESPONSE, "additionalInfo": {"x": "1"}}


@pytest_asyncio.fixture
async def directory(http_double: HttpDouble) -> AsyncIterator[BbpsBillerDirectory]:
    directory = BbpsBillerDirectory(
        http_double.base_url + "/", "test-bbps-key", load_billers(), timeout_s=0.3
    )
    yield directory
    await directory.aclose()


@pytest.fixture
def jvvnl(directory: BbpsBillerDirectory) -> Biller:
    return directory.get("JVVNL0000RAJ01")


async def test_fetch_reads_the_bill_in_paise_and_sends_bbps_customer_params(
    directory: BbpsBillerDirectory, jvvnl: Biller, http_double: HttpDouble
) -> None:
    http_double.reply("POST", FETCH, json_body=FOUND)

    bill = await directory.fetch_bill(jvvnl, "210145678912", "+919829100001")

    assert bill.customer_name == "Ramesh Kumar Sharma"
    assert (bill.bill_number, bill.amount_paise, bill.outstanding_paise) == (
        "JV2612-4567891",
        310750,
        310750,
    )
    assert (bill.bill_date, bill.due_on) == (date(2026, 12, 5), date(2026, 12, 20))
    (request,) = http_double.received("POST", FETCH)
    assert request.headers["authorization"] == "Bearer test-bbps-key"
    assert request.json() == {
        "billerId": "JVVNL0000RAJ01",
        "customerParams": [{"name": "K Number", "value": "210145678912"}],
        "customerMobile": "9829100001",
    }


async def test_a_non_success_response_code_means_no_such_consumer(
    directory: BbpsBillerDirectory, jvvnl: Biller, http_double: HttpDouble
) -> None:
    http_double.reply("POST", FETCH, json_body={"responseCode": "001", "error": "Invalid K No"})

    with pytest.raises(ConsumerNotFound):
        await directory.fetch_bill(jvvnl, "210100000000", "+919829100001")


@pytest.mark.parametrize(
    ("status", "body", "delay_s"),
    [(503, {"error": "down"}, 0.0), (200, FOUND, 2.0), (200, {"responseCode": "000"}, 0.0)],
    ids=["server-error", "timeout", "no-bill-in-success"],
)
async def test_a_biller_that_cannot_answer_is_unavailable(
    directory: BbpsBillerDirectory,
    jvvnl: Biller,
    http_double: HttpDouble,
    status: int,
    body: dict[str, str],
    delay_s: float,
) -> None:
    http_double.reply("POST", FETCH, status, json_body=body, delay_s=delay_s)

    with pytest.raises(BillerUnavailable):
        await directory.fetch_bill(jvvnl, "210145678912", "+919829100001")


async def test_payment_echoes_the_fetched_bill_with_our_reference(
    directory: BbpsBillerDirectory, jvvnl: Biller, http_double: HttpDouble
) -> None:
    http_double.reply("POST", FETCH, json_body=FOUND)
    http_double.reply(
        "POST",
        PAY,
        json_body={
            "responseCode": "000",
            "txnRefId": "CC0141100000047",
            "approvalRefNumber": "AB12",
        },
    )

    transaction = await directory.post_payment(
        jvvnl, "210145678912", "JV2612-4567891", 310750, "pay_ref0001"
    )

    assert transaction == "CC0141100000047"
    (request,) = http_double.received("POST", PAY)
    paid = request.json()
    assert paid["refId"] == "pay_ref0001"
    assert paid["billerResponse"] == BILLER_RESPONSE
    assert paid["additionalInfo"] == {"x": "1"}
    assert paid["amountInfo"] == {"amount": "310750", "currency": "356", "custConvFee": "0"}


async def test_a_refused_payment_is_unavailable(
    directory: BbpsBillerDirectory, jvvnl: Biller, http_double: HttpDouble
) -> None:
    http_double.reply("POST", FETCH, json_body=FOUND)
    http_double.reply("POST", PAY, json_body={"responseCode": "200", "error": "duplicate"})

    with pytest.raises(BillerUnavailable):
        await directory.post_payment(jvvnl, "210145678912", "JV2612-4567891", 310750, "pay_1")


async def test_billers_come_from_the_catalog(directory: BbpsBillerDirectory) -> None:
    assert [b.short_name for b in directory.billers(Utility.GAS)] == ["RSGL", "TGPL"]
    with pytest.raises(UnknownBiller):
        directory.get("NOSUCHBILLER01")


async def test_a_retried_payment_with_nothing_left_to_fetch_still_reaches_bbps(
    directory: BbpsBillerDirectory,
    jvvnl: Biller,
    http_double: HttpDouble,
) -> None:
    # The first attempt paid the bill but its answer was lost; BBPS dedupes on refId.
    http_double.reply("POST", FETCH, json_body={"responseCode": "001"})
    http_double.reply("POST", PAY, json_body={"responseCode": "000", "txnRefId": "CC01"})

    transaction = await directory.post_payment(jvvnl, "210145678912", "JV2612-4567891", 1, "pay_1")

    assert transaction == "CC01"
    (request,) = http_double.received("POST", PAY)
    assert request.json()["refId"] == "pay_1"
    assert request.json()["billerResponse"] is None
