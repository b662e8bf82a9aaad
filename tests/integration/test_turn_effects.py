"""A turn's side effects at most once per resident message (bot/services/effects.py), on
the SQL ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import EffectUncertain, SmsUnavailable
from bot.services.effects import KEEP, TurnEffects
from integrations.db.effects import SqlEffectLedger
from tests.fakes import FakeClock


class Effect:
    """Counts how often it really ran; each run's outcome is its number."""

    def __init__(self, delay_s: float = 0.0, fail: BaseException | None = None) -> None:
        self.runs = 0
        self.delay_s = delay_s
        self.fail = fail

    async def __call__(self) -> int:
        self.runs += 1
        await asyncio.sleep(self.delay_s)
        if self.fail is not None:
            raise self.fail
        return self.runs


async def load(outcome: str) -> int:
    return int(outcome)


def key() -> str:
    return f"whatsapp:SM{uuid.uuid4().hex}"


@pytest.fixture
def effects(engine: AsyncEngine) -> TurnEffects:
    return TurnEffects(SqlEffectLedger(engine), FakeClock(), wait_s=0.3)


async def test_a_message_run_again_gets_the_first_outcome_without_a_second_effect(
    effects: TurnEffects,
) -> None:
    send, message = Effect(), key()

    first = await effects.once(message, "otp_send", send, str, load)
    again = await effects.once(message, "otp_send", send, str, load)
    other = await effects.once(key(), "otp_send", send, str, load)

    assert (first, again, other) == (1, 1, 2)
    assert send.runs == 2  # once for each message, not once per run


async def test_without_a_message_key_the_effect_just_runs(effects: TurnEffects) -> None:
    send = Effect()
    await effects.once("", "otp_send", send, str, load)
    await effects.once("", "otp_send", send, str, load)
    assert send.runs == 2


async def test_a_failed_effect_is_tried_again_by_the_next_run(effects: TurnEffects) -> None:
    send, message = Effect(fail=SmsUnavailable("down")), key()
    with pytest.raises(SmsUnavailable):
        await effects.once(message, "otp_send", send, str, load)
    send.fail = None
    assert await effects.once(message, "otp_send", send, str, load) == 2


async def test_two_runs_at_once_do_the_effect_once(effects: TurnEffects) -> None:
    send, message = Effect(delay_s=0.1), key()
    outcomes = await asyncio.gather(
        *(effects.once(message, "complaint", send, str, load) for _ in range(3))
    )
    assert outcomes == [1, 1, 1] and send.runs == 1


async def test_an_effect_whose_caller_gave_up_is_still_recorded(effects: TurnEffects) -> None:
    """Rasa gives up on the action server, or the gateway's connection drops: the effect
    that started is finished and recorded, so the retry does not do it again."""
    send, message = Effect(delay_s=0.2), key()
    caller = asyncio.ensure_future(effects.once(message, "otp_send", send, str, load))
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0.3)

    assert await effects.once(message, "otp_send", send, str, load) == 1
    assert send.runs == 1


async def test_an_effect_cut_off_by_a_dead_process_is_uncertain_and_not_repeated(
    engine: AsyncEngine, effects: TurnEffects
) -> None:
    message, send = key(), Effect()
    # The process that claimed it died before recording what it came to.
    assert await SqlEffectLedger(engine).claim(message, "otp_send", FakeClock().now())
    with pytest.raises(EffectUncertain):
        await effects.once(message, "otp_send", send, str, load)
    assert send.runs == 0


async def test_old_outcomes_are_pruned(engine: AsyncEngine) -> None:
    clock = FakeClock()
    effects = TurnEffects(SqlEffectLedger(engine), clock)
    send, old = Effect(), key()
    await effects.once(old, "complaint", send, str, load)
    clock.advance(KEEP + timedelta(minutes=1))
    await effects.once(key(), "complaint", send, str, load)

    assert await effects.prune() == 1
    assert await effects.once(old, "complaint", send, str, load) == 3  # forgotten: runs
