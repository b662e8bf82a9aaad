"""What happened in one scenario: each turn's message and the bot's answer, and the result."""

from __future__ import annotations

from dataclasses import dataclass, field

from scripts.converse_eval.channels import BotMessage

# Answers that mean the bot lost the resident: the generic did-not-understand and the menu.
LOST_RESPONSES = frozenset({"utter_default", "utter_help"})


@dataclass
class TurnRecord:
    index: int  # the resident's message number, 1-based (skipped optional taps not counted)
    turn: int  # the scenario's turn it played, 1-based
    sent: str  # what the resident typed, or "[tap] title"
    replies: list[BotMessage]
    responses: frozenset[str]  # domain responses recognised in the replies
    asked_for_menu: bool = False
    callback_answered: bool | None = None  # Telegram button presses
    failures: list[str] = field(default_factory=list)  # failed per-turn checks
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(message.text for message in self.replies)

    @property
    def lost(self) -> bool:
        return bool(self.responses & LOST_RESPONSES) and not self.asked_for_menu

    @property
    def silent(self) -> bool:
        return not self.replies


@dataclass
class ScenarioResult:
    name: str
    channel: str
    language: str
    situations: tuple[str, ...]
    happy_turns: int
    goal: str
    records: list[TurnRecord] = field(default_factory=list)
    goal_reached_at: int | None = None  # the turn after which the goal was reached
    reasons: list[str] = field(default_factory=list)  # why it failed; empty when it passed
    error: str | None = None  # the run itself broke (timeout, HTTP error, bad placeholder)
    stuck: str | None = None  # the resident could not go on (e.g. no code was ever sent)
    language_mixups: list[str] = field(default_factory=list)  # the offending bot texts
    sms_journey_segments: int | None = None  # SMS: segments up to the payment link

    @property
    def passed(self) -> bool:
        return not self.reasons and self.error is None and self.goal_reached_at is not None

    @property
    def turns(self) -> int:
        """Messages the resident needed: up to the goal, or every one sent when not reached."""
        return self.goal_reached_at if self.goal_reached_at is not None else len(self.records)

    @property
    def lost_turns(self) -> int:
        return sum(record.lost for record in self.records)

    @property
    def silent_turns(self) -> int:
        return sum(record.silent for record in self.records)

    @property
    def whatsapp_per_turn(self) -> list[int]:
        return [len(r.replies) for r in self.records] if self.channel == "whatsapp" else []
