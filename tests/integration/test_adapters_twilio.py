"""OTP codes by SMS through the one Twilio adapter (channels/twilio_api.py, the SMS channel's
sender), pointed at a real HTTP double instead of api.twilio.com."""

from __future__ import annotations

import base64

import pytest

from bot.errors import SmsUnavailable
from channels.sms import SmsSender
from channels.twilio_api import TwilioMessages
from tests.doubles.http_double import HttpDouble

pytest_plugins = ["tests.doubles.fixtures"]  # the `http_double` fixture
pytestmark = pytest.mark.asyncio

ACCOUNT_SID = "ACtest"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CREATED = {
    "sid": "SMtest0001",
    "account_sid": ACCOUNT_SID,
    "to": "+919829100001",
    "from": "+15005550006",
    "body": "Your code is 123456",
    "status": "queued",
}


def _sender(
    double: HttpDouble, account_sid: str = ACCOUNT_SID, token: str = "test-auth-token"
) -> SmsSender:
    twilio = TwilioMessages(account_sid, token, double.base_url, 0.5, retry_delays_s=(0.01,))
    return SmsSender(twilio, "+15005550006")


async def test_an_sms_is_posted_to_the_messages_api_with_basic_auth(
    http_double: HttpDouble,
) -> None:
    http_double.reply("POST", MESSAGES, status=201, json_body=CREATED)
    sender = _sender(http_double)

    await sender.send_sms("+919829100001", "आपका कोड 123456 है")
    await sender.aclose()

    (request,) = http_double.received("POST", MESSAGES)
    expected = base64.b64encode(f"{ACCOUNT_SID}:test-auth-token".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.form() == {
        "To": "+919829100001",
        "From": "+15005550006",
        "Body": "आपका कोड 123456 है",
    }


@pytest.mark.parametrize(
    ("status", "body", "delay_s"),
    [
        (400, {"code": 21211, "message": "The 'To' number +91 is not valid", "status": 400}, 0.0),
        (500, {"message": "internal"}, 0.0),
        (201, CREATED, 2.0),
    ],
    ids=["rejected", "server-error", "timeout"],
)
async def test_a_message_twilio_does_not_take_is_sms_unavailable(
    http_double: HttpDouble,
    status: int,
    body: dict[str, object],
    delay_s: float,
) -> None:
    http_double.reply("POST", MESSAGES, status, json_body=body, delay_s=delay_s)
    sender = _sender(http_double)

    with pytest.raises(SmsUnavailable) as raised:
        await sender.send_sms("+919829100001", "Your code is 123456")
    await sender.aclose()
    assert "+91" not in str(raised.value)


async def test_missing_credentials_are_sms_unavailable(http_double: HttpDouble) -> None:
    sender = _sender(http_double, account_sid="", token="")

    with pytest.raises(SmsUnavailable):
        await sender.send_sms("+919829100001", "Your code is 123456")
    assert http_double.requests == []
