"""Serialising turns per conversation inside this process.

Rasa's own lock store is unfit for this (shared/reference/rasa.md): two messages of one
resident sent in quick succession must reach Rasa one after the other, or the second turn
reads a tracker the first has not finished writing. Different conversations still run in
parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol


class TurnLocks(Protocol):
    """Serialises turns per conversation: this process's registry below, or a Redis lease
    shared by several gateway processes (integrations/cache/turn_locks.py)."""

    def hold(self, key: Hashable) -> AbstractAsyncContextManager[Any]: ...

    def __len__(self) -> int: ...


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # the turn running plus those waiting for it


class ConversationLocks:
    """One lock per conversation with a turn in flight.

    An entry lives only while someone holds or awaits it, so the registry is bounded by the
    number of concurrent requests instead of the number of residents ever seen.
    """

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        entry = self._entries.setdefault(key, _Entry())
        entry.holders += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
