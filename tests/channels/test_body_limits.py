"""Body limits counted as the bytes arrive (issue 13, finding 4), against the gateway served
by uvicorn on 127.0.0.1: a chunked body with no Content-Length is stopped at its limit with
a 413, the gateway's memory does not grow with what the client keeps sending, and Twilio's
signature is checked on the raw body before any form parsing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.channels.harness import TELEGRAM_SECRET, Gateway, sms_form, twilio_signature

CHUNK = b"x" * (64 * 1024)
OFFERED_BYTES = 96 * 1024 * 1024  # what the client would send if nothing stopped it


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class Offered:
    """A chunked body of OFFERED_BYTES, counting how much of it was ever taken."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < OFFERED_BYTES:
            self.sent += len(CHUNK)
            yield CHUNK


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/webhooks/payments", {"X-Razorpay-Signature": "0" * 64}),
        ("/webchat/messages", {"Content-Type": "application/json"}),
        ("/channels/sms", {"X-Twilio-Signature": "AAAA"}),
        ("/channels/telegram", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}),
        ("/agent/login", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
async def test_a_chunked_body_past_the_limit_is_stopped_as_it_arrives(
    gateway: Gateway, path: str, headers: dict[str, str]
) -> None:
    body = Offered()
    before = peak = rss_bytes()
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, rss_bytes())
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    try:
        response = await gateway.http.post(gateway.url + path, content=body, headers=headers)
        status: int | None = response.status_code
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        status = None  # the gateway answered and hung up while the client was still writing
    finally:
        sampling = False
        await sampler

    assert status in (413, None)
    # Stopped at the limit (256 KB at most) plus what the sockets' buffers held, not after
    # the 96 MB the client offered.
    assert body.sent < 16 * 1024 * 1024, body.sent
    assert peak - before < 32 * 1024 * 1024, (before, peak)
    # And the gateway still answers the next request.
    assert (await gateway.http.get(gateway.url + "/privacy")).status_code == 200


async def test_a_declared_length_past_the_limit_is_refused_before_reading(
    gateway: Gateway,
) -> None:
    response = await gateway.http.post(
        gateway.url + "/webchat/messages",
        content=b"{" + b" " * (64 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "payload too large"}


async def test_a_twilio_body_is_not_parsed_as_a_form_before_its_signature_is_checked(
    gateway: Gateway,
) -> None:
    # A multipart body of 1,200 parts (Twilio never sends one): parsing it as a form before
    # checking the signature spends the work on anyone's request, and ends in a 400.
    part = b'--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n'
    response = await gateway.http.post(
        gateway.url + "/channels/sms",
        content=part * 1200 + b"--xyz--\r\n",
        headers={
            "Content-Type": "multipart/form-data; boundary=xyz",
            "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl",
        },
    )
    assert response.status_code == 403
    assert await gateway.runtime.inbox.pending() == []


async def test_a_genuine_twilio_form_is_still_accepted(gateway: Gateway) -> None:
    form = sms_form("hello there")
    response = await gateway.http.post(
        gateway.url + "/channels/sms",
        data=form,
        headers={"X-Twilio-Signature": twilio_signature("/channels/sms", form)},
    )
    assert response.status_code == 200
    assert "<Response>" in response.text
