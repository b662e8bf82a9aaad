"""Faults on the whole stack in its production shape (tests/faults/stack.py): the gateway
killed mid-burst, Redis cut for 30 s, PostgreSQL cut, Rasa killed and restarted by the
supervisor. In each, every message Twilio got a 2xx for is answered exactly once, in order,
with what it is answered without faults, and no side effect (an OTP sent, a complaint filed)
happens twice.

"Answered as without faults" is measured against reference residents who say the same
things one message at a time on the quiet stack (digits aside: codes, masked numbers and
complaint numbers differ per resident). The figures each test measures are printed (README,
"Faults").
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.faults.stack import FaultStack, Redelivering, bodies_to, message, prelink

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(900),
]

# Side effects in each: an OTP sent and one resent; a complaint filed. No numbered option is
# typed: in a burst, "1" would refer to whatever list was delivered last.
UNLINKED = ("hi", "link my account", "{sso_id}", "resend")
LINKED = ("hi", "I want to raise a complaint", "service", "the bill amount looks wrong")
APOLOGY = "cannot answer right now"
QUIET_S = 3.0


def normalised(bodies: list[str]) -> list[str]:
    return [re.sub(r"\d+", "#", body) for body in bodies]


class Residents:
    """Hands out the stack's sandbox residents, each to one test."""

    def __init__(self, stack: FaultStack) -> None:
        self._left = list(stack.residents)

    def take(self, count: int) -> list[dict[str, Any]]:
        taken, self._left = self._left[:count], self._left[count:]
        assert len(taken) == count, "not enough sandbox residents seeded"
        return taken


@pytest.fixture(scope="module")
def residents(fault_stack: FaultStack) -> Residents:
    return Residents(fault_stack)


def script(kind: tuple[str, ...], resident: dict[str, Any]) -> list[str]:
    return [line.format(sso_id=resident["sso_id"]) for line in kind]


def say_one_at_a_time(stack: FaultStack, mobile: str, texts: list[str]) -> list[str]:
    twilio = Redelivering(stack)
    try:
        for said in texts:
            seen = len(bodies_to(stack, mobile))
            twilio.post(message(said, mobile))
            wait_until(lambda seen=seen: len(bodies_to(stack, mobile)) > seen, 120)  # type: ignore[misc]
            quiet(stack, [mobile])
    finally:
        twilio.close()
    return bodies_to(stack, mobile)


@pytest.fixture(scope="module")
def reference(fault_stack: FaultStack, residents: Residents) -> dict[str, list[str]]:
    """What each script is answered on the quiet stack, one message at a time."""
    unlinked, linked = residents.take(2)
    asyncio.run(prelink(fault_stack.env, [linked]))
    return {
        "unlinked": normalised(
            say_one_at_a_time(fault_stack, unlinked["mobile"], script(UNLINKED, unlinked))
        ),
        "linked": normalised(
            say_one_at_a_time(fault_stack, linked["mobile"], script(LINKED, linked))
        ),
    }


def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def quiet(stack: FaultStack, mobiles: list[str]) -> None:
    """Until nothing more arrives for QUIET_S."""
    last, count = time.monotonic(), -1
    while time.monotonic() - last < QUIET_S:
        now = sum(len(bodies_to(stack, m)) for m in mobiles)
        if now != count:
            count, last = now, time.monotonic()
        time.sleep(0.2)


class Conversations:
    """Residents each sending a script, all at once; Twilio redelivers what was not 2xx."""

    def __init__(self, stack: FaultStack, people: list[tuple[dict[str, Any], list[str]]]) -> None:
        self.stack = stack
        self.people = people
        self.twilio = Redelivering(stack)
        self._lock = threading.Lock()

    def send_all(self, pause_s: float = 0.0, stagger_s: float = 0.0) -> None:
        """Each resident's messages `pause_s` apart, the residents starting `stagger_s` apart."""

        def one(numbered: tuple[int, tuple[dict[str, Any], list[str]]]) -> None:
            number, (resident, texts) = numbered
            time.sleep(number * stagger_s)
            for said in texts:
                self.twilio.post(message(said, resident["mobile"]))
                time.sleep(pause_s)

        with ThreadPoolExecutor(max_workers=len(self.people)) as pool:
            list(pool.map(one, enumerate(self.people)))

    def wait_answered(self, expected: dict[str, int], seconds: float) -> None:
        mobiles = [resident["mobile"] for resident, _ in self.people]
        try:
            wait_until(
                lambda: all(len(bodies_to(self.stack, m)) >= expected[m] for m in mobiles),
                seconds,
            )
            quiet(self.stack, mobiles)
            wait_until(lambda: pending(self.stack) == (0, 0), 60)
        except AssertionError as timed_out:
            short = {m: len(bodies_to(self.stack, m)) for m in mobiles}
            raise AssertionError(
                f"not all answered: {short}, pending {pending(self.stack)}\n{self.stack.tail(60)}"
            ) from timed_out

    def close(self) -> None:
        self.twilio.close()


def pending(stack: FaultStack) -> tuple[int, int]:
    """(inbox entries not answered, deliveries not settled) in the app's database."""
    ((inbox,),) = app_query(stack, "SELECT count(*) FROM inbox WHERE processed_at IS NULL")
    ((deliveries,),) = app_query(
        stack,
        "SELECT count(*) FROM outbox o LEFT JOIN outbox_deliveries d ON d.sequence = o.sequence"
        " WHERE d.state IS NULL OR d.state IN ('pending', 'sending')"
        " OR (d.state = 'uncertain' AND d.next_attempt_at IS NOT NULL)",
    )
    return int(inbox), int(deliveries)


def app_query(stack: FaultStack, sql: str) -> list[Any]:
    """A query on the app's database, straight to PostgreSQL (not through the proxy)."""
    url = make_url(stack.env["DATABASE_URL"])
    real = make_url(stack.postgres_url)
    engine = create_engine(url.set(host=real.host, port=real.port))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)))
    finally:
        engine.dispose()


def check_answered_once(
    stack: FaultStack,
    people: list[tuple[dict[str, Any], str]],
    reference: dict[str, list[str]],
) -> dict[str, int]:
    """Each resident got exactly their script's reference answers, in order; counts."""
    wrong = {
        resident["mobile"]: normalised(bodies_to(stack, resident["mobile"]))
        for resident, kind in people
        if normalised(bodies_to(stack, resident["mobile"])) != reference[kind]
    }
    assert not wrong, f"{len(wrong)} of {len(people)} residents answered wrongly: {wrong}"
    replies = sum(len(bodies_to(stack, r["mobile"])) for r, _ in people)
    apologies = sum(APOLOGY in body for r, _ in people for body in bodies_to(stack, r["mobile"]))
    assert apologies == 0
    return {"residents": len(people), "replies": replies, "apologies": apologies}


def check_side_effects_once(stack: FaultStack, people: list[tuple[dict[str, Any], str]]) -> None:
    """One code and one resent code per unlinked resident; one complaint per linked one."""
    for resident, kind in people:
        if kind == "unlinked":
            assert len(stack.sandbox_sms(resident["mobile"])) == 2, resident["mobile"]
    linked = [f"resident-{r['sso_id']}" for r, kind in people if kind == "linked"]
    if linked:
        rows = app_query(
            stack,
            "SELECT resident_id, count(*) FROM complaints GROUP BY resident_id",
        )
        counts = {resident_id: count for resident_id, count in rows}
        assert [counts.get(r, 0) for r in linked] == [1] * len(linked)


def cast(
    fault_stack: FaultStack, residents: Residents, count: int
) -> list[tuple[dict[str, Any], str]]:
    """`count` residents, half unlinked (an OTP sent and resent), half linked (a complaint)."""
    taken = residents.take(count)
    people = [(r, "unlinked" if n % 2 == 0 else "linked") for n, r in enumerate(taken)]
    asyncio.run(prelink(fault_stack.env, [r for r, kind in people if kind == "linked"]))
    return people


def scripts(people: list[tuple[dict[str, Any], str]]) -> list[tuple[dict[str, Any], list[str]]]:
    kinds = {"unlinked": UNLINKED, "linked": LINKED}
    return [(resident, script(kinds[kind], resident)) for resident, kind in people]


def expected_counts(
    people: list[tuple[dict[str, Any], str]], reference: dict[str, list[str]]
) -> dict[str, int]:
    return {resident["mobile"]: len(reference[kind]) for resident, kind in people}


# --- the faults ------------------------------------------------------------------------------


def test_a_burst_with_the_gateway_killed_midway_is_answered_once_in_order(
    fault_stack: FaultStack, residents: Residents, reference: dict[str, list[str]]
) -> None:
    """200 WhatsApp messages from 50 residents; the gateway gets SIGKILL when 80 are in and
    is restarted by the supervisor; Twilio redelivers whatever was not answered 2xx."""
    people = cast(fault_stack, residents, 50)
    talk = Conversations(fault_stack, scripts(people))
    killed: list[float] = []

    def kill_midway() -> None:
        # Mid-way: 80 messages in, turns under way and replies going out.
        replied = len(fault_stack.twilio.twilio())
        wait_until(
            lambda: talk.twilio.accepted >= 80 and len(fault_stack.twilio.twilio()) >= replied + 10,
            180,
        )
        fault_stack.kill("gateway")
        killed.append(time.monotonic())

    killer = threading.Thread(target=kill_midway)
    killer.start()
    started = time.monotonic()
    fault_stack.twilio.delay_s = 0.05  # sends take a while: some are under way at the kill
    try:
        talk.send_all(pause_s=0.5, stagger_s=0.1)  # 200 messages over about 7 s
        killer.join()
        talk.wait_answered(expected_counts(people, reference), 300)
    finally:
        fault_stack.twilio.delay_s = 0.0
        talk.close()
    counts = check_answered_once(fault_stack, people, reference)
    check_side_effects_once(fault_stack, people)

    assert talk.twilio.accepted == 200 and killed
    figures = {
        **counts,
        "accepted": talk.twilio.accepted,
        "redelivered_posts": talk.twilio.redelivered,
        "seconds": round(time.monotonic() - started, 1),
        "rasa_replays": fault_stack.log_count("answered before; sending"),
        "turns_postponed": fault_stack.log_count("turn postponed"),
        "reconciled_found": fault_stack.metric("bot_deliveries_reconciled_total", outcome="found"),
        "reconciled_resent": fault_stack.metric(
            "bot_deliveries_reconciled_total", outcome="resent"
        ),
        "uncertain": fault_stack.metric("bot_deliveries_uncertain_total"),
    }
    print(f"\nfaults: gateway killed mid-burst: {figures}")


def test_redis_cut_for_30_s_under_traffic_leaves_no_message_without_its_reply(
    fault_stack: FaultStack, residents: Residents, reference: dict[str, list[str]]
) -> None:
    people = cast(fault_stack, residents, 20)
    talk = Conversations(fault_stack, scripts(people))
    web_after: list[int] = []
    postponed = fault_stack.log_count("turn postponed")
    restored: list[float] = []

    def cut() -> None:
        time.sleep(2)
        fault_stack.redis.cut()
        time.sleep(30)
        fault_stack.redis.restore()
        restored.append(time.monotonic())
        # Web chat turns right after: each must be answered (no 200 with nothing).
        with httpx.Client(base_url=fault_stack.base_url, timeout=60) as web:
            for n in range(20):
                answer = web.post(
                    "/webchat/messages",
                    json={"sender": f"faults-web-{n}-{secrets.token_hex(16)}", "text": "hi"},
                )
                web_after.append(
                    len(answer.json()["messages"])
                    if answer.status_code == 200
                    else -answer.status_code
                )

    cutter = threading.Thread(target=cut)
    cutter.start()
    try:
        talk.send_all(pause_s=2.0)  # spread over the outage
        cutter.join()
        talk.wait_answered(expected_counts(people, reference), 300)
    finally:
        fault_stack.redis.restore()
        talk.close()
    counts = check_answered_once(fault_stack, people, reference)
    check_side_effects_once(fault_stack, people)

    assert fault_stack.redis.refused > 0  # the outage was felt
    assert all(n > 0 for n in web_after), web_after
    figures = {
        **counts,
        "turns_postponed": fault_stack.log_count("turn postponed") - postponed,
        "all_answered_s_after_restore": round(time.monotonic() - restored[0] - QUIET_S, 1),
        "web_chat_turns_after_answered": sum(n > 0 for n in web_after),
    }
    print(f"\nfaults: Redis cut 30 s: {figures}")


def test_postgresql_cut_loses_and_repeats_nothing(
    fault_stack: FaultStack, residents: Residents, reference: dict[str, list[str]]
) -> None:
    people = cast(fault_stack, residents, 10)
    talk = Conversations(fault_stack, scripts(people))

    def cut() -> None:
        time.sleep(2)
        fault_stack.postgres.cut()
        time.sleep(10)
        fault_stack.postgres.restore()

    cutter = threading.Thread(target=cut)
    cutter.start()
    try:
        talk.send_all(pause_s=1.0)
        cutter.join()
        talk.wait_answered(expected_counts(people, reference), 300)
    finally:
        fault_stack.postgres.restore()
        talk.close()
    counts = check_answered_once(fault_stack, people, reference)
    check_side_effects_once(fault_stack, people)
    print(f"\nfaults: PostgreSQL cut 10 s: {counts}, posts redelivered {talk.twilio.redelivered}")


def test_rasa_killed_is_restarted_and_every_message_is_answered_once_after(
    fault_stack: FaultStack, residents: Residents, reference: dict[str, list[str]]
) -> None:
    people = cast(fault_stack, residents, 30)
    talk = Conversations(fault_stack, scripts(people))
    restart: dict[str, float] = {}
    postponed = fault_stack.log_count("turn postponed")

    def kill_rasa() -> None:
        wait_until(lambda: talk.twilio.accepted >= 30, 120)
        pid = fault_stack.kill("rasa")
        killed = time.monotonic()
        wait_until(lambda: fault_stack.child("rasa") not in (None, pid), 60)
        fault_stack.wait_healthy(300)
        restart["rasa_back_after_s"] = round(time.monotonic() - killed, 1)

    killer = threading.Thread(target=kill_rasa)
    killer.start()
    try:
        talk.send_all(pause_s=0.5)
        killer.join()
        talk.wait_answered(expected_counts(people, reference), 400)
    finally:
        talk.close()
    counts = check_answered_once(fault_stack, people, reference)
    check_side_effects_once(fault_stack, people)
    assert "rasa_back_after_s" in restart  # it was killed, and came back
    restart["turns_postponed"] = fault_stack.log_count("turn postponed") - postponed
    print(f"\nfaults: Rasa killed and restarted: {counts}, {restart}")
