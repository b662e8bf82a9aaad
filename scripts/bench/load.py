"""The load of `make bench`: simulated residents talking to a chat endpoint.

`concurrency` workers each hold one keep-alive connection and run conversations back to
back (closed loop, no think time), every conversation with a fresh sender id. A turn is one
POST and its answer; its latency is measured on the client. A turn that fails (HTTP error,
timeout, a non-200 status) counts as an error; a 200 answer that lacks what the script
expects counts as a mismatch (the bot answered, just not what a resident needed).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

# What a bot is asked; `expect` is a substring of the joined texts and button payloads.
Say = Callable[["Conversation"], Awaitable[str]]


@dataclass(frozen=True)
class Step:
    text: str | Say
    expect: str = ""
    # Names the step in the per-step latencies ("where the time goes"); turns of one label
    # are pooled across conversations and languages.
    label: str = ""

    def name(self) -> str:
        if self.label:
            return self.label
        return self.text if isinstance(self.text, str) else self.text.__name__.strip("_")


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    mismatches: int = 0
    conversations: int = 0
    elapsed_s: float = 0.0
    error_kinds: dict[str, int] = field(default_factory=dict)
    mismatch_kinds: dict[str, int] = field(default_factory=dict)
    by_step: dict[str, list[float]] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "turns": len(lat),
            "conversations": self.conversations,
            "throughput_per_s": round(len(lat) / self.elapsed_s, 2) if self.elapsed_s else 0.0,
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "errors": self.errors,
            "mismatches": self.mismatches,
            "error_kinds": self.error_kinds,
            "mismatch_kinds": self.mismatch_kinds,
        }

    def steps(self) -> dict[str, dict[str, float]]:
        """p50/p95 per step label, slowest p95 first: which kind of turn costs what."""
        table = {}
        for label, values in self.by_step.items():
            ordered = sorted(values)
            table[label] = {
                "turns": len(ordered),
                "p50_ms": round(percentile(ordered, 50), 1),
                "p95_ms": round(percentile(ordered, 95), 1),
            }
        return dict(sorted(table.items(), key=lambda item: -item[1]["p95_ms"]))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


class Endpoint:
    """How one bot is spoken to: our gateway's web chat or plain Rasa's REST channel."""

    def __init__(self, url: str, sender_key: str, text_key: str) -> None:
        self.url, self.sender_key, self.text_key = url, sender_key, text_key

    @staticmethod
    def replies(body: Any) -> list[dict[str, Any]]:
        messages = body.get("messages") if isinstance(body, dict) else body
        return list(messages) if isinstance(messages, list) else []


WEBCHAT = "webchat"
REST = "rest"


def webchat_sender(name: str) -> str:
    """A web chat sender id of our own: the gateway starts a session only for one of at
    least 32 characters (bot/services/webchat_sessions.py)."""
    return f"{name}-{secrets.token_hex(16)}"


def endpoint(kind: str, base_url: str) -> Endpoint:
    if kind == WEBCHAT:
        return Endpoint(f"{base_url}/webchat/messages", "sender", "text")
    return Endpoint(f"{base_url}/webhooks/rest/webhook", "sender", "message")


class Conversation:
    def __init__(
        self, session: aiohttp.ClientSession, target: Endpoint, sender: str, **facts: str
    ) -> None:
        self.session, self.target, self.sender, self.facts = session, target, sender, facts
        self.seen: list[str] = []  # what the bot showed, turn by turn

    async def turn(self, text: str, timeout_s: float = 30.0) -> tuple[float, list[dict[str, Any]]]:
        """One turn; returns (latency in ms, replies). Raises on anything but a 200."""
        payload = {self.target.sender_key: self.sender, self.target.text_key: text}
        started = time.perf_counter()
        async with self.session.post(
            self.target.url, json=payload, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            body = await response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise TurnFailed(f"HTTP {response.status}")
        replies = Endpoint.replies(json.loads(body))
        self.seen.append(visible(replies))
        return elapsed, replies


class TurnFailed(Exception):
    pass


def visible(replies: list[dict[str, Any]]) -> str:
    parts = [str(r.get("text") or "") for r in replies]
    parts += [str(b.get("payload", "")) for r in replies for b in r.get("buttons") or []]
    return "\n".join(parts)


async def run_script(
    conversation: Conversation, steps: Sequence[Step], results: Results, deadline: float
) -> None:
    """Stops at the deadline without counting the unfinished rest of the script as errors."""
    for step in steps:
        if time.monotonic() >= deadline:
            return
        text = step.text if isinstance(step.text, str) else await step.text(conversation)
        try:
            latency, replies = await conversation.turn(text)
        except (aiohttp.ClientError, asyncio.TimeoutError, TurnFailed) as exc:
            results.error(str(exc) or type(exc).__name__)
            return  # the rest of this conversation would make no sense
        results.latencies_ms.append(latency)
        results.by_step.setdefault(step.name(), []).append(latency)
        if step.expect and step.expect not in visible(replies):
            results.mismatches += 1
            results.mismatch_kinds[step.expect] = results.mismatch_kinds.get(step.expect, 0) + 1
    results.conversations += 1


ConversationFactory = Callable[[aiohttp.ClientSession, int], tuple[Conversation, list[Step]]]


async def closed_loop(
    make: ConversationFactory, concurrency: int, seconds: float, after_each: Any = None
) -> Results:
    """`concurrency` residents at a time for `seconds`; conversations already started finish
    their current turn only (a turn in flight when time is up is still counted)."""
    results = Results()
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        connector = aiohttp.TCPConnector(limit=1, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            while time.monotonic() < deadline:
                conversation, steps = make(session, next(counter))
                await run_script(conversation, steps, results, deadline)
                if after_each is not None:
                    await after_each(conversation)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    results.elapsed_s = time.monotonic() - started
    return results


async def long_conversation(
    base_url: str, kind: str, sender: str, cycle: Sequence[str], turns: int = 200
) -> dict[str, Any]:
    """One resident's `turns` turns in a row on an otherwise idle bot: how latency grows
    with the length of a conversation. Turn 1 and turn 200 are each the median of a window
    of five turns (1–5, 196–200): a single turn is too noisy on a shared machine."""
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession() as session:
        conversation = Conversation(session, endpoint(kind, base_url), sender)
        for number in range(turns):
            try:
                latency, _ = await conversation.turn(cycle[number % len(cycle)])
            except (aiohttp.ClientError, asyncio.TimeoutError, TurnFailed):
                errors += 1
                latency = float("nan")
            latencies.append(latency)
    first = [x for x in latencies[:5] if x == x]
    last = [x for x in latencies[-5:] if x == x]
    return {
        "turn1_ms": round(statistics.median(first), 1) if first else None,
        "turn200_ms": round(statistics.median(last), 1) if last else None,
        "long_errors": errors,
    }
