"""The per-conversation lock registry that serialises turns."""

from __future__ import annotations

import asyncio

import pytest

from app.gateway.turn_locks import ConversationLocks

pytestmark = pytest.mark.asyncio


async def test_locks_are_forgotten_once_no_turn_needs_them() -> None:
    locks = ConversationLocks()
    order: list[str] = []

    async def turn(key: str, name: str) -> None:
        async with locks.hold(key):
            order.append(f"start {name}")
            await asyncio.sleep(0.01)
            order.append(f"end {name}")

    await asyncio.gather(turn("a", "a1"), turn("a", "a2"))

    assert order == ["start a1", "end a1", "start a2", "end a2"]
    assert len(locks) == 0


async def test_a_failing_turn_releases_its_lock() -> None:
    locks = ConversationLocks()
    with pytest.raises(RuntimeError):
        async with locks.hold("a"):
            raise RuntimeError("boom")
    async with locks.hold("a"):
        pass
    assert len(locks) == 0
