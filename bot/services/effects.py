"""A turn's side effects (an OTP sent, a complaint filed) at most once per resident message.

A resident's message can be turned into a turn more than once: the gateway commits a turn's
outcome only after the dialogue engine answered, so a crash or a timeout in between sends
the same message again. Rasa answers a repeat from its tracker when the first turn was
saved (integrations/rasa/engine/keyed_turns.py); when it was not (Rasa itself died mid-turn), the
actions run again. Each effect is therefore done through `TurnEffects.once`, keyed by the
message (the gateway's message key, which actions read from the tracker's latest message):

- the first run claims (message, effect) in the database, then does the effect, then records
  what it came to; the effect runs shielded from cancellation (Rasa giving up on the action
  server, or the caller disconnecting), so it is recorded even when nobody waits for it;
- a repeat finds the claim and returns the recorded outcome (waiting a few seconds for a
  first run still under way) instead of doing the effect again;
- an effect that failed (raised) is not recorded: its claim is released and a repeat tries
  again, as the resident would by asking again;
- a claim with no outcome after the wait means the process doing it died mid-way: the effect
  may have happened, so it is not repeated and `EffectUncertain` is raised.

Outcomes are short strings (an id, masked values): no personal data is kept here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from bot.errors import EffectUncertain
from bot.ports import Clock, EffectLedger

T = TypeVar("T")

# A first run still under way is waited for this long before the effect is called uncertain.
WAIT_FOR_FIRST_RUN_S = 10.0
POLL_S = 0.05
# Repeats come within minutes (the gateway gives a message a few minutes): keep two days.
KEEP = timedelta(days=2)


class TurnEffects:
    def __init__(
        self, ledger: EffectLedger, clock: Clock, wait_s: float = WAIT_FOR_FIRST_RUN_S
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._wait_s = wait_s

    async def once(
        self,
        message_key: str,
        effect: str,
        run: Callable[[], Awaitable[T]],
        save: Callable[[T], str],
        load: Callable[[str], Awaitable[T]],
    ) -> T:
        """`run()` once for this message, or what its first run came to (`load` of what
        `save` made of it). Without a message key (a caller outside a turn) it just runs."""
        if not message_key:
            return await run()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        while True:
            if await self._ledger.claim(message_key, effect, self._clock.now()):
                work = asyncio.ensure_future(self._run(message_key, effect, run, save))
                return await asyncio.shield(work)
            claimed, outcome = await self._ledger.outcome(message_key, effect)
            if outcome is not None:
                return await load(outcome)
            if claimed and loop.time() > deadline:
                raise EffectUncertain(f"{effect} of message {message_key} never finished")
            if claimed:
                await asyncio.sleep(POLL_S)
            # Not claimed any more: the first run failed and released it; try ourselves.

    async def _run(
        self,
        message_key: str,
        effect: str,
        run: Callable[[], Awaitable[T]],
        save: Callable[[T], str],
    ) -> T:
        try:
            result = await run()
        except BaseException:
            await self._ledger.release(message_key, effect)
            raise
        await self._ledger.record(message_key, effect, save(result))
        return result

    async def prune(self) -> int:
        """Forget outcomes older than KEEP; how many."""
        return await self._ledger.prune(self._clock.now() - KEEP)
