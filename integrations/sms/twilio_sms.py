"""SMS through Twilio's Messages API, with twilio's own client.

The API base URL is configurable (TWILIO_API_BASE_URL) so tests point the real client at a
local double instead of api.twilio.com.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientError
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.errors import SmsUnavailable

log = logging.getLogger(__name__)

TWILIO_API_BASE_URL = "https://api.twilio.com"


def twilio_client(
    account_sid: str, auth_token: str, api_base_url: str, http_client: AsyncTwilioHttpClient
) -> Client:
    """A Twilio client whose Messages API lives at `api_base_url`.

    twilio-python builds every REST URL from its `api` domain's `base_url`, so replacing
    that one attribute moves the whole Messages API without patching the library.
    """
    # twilio 9 builds a client without credentials (and would send "Accounts/None/…"):
    # refuse here, as twilio 8 did, so nothing leaves without them.
    if not account_sid or not auth_token:
        raise TwilioException("Credentials are required to create a TwilioClient")
    client = Client(account_sid, auth_token, http_client=http_client)
    client.api.base_url = api_base_url.rstrip("/")
    return client


class TwilioSmsSender:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = TWILIO_API_BASE_URL,
        timeout_s: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._api_base_url = api_base_url
        self._timeout_s = timeout_s

    async def send_sms(self, to: str, text: str) -> None:
        # One aiohttp session per message: a session belongs to the event loop it was made
        # in, and SMS here are rare (OTPs), so pooling is not worth a loop-bound object.
        try:
            async with AsyncTwilioHttpClient() as http:
                client = twilio_client(
                    self._account_sid, self._auth_token, self._api_base_url, http
                )
                # twilio's async client (8.2 and 9.13) never hands its own timeout to aiohttp (it
                # passes None, which aiohttp reads as "wait forever"), so bound it here.
                await asyncio.wait_for(
                    client.messages.create_async(to=to, from_=self._from, body=text),
                    self._timeout_s,
                )
        except (TwilioException, ClientError, asyncio.TimeoutError) as exc:
            # TwilioRestException's text can include the number: log its code only.
            code = getattr(exc, "code", None)
            log.warning("Twilio did not send an SMS (%s, code %s)", type(exc).__name__, code)
            raise SmsUnavailable("SMS not sent") from exc
