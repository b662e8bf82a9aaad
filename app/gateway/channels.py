"""Webhooks of the messaging channels: verify, parse, record, answer 2xx at once.

The turn runs later, in the gateway's inbox loop (`app.gateway.delivery`): providers want
a quick answer (Twilio 15 s, Telegram 60 s) and redeliver when they do not get one. A
request that fails verification gets 403, changes nothing, and leaves one log line
without its body (which holds a phone number and a message).

The answers are what the providers' retries need (README, "Faults"): 200 only once the
message is stored (a redelivery of one stored before is a 200 too, and nothing else);
503 when it could not be stored, which Telegram redelivers and Twilio retries as its
webhook's `#rp=` allows, then sends to the fallback URL (`/channels/<channel>/fallback`);
4xx for what a retry cannot fix (a bad signature, a channel that is off, a body too big).
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from app.gateway.delivery import ChannelRuntime
from bot.model.residents import Channel
from channels.telegram import SECRET_HEADER, parse_update
from channels.telegram import verify_secret as verify_telegram_secret
from channels.twilio_api import form_pairs, parse_form

log = logging.getLogger(__name__)
router = APIRouter()

# An empty TwiML document: "received, nothing to say now" (replies go through the API).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
PATHS = {Channel.WHATSAPP: "/channels/whatsapp", Channel.SMS: "/channels/sms"}


async def get_runtime(request: Request) -> ChannelRuntime | None:  # async: no thread hop
    runtime: ChannelRuntime | None = getattr(request.app.state, "channel_runtime", None)
    return runtime


RuntimeDep = Annotated["ChannelRuntime | None", Depends(get_runtime)]


@router.post("/channels/whatsapp")
async def whatsapp_webhook(request: Request, runtime: RuntimeDep) -> Response:
    return await _twilio_webhook(request, runtime, Channel.WHATSAPP)


@router.post("/channels/sms")
async def sms_webhook(request: Request, runtime: RuntimeDep) -> Response:
    return await _twilio_webhook(request, runtime, Channel.SMS)


# Twilio's "fallback URL": called when the primary webhook failed (5xx, timeout, refused)
# after its retries. The same handling; the signature covers this path.
@router.post("/channels/whatsapp/fallback")
async def whatsapp_fallback(request: Request, runtime: RuntimeDep) -> Response:
    return await _twilio_webhook(request, runtime, Channel.WHATSAPP, fallback=True)


@router.post("/channels/sms/fallback")
async def sms_fallback(request: Request, runtime: RuntimeDep) -> Response:
    return await _twilio_webhook(request, runtime, Channel.SMS, fallback=True)


async def _twilio_webhook(
    request: Request, runtime: ChannelRuntime | None, channel: Channel, fallback: bool = False
) -> Response:
    if runtime is None or runtime.twilio_webhook is None or not runtime.is_on(channel):
        return JSONResponse({"detail": f"{channel.value} channel is off"}, status_code=404)
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        _rejected(request, channel, "missing X-Twilio-Signature")
        return JSONResponse({"detail": "invalid signature"}, status_code=403)
    # The raw body, at most MAX_FORM_BYTES counted as it arrives (app/gateway/body_limits.py),
    # split into its name=value pairs only: nothing else is made of it (no multipart, no
    # files, no message) until the signature over those pairs has been checked.
    pairs = form_pairs(await request.body())
    # Signed over the public URL Twilio called (PUBLIC_BASE_URL + path), not the one we see.
    path = PATHS[channel] + ("/fallback" if fallback else "")
    if pairs is None or not runtime.twilio_webhook.verify(
        path, request.url.query, pairs, signature
    ):
        _rejected(request, channel, "bad X-Twilio-Signature")
        return JSONResponse({"detail": "invalid signature"}, status_code=403)
    message = parse_form(channel, pairs.fields(), runtime.clock.now())
    if message is not None:
        # 200 only once it is stored: a database that does not answer is a 503 (app.py),
        # which Twilio retries (`#rp=`) and then sends to the fallback URL.
        await runtime.accept(message)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/channels/telegram")
async def telegram_webhook(request: Request, runtime: RuntimeDep) -> Any:
    if runtime is None or not runtime.telegram_secret:
        return JSONResponse({"detail": "telegram channel is off"}, status_code=404)
    if not verify_telegram_secret(runtime.telegram_secret, request.headers.get(SECRET_HEADER)):
        _rejected(request, Channel.TELEGRAM, f"bad or missing {SECRET_HEADER}")
        return JSONResponse({"detail": "invalid secret token"}, status_code=403)
    try:
        data = json.loads(await request.body())
        message, callback_query_id = parse_update(data, runtime.clock.now())
    except (ValueError, TypeError, KeyError, AttributeError):
        # Genuine (the secret matched) but unreadable: a non-2xx would only be redelivered.
        log.warning("telegram update ignored: not an update we can read")
        return {}
    if message is not None:
        await runtime.accept(message)
    if callback_query_id:
        # Through the Bot API, not in this response: Telegram ignores a method in a webhook
        # response without telling whether it ran, and the button spins until answered.
        runtime.acknowledge_tap(callback_query_id)
    return {}


def _rejected(request: Request, channel: Channel, reason: str) -> None:
    client = request.client.host if request.client else "-"
    length = request.headers.get("content-length") or "?"
    log.warning("%s webhook rejected: %s (%s bytes from %s)", channel.value, reason, length, client)
