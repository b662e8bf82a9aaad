"""Playing one scenario against the running stack, turn by turn, and judging it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from scripts.converse_eval import goals
from scripts.converse_eval.channels import (
    Answer,
    BotMessage,
    Button,
    ChannelClient,
    Telegram,
    Twilio,
    WebChat,
)
from scripts.converse_eval.metrics import language_mixups
from scripts.converse_eval.residents import NoCodeSent, PlaceholderError, ResidentCopy, fill
from scripts.converse_eval.responses import ResponseCatalog, named, normalise
from scripts.converse_eval.scenarios import Scenario, Turn
from scripts.converse_eval.stack import Stack
from scripts.converse_eval.transcript import ScenarioResult, TurnRecord
from scripts.converse_eval.watcher import TurnNotFinished, TurnWatcher

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
TELEGRAM_LANGUAGE = {"en": "en", "hi": "hi", "hinglish": "en"}


@dataclass(frozen=True)
class Cast:
    """Who plays a scenario: its resident's copy and the addresses they write from."""

    scenario: Scenario
    resident: ResidentCopy
    index: int


def client_for(cast: Cast, stack: Stack) -> ChannelClient:
    scenario, resident = cast.scenario, cast.resident
    watcher = TurnWatcher(stack.database, stack.app_secret)
    if scenario.channel == "webchat":
        return WebChat(stack.base_url, f"converse-{uuid.uuid4().hex}")
    if scenario.channel in ("whatsapp", "sms"):
        return Twilio(scenario.channel, stack.base_url, stack.providers, watcher, resident.mobile)
    code = scenario.telegram_language_code or TELEGRAM_LANGUAGE[scenario.language]
    return Telegram(stack.base_url, stack.providers, watcher, 880_000_000 + cast.index, code)


def codes_sent(stack: Stack, mobile: str) -> list[str]:
    """The codes the sandbox SMS provider sent to `mobile`, oldest first."""
    response = httpx.get(f"{stack.base_url}/sandbox/sms", params={"to": mobile}, timeout=30)
    response.raise_for_status()
    found = (_CODE.search(m["text"]) for m in response.json()["messages"])
    return [match.group(1) for match in found if match]


def find_button(title: str, replies: Sequence[BotMessage]) -> Button | None:
    """The button titled `title` among the bot's last messages (latest first): the exact
    title, else one starting with it, else one containing it (case and emoji ignored)."""
    wanted = normalise(title).casefold()
    buttons = [b for message in reversed(replies) for b in message.buttons]
    for test in (str.__eq__, str.startswith, str.__contains__):
        for button in buttons:
            if test(normalise(button.title).casefold(), wanted):
                return button
    return None


def check_turn(turn: Turn, record: TurnRecord, catalog: ResponseCatalog) -> list[str]:
    """The turn's own checks that failed, each said as the resident's to-do item."""
    failures = []
    said = record.text.strip().replace("\n", " / ")[:300] or "(nothing)"
    for item in turn.expect:
        options = item.split("|")
        unknown = [name for name in options if not catalog.knows(name)]
        if unknown:
            failures.append(f"turn {record.index}: unknown response {', '.join(unknown)}")
        elif not named(item, record.responses):
            failures.append(
                f"turn {record.index} ({record.sent!r}): expected {item}, bot said: {said}"
            )
    for item in turn.not_expect:
        hit = named(item, record.responses)
        if hit:
            failures.append(
                f"turn {record.index} ({record.sent!r}): got {', '.join(sorted(hit))}: {said}"
            )
    if turn.expect_text and not re.search(turn.expect_text, record.text):
        failures.append(
            f"turn {record.index} ({record.sent!r}): expected /{turn.expect_text}/, bot said: {said}"
        )
    if turn.not_expect_text and re.search(turn.not_expect_text, record.text):
        failures.append(
            f"turn {record.index} ({record.sent!r}): /{turn.not_expect_text}/ in: {said}"
        )
    return failures


def play_turn(
    turn: Turn, index: int, client: ChannelClient, cast: Cast, stack: Stack, last: list[BotMessage]
) -> tuple[str, Answer, list[str]] | None:
    """Sends the turn; None for an optional tap the bot did not offer (nothing sent)."""
    notes: list[str] = []
    if turn.tap is not None:
        button = find_button(turn.tap, last)
        if button is not None:
            return f"[tap] {button.title}", client.press(button), notes
        if turn.optional:
            return None
        # No such button: a resident types what they wanted instead.
        notes.append(f"turn {index}: no button {turn.tap!r} offered; typed it")
        text = turn.tap
    else:
        text = str(turn.say)
        if "otp" in text:
            text = fill(text, cast.resident, codes_sent(stack, cast.resident.mobile))
        else:
            text = fill(text, cast.resident)
    return text, client.say(text), notes


def run_scenario(cast: Cast, stack: Stack, catalog: ResponseCatalog) -> ScenarioResult:
    scenario = cast.scenario
    result = ScenarioResult(
        name=scenario.name,
        channel=scenario.channel,
        language=scenario.language,
        situations=scenario.situations,
        happy_turns=scenario.happy_turns,
        goal=scenario.goal.kind,
    )
    client = client_for(cast, stack)
    last: list[BotMessage] = []
    reached = False
    for index, turn in enumerate(scenario.turns, 1):
        if reached and not turn.after_goal:
            continue  # the resident has what they came for
        if stack.down():
            result.error = f"turn {len(result.records) + 1}: {stack.down()}"
            break
        try:
            played = play_turn(turn, len(result.records) + 1, client, cast, stack, last)
            if played is None:
                continue
            sent, answer, notes = played
        except NoCodeSent as exc:
            # The bot's doing (it never sent a code), not the runner's: the resident is stuck.
            result.stuck = f"turn {len(result.records) + 1} ({turn.shown!r}): {exc}"
            break
        except (TurnNotFinished, httpx.HTTPError, PlaceholderError) as exc:
            number = len(result.records) + 1
            why = stack.down() or f"{type(exc).__name__}: {exc}"
            result.error = f"turn {number} ({turn.shown!r}): {why}"
            break
        record = TurnRecord(
            index=len(result.records) + 1,
            turn=index,
            sent=sent,
            replies=answer.messages,
            responses=catalog.names_in("\n".join(m.text for m in answer.messages)),
            asked_for_menu=turn.menu,
            callback_answered=answer.callback_answered,
            notes=notes,
        )
        record.failures = check_turn(turn, record, catalog)
        result.records.append(record)
        last = answer.messages
        reached = (
            reached
            or goals.first_reached(scenario.goal, result.records, cast.resident)[0] is not None
        )
    judge(result, cast, catalog)
    return result


def judge(result: ScenarioResult, cast: Cast, catalog: ResponseCatalog) -> None:
    scenario = cast.scenario
    reached, reasons = goals.evaluate(scenario.goal, scenario.forbid, result.records, cast.resident)
    result.goal_reached_at = reached
    result.reasons = reasons + [f for r in result.records for f in r.failures]
    if result.stuck:
        result.reasons.append(result.stuck)
    result.reasons += [
        f"turn {r.index} ({r.sent!r}): no answer"
        for r in result.records
        if r.silent and scenario.turns[r.turn - 1].after_goal
    ]
    messages = [m for r in result.records for m in r.replies]
    # Counted on their own (a target of 0), not as a failure to reach the goal.
    result.language_mixups = language_mixups(scenario.language, messages, catalog)
    if scenario.channel == "sms":
        result.sms_journey_segments = journey_segments(messages)


def journey_segments(messages: Sequence[BotMessage]) -> int | None:
    """Segments of every SMS up to and including the one with the payment link; None when
    the conversation never got one."""
    total = 0
    for message in messages:
        total += message.sms_segments
        if goals.PAYMENT_LINK.search(message.text):
            return total
    return None
