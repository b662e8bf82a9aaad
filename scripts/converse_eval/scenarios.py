"""Scenario files: scripted residents who leave the happy path (README, "Conversation repair").

A file in tests/conversations/scenarios/ holds `scenarios:`, a list of mappings:

    - name: hi-web-sso-question        # unique across all files
      channel: webchat                 # webchat | whatsapp | sms | telegram
      language: hi                     # en | hi | hinglish: the language the resident writes
      resident: sunita.devi            # a seed resident; the scenario gets its own copy
      situations: [question_about_question]
      happy_turns: 5                   # messages the happy path to the same goal takes
      goal: payment_link               # or {kind: bill_shown, account: PHED}
      forbid: [handoff_queued]         # goals that must not happen (optional)
      turns:
        - bijli ka bill bharna hai     # typed text
        - say: SSO ID kya hoti hai?
          expect: utter_ask_sso_id     # a response name; "a|b" = either; a list = all;
                                       # "utter_confirm_payment*" = any name starting so
        - tap: JdVVNL                  # a button, by its title
        - tap: PHED
          optional: true               # skipped when the bot does not offer it (it may not ask)
        - say: "{otp}"
          not_expect: utter_default
          expect_text: "(?i)jodhpur"   # a regular expression (rarely needed)
        - say: menu
          menu: true                   # this turn asks for the menu: the menu is not "lost"
        - say: hello?
          after_goal: true             # sent even after the goal is reached

The resident stops writing once the goal is reached (a confirmation the bot did not need is
never sent); only turns marked `after_goal` are still sent, and each must get an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "tests" / "conversations" / "scenarios"
CHANNELS = ("webchat", "whatsapp", "sms", "telegram")
LANGUAGES = ("en", "hi", "hinglish")
GOALS = (
    "payment_link",  # a payment link (/sandbox/pay/) was given
    "bill_shown",  # a bill (utter_bill) was shown
    "linked",  # the chat got linked to the SSO ID (utter_linked)
    "unlinked",  # the chat was unlinked after a confirmation (utter_unlinked)
    "complaint_raised",  # a complaint number RJC… was given
    "handoff_queued",  # queued for a person (later `after_goal` turns must be answered)
    "reminders_off",  # bill reminders turned off (utter_reminders_off)
    "reminders_on",  # turned back on (utter_reminders_on)
    "reminder_settings_saved",  # a reminder setting changed (utter_reminder_settings_saved)
    "data_shown",  # "what do you know about me" answered
    "data_deleted",  # the resident's data erased
    "cancelled",  # a cancellation confirmed, and nothing with a side effect happened
    "faq_answered",  # an FAQ answer (utter_faq_*, or the one named by `faq`)
    "out_of_scope",  # answered as out of scope (a response named utter_out_of_scope*)
    "bill_copy",  # the current bill as a PDF: utter_bill_copy(_paid) with its /bills/ link
)
SITUATIONS = (
    "happy_path",
    "cancel",
    "stop_keyword",
    "question_about_question",
    "correction",
    "digression",
    "otp_not_received",
    "wrong_otp",
    "other_biller",
    "yes_no_typed",
    "unexpected_input",
    "nothing_due",
    "utility_outside_form",
    "out_of_scope",
    "handoff",
    "side_effect_confirmation",
    "language_mixing",
    "town_to_company",
)


class ScenarioError(ValueError):
    """A scenario file that does not follow the format."""


@dataclass(frozen=True)
class Turn:
    say: str | None = None  # typed text (placeholders filled by the runner)
    tap: str | None = None  # the title of a button to press
    menu: bool = False
    after_goal: bool = False  # still sent once the goal is reached (e.g. writing while queued)
    optional: bool = False  # a tap skipped when the bot does not offer that button
    expect: tuple[str, ...] = ()  # each item: "name" or "name_a|name_b"
    not_expect: tuple[str, ...] = ()
    expect_text: str | None = None
    not_expect_text: str | None = None

    @property
    def shown(self) -> str:
        return f"[tap] {self.tap}" if self.tap is not None else str(self.say)


@dataclass(frozen=True)
class Goal:
    kind: str
    account: str | None = None  # a biller short name or utility: which account it is about
    faq: str | None = None  # faq_answered: the FAQ (utter_faq_<faq>)


@dataclass(frozen=True)
class Scenario:
    name: str
    channel: str
    language: str
    resident: str
    situations: tuple[str, ...]
    happy_turns: int
    goal: Goal
    turns: tuple[Turn, ...]
    forbid: tuple[str, ...] = ()
    source: str = ""
    telegram_language_code: str | None = None
    notes: str = field(default="", compare=False)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise ScenarioError(f"{where}: expected a response name or a list of them")
    return tuple(items)


def parse_turn(raw: Any, where: str) -> Turn:
    if isinstance(raw, (str, int)):
        return Turn(say=str(raw))
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a turn is text or a mapping")
    unknown = set(raw) - {
        "say",
        "tap",
        "menu",
        "after_goal",
        "optional",
        "expect",
        "not_expect",
        "expect_text",
        "not_expect_text",
    }
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    if ("say" in raw) == ("tap" in raw):
        raise ScenarioError(f"{where}: a turn has exactly one of `say` and `tap`")
    if raw.get("optional") and "tap" not in raw:
        raise ScenarioError(f"{where}: only a tap can be optional")
    return Turn(
        say=str(raw["say"]) if "say" in raw else None,
        tap=str(raw["tap"]) if "tap" in raw else None,
        menu=bool(raw.get("menu", False)),
        after_goal=bool(raw.get("after_goal", False)),
        optional=bool(raw.get("optional", False)),
        expect=_names(raw.get("expect"), where),
        not_expect=_names(raw.get("not_expect"), where),
        expect_text=raw.get("expect_text"),
        not_expect_text=raw.get("not_expect_text"),
    )


def parse_goal(raw: Any, where: str) -> Goal:
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, dict) or raw.get("kind") not in GOALS:
        raise ScenarioError(f"{where}: goal must be one of {', '.join(GOALS)}")
    return Goal(kind=raw["kind"], account=raw.get("account"), faq=raw.get("faq"))


def parse_scenario(raw: Any, source: str = "") -> Scenario:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ScenarioError(f"{source}: every scenario needs a name")
    where = f"{source}: {raw['name']}"
    required = ("channel", "language", "resident", "situations", "happy_turns", "goal", "turns")
    missing = [key for key in required if key not in raw]
    if missing:
        raise ScenarioError(f"{where}: missing {', '.join(missing)}")
    if raw["channel"] not in CHANNELS or raw["language"] not in LANGUAGES:
        raise ScenarioError(f"{where}: channel must be one of {CHANNELS}, language of {LANGUAGES}")
    situations = tuple(raw["situations"] or ())
    unknown = [s for s in situations if s not in SITUATIONS]
    if not situations or unknown:
        raise ScenarioError(f"{where}: situations must be among {SITUATIONS} (got {unknown})")
    forbid = tuple(raw.get("forbid") or ())
    if any(kind not in GOALS for kind in forbid):
        raise ScenarioError(f"{where}: forbid lists goals")
    turns = tuple(parse_turn(t, f"{where} turn {i}") for i, t in enumerate(raw["turns"] or (), 1))
    happy = raw["happy_turns"]
    if not turns or not isinstance(happy, int) or happy < 1:
        raise ScenarioError(f"{where}: needs turns and a positive happy_turns")
    return Scenario(
        name=str(raw["name"]),
        channel=raw["channel"],
        language=raw["language"],
        resident=str(raw["resident"]),
        situations=situations,
        happy_turns=happy,
        goal=parse_goal(raw["goal"], where),
        turns=turns,
        forbid=forbid,
        source=source,
        telegram_language_code=raw.get("telegram_language_code"),
        notes=str(raw.get("notes") or ""),
    )


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario of every file, in file order; names must be unique."""
    scenarios: list[Scenario] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
            raise ScenarioError(f"{path.name}: expected a top-level `scenarios:` list")
        scenarios += [parse_scenario(raw, path.name) for raw in data["scenarios"]]
    names = [s.name for s in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScenarioError(f"scenario names used twice: {duplicates}")
    return scenarios
