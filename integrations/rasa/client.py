"""The DialogueEngine port over Rasa's HTTP API and REST channel.

The gateway owns every channel; Rasa only sees opaque conversation ids and texts. The
resident's language lives in the gateway's database, and Rasa's responses pick their
variation from the `language` slot, so the slot is set before a turn whenever it changed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlparse

import aiohttp

from bot.errors import DialogueUnavailable
from bot.model.identifiers import mask
from bot.model.outbound import Attachment, Button, OutboundMessage
from bot.model.residents import Channel, Language
from integrations.rasa.internal_auth import bearer

log = logging.getLogger(__name__)

# Languages remembered per conversation. Forgetting one only costs an extra slot event.
LANGUAGE_CACHE_SIZE = 10_000
# Our own input channel inside Rasa (integrations/rasa/engine/gateway_channel.py).
TURN_PATH = "/webhooks/gateway/webhook"
# /status is called by health checks, which must answer quickly even when Rasa hangs.
STATUS_TIMEOUT_S = 2.0


class _ServerDown(DialogueUnavailable):
    """The request never reached that Rasa server (connection refused): safe to send the
    same turn to another one."""


class RasaDialogueEngine:
    """One or several Rasa servers. Each conversation goes to the same server every turn
    (a hash of its id picks it) and moves to the next one only while that one refuses
    connections, e.g. during a restart. Several servers must share a tracker store."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        token: str,
        timeout_s: float,
        internal_token: str = "",
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self._bases = [url.rstrip("/") for url in urls]
        self._token = token
        # Our channel inside Rasa refuses turns without it (integrations/rasa/internal_auth.py).
        self._turn_headers = bearer(internal_token) if internal_token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._languages: OrderedDict[str, Language] = OrderedDict()

    async def converse(
        self,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel = Channel.WEBCHAT,
        message_key: str = "",
    ) -> list[OutboundMessage]:
        """Send one resident message to Rasa and return its replies.

        Turns of one conversation must be serialised by the caller (the gateway does).
        `message_key` names the message: sent again with the same key, Rasa answers with
        the replies it gave the first time instead of running the turn twice, and actions
        do their side effects once per key (integrations/rasa/engine/keyed_turns.py).
        Raises DialogueUnavailable when Rasa cannot be reached, times out, fails, or answers
        with no message at all (Rasa's stock REST channel answers a failed turn that way).
        """
        servers = self._servers_for(conversation_id)
        for number, base in enumerate(servers, start=1):
            try:
                body = await self._turn(base, conversation_id, text, language, channel, message_key)
                break
            except _ServerDown:
                if number == len(servers):
                    raise
                log.warning(
                    "Rasa server %d of %d refused a turn; trying the next", number, len(servers)
                )
        if not isinstance(body, list):
            raise DialogueUnavailable("Rasa answered a turn with something other than a list")
        if not body:
            # Never taken for a finished turn: every turn of ours says something.
            raise DialogueUnavailable("Rasa answered a turn with no messages")
        return [message for item in body if (message := to_outbound(item)) is not None]

    async def _turn(
        self,
        base: str,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel,
        message_key: str,
    ) -> Any:
        await self._ensure_language(base, conversation_id, language)
        payload: dict[str, Any] = {
            "sender": conversation_id,
            "message": text,
            "channel": channel.value,
        }
        if message_key:
            payload["metadata"] = {"message_key": message_key}
        return await self._post(
            f"{base}{TURN_PATH}",
            payload,
            what="turn",
            conversation_id=conversation_id,
            headers=self._turn_headers,
        )

    def _server_for(self, conversation_id: str) -> str:
        return self._servers_for(conversation_id)[0]

    def _servers_for(self, conversation_id: str) -> list[str]:
        first = zlib.crc32(conversation_id.encode()) % len(self._bases)
        return self._bases[first:] + self._bases[:first]

    async def status(self) -> bool:
        """True when a Rasa server answers with a model loaded (it serves 200 without one);
        with several, when at least one does (the others' conversations move to it)."""
        answers = await asyncio.gather(*(self._status(base) for base in self._bases))
        for number, up in enumerate(answers, start=1):
            if not up and len(self._bases) > 1:
                log.warning("Rasa server %d of %d is down", number, len(self._bases))
        return any(answers)

    async def _status(self, base: str) -> bool:
        try:
            async with self._http().get(
                f"{base}/status",
                params={"token": self._token},
                timeout=aiohttp.ClientTimeout(total=STATUS_TIMEOUT_S),
            ) as response:
                body = await response.json(content_type=None) if response.status == 200 else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return False
        return isinstance(body, dict) and bool(body.get("model_id") or body.get("model_file"))

    async def question_open(self, conversation_id: str) -> bool:
        """Whether the conversation's tracker has an active form (only asked for a STOP)."""
        url = f"{self._server_for(conversation_id)}/conversations/{quote(conversation_id, safe='')}/tracker"
        try:
            async with self._http().get(
                url,
                params={"token": self._token, "include_events": "NONE"},
                timeout=aiohttp.ClientTimeout(total=STATUS_TIMEOUT_S),
            ) as response:
                body = await response.json(content_type=None) if response.status == 200 else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return False
        loop = body.get("active_loop") if isinstance(body, dict) else None
        return isinstance(loop, dict) and bool(loop.get("name"))

    async def erase_history(self, conversation_id: str) -> None:
        """Replace the conversation's tracker with an empty one (PUT .../tracker/events) on
        every server: after a failover a server other than its usual one may hold it.

        With Rasa's in-memory tracker store (our default) this drops every event. An SQL
        tracker store only appends to what it holds: `SqlTrackerHistory` deletes its rows."""
        path = f"/conversations/{quote(conversation_id, safe='')}/tracker/events"
        erased = 0
        for base in self._bases:
            try:
                await self._post(
                    f"{base}{path}",
                    [],
                    what="history erasure",
                    conversation_id=conversation_id,
                    params={"token": self._token},
                    method="PUT",
                )
                erased += 1
            except _ServerDown:
                continue  # a server that is down holds no in-memory tracker any more
        self._languages.pop(conversation_id, None)
        if not erased:
            raise DialogueUnavailable("no Rasa server answered the history erasure")

    async def recent_turns(self, conversation_id: str, limit: int = 10) -> list[tuple[str, str]]:
        """The last `limit` messages of the conversation as Rasa recorded them, oldest first,
        as ("resident" | "bot", text): what the agent reads before taking over. Empty when
        Rasa cannot answer: the console must still open."""
        url = f"{self._server_for(conversation_id)}/conversations/{quote(conversation_id, safe='')}/tracker"
        try:
            async with self._http().get(
                url,
                params={"token": self._token, "include_events": "APPLIED"},
                timeout=aiohttp.ClientTimeout(total=STATUS_TIMEOUT_S),
            ) as response:
                body = await response.json(content_type=None) if response.status == 200 else {}
            events = body.get("events")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, AttributeError):
            return []
        authors = {"user": "resident", "bot": "bot"}
        turns = [
            (authors[event["event"]], str(event["text"]))
            for event in events or []
            if isinstance(event, dict) and event.get("event") in authors and event.get("text")
        ]
        return turns[-limit:]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        # aiohttp rather than httpx on this path: measured on this project's 2-core machine,
        # 0.19 ms of CPU per request against 1.7 ms, and every turn makes one. Made on first
        # use because a session belongs to the event loop it was made in.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _ensure_language(self, base: str, conversation_id: str, language: Language) -> None:
        if self._languages.get(conversation_id) is language:
            self._languages.move_to_end(conversation_id)
            return
        await self._post(
            f"{base}/conversations/{quote(conversation_id, safe='')}/tracker/events",
            {"event": "slot", "name": "language", "value": language.value},
            what="language slot",
            conversation_id=conversation_id,
            params={"token": self._token},
        )
        self._languages[conversation_id] = language
        self._languages.move_to_end(conversation_id)
        while len(self._languages) > LANGUAGE_CACHE_SIZE:
            self._languages.popitem(last=False)

    async def _post(
        self,
        url: str,
        payload: Mapping[str, Any] | list[Any],
        what: str,
        conversation_id: str,
        params: Mapping[str, str] | None = None,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        # Error messages name the step and status only: the client's own messages can carry
        # the URL, and with it the API token.
        try:
            async with self._http().request(
                method, url, json=payload, params=params, headers=headers
            ) as response:
                status = response.status
                body = await response.read()
        except asyncio.TimeoutError as exc:
            raise DialogueUnavailable(f"Rasa timed out ({what})") from exc
        except aiohttp.ClientConnectorError as exc:
            raise _ServerDown(f"Rasa unreachable ({what}): {type(exc).__name__}") from exc
        except aiohttp.ClientError as exc:
            raise DialogueUnavailable(f"Rasa unreachable ({what}): {type(exc).__name__}") from exc
        if status >= 300:
            # 4xx too: a wrong token or a rejected event is as fatal to the turn as a crash.
            log.warning(
                "Rasa answered %s with HTTP %d (conversation %s)",
                what,
                status,
                mask(conversation_id),
            )
            raise DialogueUnavailable(f"Rasa answered {what} with HTTP {status}")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise DialogueUnavailable(f"Rasa answered {what} with invalid JSON") from exc


def to_outbound(item: Any) -> OutboundMessage | None:
    """One message of Rasa's REST channel as an OutboundMessage; None when it holds nothing
    a channel can show (e.g. a custom payload we do not understand)."""
    if not isinstance(item, dict):
        return None
    text = item.get("text") or ""
    buttons = tuple(
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in item.get("buttons") or ()
        if isinstance(b, dict) and b.get("payload")
    )
    custom: dict[str, Any] = item["custom"] if isinstance(item.get("custom"), dict) else {}
    attachment = (
        _attachment(item.get("attachment"))
        or _attachment(custom.get("attachment"))
        or _attachment(item.get("image"))
    )
    if not text and custom.get("text"):
        text = custom["text"]
    if not (text or buttons or attachment):
        return None
    return OutboundMessage(text=str(text), buttons=buttons, attachment=attachment)


def _attachment(value: Any) -> Attachment | None:
    """Rasa sends attachments as a bare URL (`dispatcher.utter_message(attachment=url)`,
    `image=url`) or, from our actions, as {url, filename, mime}."""
    if isinstance(value, str) and value:
        url, filename, mime = value, "", ""
    elif isinstance(value, dict) and isinstance(value.get("url"), str) and value["url"]:
        url = value["url"]
        filename = str(value.get("filename") or "")
        mime = str(value.get("mime") or "")
    else:
        return None
    filename = filename or unquote(urlparse(url).path.rsplit("/", 1)[-1]) or "file"
    mime = mime or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return Attachment(url=url, filename=filename, mime=mime)
