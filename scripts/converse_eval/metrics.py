"""The suite's figures (README, "Conversation repair"), from the scenarios' results.

Language of a bot message: Hindi when it holds Devanagari, English when it holds at least
three English words and no Devanagari, undecided otherwise (a link, a number, "OK").
Titles of buttons that offer the other language ("हिंदी में बात करें") are left out first.
A Hindi conversation's English message, or an English conversation's Hindi one, is a
mix-up; a Hinglish conversation may be answered in either, but in one: messages against
its majority are mix-ups.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from scripts.converse_eval.channels import BotMessage
from scripts.converse_eval.responses import DEVANAGARI, ResponseCatalog
from scripts.converse_eval.transcript import ScenarioResult

_URL = re.compile(r"https?://\S+")
_ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")


def message_language(message: BotMessage, catalog: ResponseCatalog) -> str | None:
    titles = " ".join(button.title for button in message.buttons)
    text = _URL.sub(" ", catalog.without_language_switches(f"{message.text}\n{titles}"))
    if DEVANAGARI.search(text):
        return "hi"
    return "en" if len(_ENGLISH_WORD.findall(text)) >= 3 else None


def language_mixups(
    language: str, messages: Sequence[BotMessage], catalog: ResponseCatalog
) -> list[str]:
    """The texts of bot messages not in the conversation's language."""
    judged = [(m, message_language(m, catalog)) for m in messages]
    judged = [(m, lang) for m, lang in judged if lang is not None]
    if language == "hinglish":
        counts = Counter(lang for _, lang in judged)
        if not counts:
            return []
        first = judged[0][1]
        # The majority; on a tie, the language the bot started in.
        expected = max(counts, key=lambda lang: (counts[lang], lang == first))
    else:
        expected = language
    return [m.text for m, lang in judged if lang != expected]


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _breakdown(results: Sequence[ScenarioResult], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[ScenarioResult]] = {}
    for result in results:
        groups.setdefault(getattr(result, key), []).append(result)
    return {
        name: {
            "scenarios": len(group),
            "succeeded": sum(r.passed for r in group),
            "lost_turns_per_scenario": round(sum(r.lost_turns for r in group) / len(group), 2),
            "turns_ratio_median": _median([r.turns / r.happy_turns for r in group]),
            "language_mixups": sum(len(r.language_mixups) for r in group),
        }
        for name, group in sorted(groups.items())
    }


def summary(results: Sequence[ScenarioResult], seconds: float | None = None) -> dict[str, Any]:
    """The last line of `make converse-eval`."""
    count = len(results)
    journeys = [r.sms_journey_segments for r in results if r.sms_journey_segments is not None]
    whatsapp = [n for r in results for n in r.whatsapp_per_turn]
    situations = Counter(s for r in results for s in r.situations)
    failed_situations = Counter(s for r in results if not r.passed for s in r.situations)
    figures: dict[str, Any] = {
        "scenarios": count,
        "succeeded": sum(r.passed for r in results),
        "success_rate": round(sum(r.passed for r in results) / count, 3) if count else None,
        "turns_median": _median([r.turns for r in results]),
        "turns_ratio_median": _median([r.turns / r.happy_turns for r in results]),
        "lost_turns_per_scenario": round(sum(r.lost_turns for r in results) / count, 2)
        if count
        else None,
        "lost_turns": sum(r.lost_turns for r in results),
        "silent_turns": sum(r.silent_turns for r in results),
        "sms_segments_per_journey": max(journeys) if journeys else None,
        "sms_journeys": len(journeys),
        "whatsapp_messages_per_turn": max(whatsapp) if whatsapp else None,
        "whatsapp_messages_per_turn_mean": round(statistics.mean(whatsapp), 2)
        if whatsapp
        else None,
        "language_mixups": sum(len(r.language_mixups) for r in results),
        "telegram_callbacks_unanswered": sum(
            record.callback_answered is False for r in results for record in r.records
        ),
        "errors": sum(r.error is not None for r in results),
        "by_channel": _breakdown(results, "channel"),
        "by_language": _breakdown(results, "language"),
        "situations": {
            name: {"scenarios": n, "failed": failed_situations[name]}
            for name, n in sorted(situations.items())
        },
    }
    if seconds is not None:
        figures["seconds"] = round(seconds, 1)
    return figures
