"""Keeping under a provider's rate limits without a queue: each send reserves the next free
slot, globally and for its chat, and sleeps until it comes.

Reservations are taken without awaiting, so concurrent senders on one event loop never
race for the same slot.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, insort
from collections.abc import Callable, Hashable


class Pacer:
    def __init__(
        self,
        per_second: float,
        per_key_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._global_interval = 1.0 / per_second
        self._key_interval = per_key_interval_s
        self._clock = clock
        self._slots: list[float] = []  # reserved send times, sorted, >= interval apart
        self._next_by_key: dict[Hashable, float] = {}

    def reserve(self, key: Hashable) -> float:
        """The moment this send may go; the slot is taken."""
        now = self._clock()
        if len(self._next_by_key) > 10_000:  # forget chats that are free again
            self._next_by_key = {k: t for k, t in self._next_by_key.items() if t > now}
        at = self._global_slot(now, max(now, self._next_by_key.get(key, 0.0)))
        self._next_by_key[key] = at + self._key_interval
        return at

    def _global_slot(self, now: float, earliest: float) -> float:
        """The first time at or after `earliest` at least one interval away from every
        reserved slot: a chat waiting for its own turn does not hold up other chats."""
        gap, slots = self._global_interval, self._slots
        del slots[: bisect_left(slots, now - gap)]
        at = earliest
        index = bisect_left(slots, at - gap)
        while index < len(slots) and slots[index] < at + gap:
            if slots[index] > at - gap:
                at = slots[index] + gap
            index += 1
        insort(slots, at)
        return at

    async def wait(self, key: Hashable) -> None:
        delay = self.reserve(key) - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    def hold(self, key: Hashable, seconds: float) -> None:
        """The provider said to wait (a 429's retry_after): nothing for `key` until then."""
        until = self._clock() + seconds
        self._next_by_key[key] = max(self._next_by_key.get(key, 0.0), until)
