"""Twilio, the one adapter for it: what WhatsApp and SMS share (the webhook signature, its
form posts) and sending through twilio's own async client with backoff on 429 and 5xx, for
replies, pushes and OTP codes alike.

The API base URL is configurable (TWILIO_API_BASE_URL) so tests point the real client at a
local double instead of api.twilio.com.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import ClientConnectorError, ClientError
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.errors import DeliveryFailed, DeliveryUncertain
from bot.model.channels import InboundKind, InboundMessage
from bot.model.residents import Channel

log = logging.getLogger(__name__)

WHATSAPP_PREFIX = "whatsapp:"
# Twilio's form posts are a few KB even with ten media URLs.
MAX_FORM_BYTES = 64 * 1024
# Twilio sends about 20 fields, plus two per media item (at most 10).
MAX_FORM_FIELDS = 200
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
# Reconciling a delivery reads this many of the newest messages to its recipient.
LOOKUP_LIMIT = 20
_SPACE = re.compile(r"\s+")


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


class TwilioWebhook:
    """Verifies `X-Twilio-Signature`: HMAC-SHA1 over the URL Twilio called plus the sorted
    form, keyed with the auth token. Behind a proxy the URL we see is not the one Twilio
    called, so the public one is rebuilt from PUBLIC_BASE_URL."""

    def __init__(self, auth_token: str, public_base_url: str, overrides: str = "") -> None:
        self._validator = RequestValidator(auth_token)
        self._base = public_base_url.rstrip("/")
        # Connection overrides ("rc=3&rp=all") live in the URL's fragment, which is never
        # sent to us; a signature over the URL with it is accepted as well as one without.
        self._fragments = ["", f"#{overrides.lstrip('#')}"] if overrides else [""]

    def verify(self, path: str, query: str, form: Any, signature: str | None) -> bool:
        if not signature:
            return False
        url = f"{self._base}{path}" + (f"?{query}" if query else "")
        return any(
            self._validator.validate(url + fragment, form, signature)
            for fragment in self._fragments
        )


class FormPairs:
    """A form's name=value pairs, repeated names kept: what Twilio's signature covers
    (its RequestValidator iterates the names and reads each one's values with `getall`)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._pairs])

    def __len__(self) -> int:
        return len(self._pairs)

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]

    def fields(self) -> dict[str, str]:
        """One value per name (the last, as form parsers do)."""
        return dict(self._pairs)


def form_pairs(body: bytes) -> FormPairs | None:
    """A Twilio webhook body (application/x-www-form-urlencoded, UTF-8) split into its
    name=value strings; None when it is not such a body. Nothing else is made of it until
    the signature over these pairs has been checked."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return None
    return FormPairs(pairs)


def parse_form(channel: Channel, form: Mapping[str, str], now: datetime) -> InboundMessage | None:
    """A Twilio message form as an InboundMessage; None when it is not a message (no
    MessageSid or sender)."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    sender = form.get("From") or ""
    address = sender.removeprefix(WHATSAPP_PREFIX).strip()
    if not sid or not address:
        return None
    # A quick-reply button of a WhatsApp template sends the payload we gave it.
    text = (form.get("ButtonPayload") or form.get("Body") or "").strip()
    kind = InboundKind.TEXT if text else InboundKind.MEDIA
    return InboundMessage(channel, sid[:128], address[:255], kind, text, now)


class TwilioMessages:
    """`messages.create_async` with the behaviour a delivery loop needs: 429 and 5xx are
    retried with backoff (Twilio does not slow down for us), a refusal is DeliveryFailed,
    and no answer in time is DeliveryUncertain (the message may exist)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base_url: str,
        timeout_s: float = 10.0,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_base_url = api_base_url
        self._timeout_s = timeout_s
        self._retry_delays_s = tuple(retry_delays_s)
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Any = None

    @property
    def longest_create_s(self) -> float:
        """How long `create` can take at most: every try timed out, every back-off waited."""
        return self._timeout_s * (len(self._retry_delays_s) + 1) + sum(self._retry_delays_s)

    def _messages(self) -> Any:
        if self._client is None:  # made inside the running loop, which its session belongs to
            http = AsyncTwilioHttpClient()
            # Kept: building `client.messages` anew costs more than the request itself.
            self._client = twilio_client(
                self._account_sid, self._auth_token, self._api_base_url, http
            )
            self._http = http
        return self._client.messages

    async def sent_since(self, to: str, from_: str, since: datetime, text: str) -> bool | None:
        """Whether Twilio has a message from `from_` to `to`, created since `since`, whose body
        holds `text` (spacing aside; a template's body holds its variable). None when Twilio
        could not be asked. Twilio's message list, newest first (GET Messages.json)."""
        wanted = _SPACE.sub(" ", text).strip()[:200]
        try:
            found = await asyncio.wait_for(
                self._messages().list_async(to=to, from_=from_, limit=LOOKUP_LIMIT),
                self._timeout_s,
            )
        except (asyncio.TimeoutError, ClientError, TwilioException) as exc:
            log.warning("Twilio's message list could not be read: %s", type(exc).__name__)
            return None
        for message in found:
            created = message.date_created
            body = _SPACE.sub(" ", message.body or "")
            if (created is None or created >= since) and wanted in body:
                return True
        return False

    async def create(self, **params: Any) -> None:
        try:
            messages = self._messages()
        except TwilioException as exc:  # no credentials: nothing was sent, nothing will be
            raise DeliveryFailed("Twilio client not configured", permanent=True) from exc
        delays = [*self._retry_delays_s, None]
        for delay in delays:
            try:
                # twilio's async client (8.2 and 9.13) ignores its own timeout: bound it here.
                await asyncio.wait_for(messages.create_async(**params), self._timeout_s)
                return
            except TwilioRestException as exc:
                transient = exc.status == 429 or exc.status >= 500
                # The exception's text can hold the phone number: log the codes only.
                log.warning("Twilio answered %s (code %s)", exc.status, exc.code)
                if not transient:
                    raise DeliveryFailed(
                        f"Twilio refused: code {exc.code}", permanent=True
                    ) from exc
                if delay is None:
                    raise DeliveryFailed(f"Twilio still {exc.status} after retries") from exc
            except ClientConnectorError as exc:  # the request never left: safe to repeat
                if delay is None:
                    raise DeliveryFailed("Twilio unreachable") from exc
            except asyncio.TimeoutError as exc:
                raise DeliveryUncertain("Twilio did not answer in time") from exc
            except (ClientError, TwilioException) as exc:
                raise DeliveryUncertain(f"Twilio call broke off: {type(exc).__name__}") from exc
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None
