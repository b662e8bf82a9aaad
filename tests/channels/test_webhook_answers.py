"""What the Twilio webhooks answer, so that Twilio's retries (`#rp=`) and its fallback URL
lose nothing and double nothing: 200 only once the message is stored, 503 when it could not
be, the fallback URL handled like the primary, signatures over a URL with connection
overrides accepted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from channels.twilio_api import TwilioWebhook
from tests.channels.harness import PUBLIC_BASE_URL, Gateway, twilio_signature, whatsapp_form
from tests.channels.providers import AUTH_TOKEN
from tests.channels.test_faults import wait_for


async def test_a_message_the_database_could_not_store_is_a_503_and_its_retry_is_answered_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.db.channel_repositories import SqlInboxRepository

    real = SqlInboxRepository.record
    down = [True]

    async def record(self: Any, message: Any) -> Any:
        if down[0]:
            raise OperationalError("INSERT INTO inbox", {}, Exception("server closed"))
        return await real(self, message)

    monkeypatch.setattr(SqlInboxRepository, "record", record)
    form = whatsapp_form("hello there")
    refused = await gateway.whatsapp(form)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert await gateway.runtime.inbox.pending() == []

    down[0] = False
    retried = await gateway.whatsapp(form)  # Twilio's retry: the same MessageSid
    again = await gateway.whatsapp(form)  # and one more for good measure
    assert (retried.status_code, again.status_code) == (200, 200)
    await wait_for(lambda: len(gateway.providers.twilio()) == 1)
    await gateway.settle()
    assert [m["Body"] for m in gateway.providers.twilio()] == ["echo: hello there"]


async def test_the_fallback_url_takes_the_message_and_a_late_primary_adds_nothing(
    gateway: Gateway,
) -> None:
    form = whatsapp_form("hello there")
    path = "/channels/whatsapp/fallback"
    headers = {"X-Twilio-Signature": twilio_signature(path, form)}
    response = await gateway.http.post(gateway.url + path, data=form, headers=headers)
    assert response.status_code == 200
    assert (await gateway.whatsapp(form)).status_code == 200  # the primary, late

    await wait_for(lambda: len(gateway.providers.twilio()) == 1)
    await gateway.settle()
    assert [m["Body"] for m in gateway.providers.twilio()] == ["echo: hello there"]
    wrong_path = {"X-Twilio-Signature": twilio_signature("/channels/whatsapp", form)}
    refused = await gateway.http.post(gateway.url + path, data=form, headers=wrong_path)
    assert refused.status_code == 403


async def test_signatures_over_the_url_with_its_connection_overrides_are_accepted(
    gateway: Gateway,
) -> None:
    gateway.runtime.twilio_webhook = TwilioWebhook(AUTH_TOKEN, PUBLIC_BASE_URL, "rc=3&rp=all")
    form = whatsapp_form("hi")
    with_fragment = twilio_signature("/channels/whatsapp#rc=3&rp=all", form)
    assert (await gateway.whatsapp(form, signature=with_fragment)).status_code == 200
    plain = whatsapp_form("hi")
    assert (await gateway.whatsapp(plain)).status_code == 200
    other = whatsapp_form("hi")
    wrong = twilio_signature("/channels/whatsapp#rc=5", other)
    assert (await gateway.whatsapp(other, signature=wrong)).status_code == 403
