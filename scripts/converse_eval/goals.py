"""Did the resident get what they came for? Read from the bot's messages alone.

Each goal is recognised in what the bot said (response names found by `ResponseCatalog`, or
plain facts such as a payment link), never taken from the scenario's word. A goal about an
account (`account: TPADL`) must be about that account: its consumer number's last four
digits (what the bot shows, masked) in the bill, or in the last account mentioned before
the payment link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from scripts.converse_eval.residents import ResidentCopy
from scripts.converse_eval.scenarios import Goal
from scripts.converse_eval.transcript import TurnRecord

PAYMENT_LINK = re.compile(r"/sandbox/pay/\w+")
COMPLAINT_NUMBER = re.compile(r"\bRJC\d{6,}\b")
HANDOFF = frozenset({"utter_handoff_queued", "utter_handoff_after_hours"})
DATA_SHOWN = frozenset({"utter_my_data_linked", "utter_my_data_unlinked"})
BILL_COPY = frozenset({"utter_bill_copy", "utter_bill_copy_paid"})
# What a clean cancellation must not have done.
SIDE_EFFECTS = (
    "payment_link",
    "data_deleted",
    "unlinked",
    "reminders_off",
    "reminders_on",
    "reminder_settings_saved",
    "complaint_raised",
    "handoff_queued",
)


def _names(record: TurnRecord, wanted: frozenset[str]) -> bool:
    return bool(record.responses & wanted)


def _last4(number: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\d){number[-4:]}(?!\d)")


def _mentions_account(text: str, number: str) -> bool:
    return bool(_last4(number).search(text))


def _about_account_before_link(
    records: Sequence[TurnRecord], upto: int, resident: ResidentCopy, number: str
) -> bool:
    """Whether the last of the resident's accounts the bot named, up to the payment link
    in turn `upto`, is `number`."""
    text = "\n".join(r.text for r in records[:upto])
    link = PAYMENT_LINK.search(text)
    text = text[: link.start()] if link else text
    last_at, last = -1, None
    for account in resident.accounts:
        for match in _last4(account.consumer_number).finditer(text):
            if match.start() > last_at:
                last_at, last = match.start(), account.consumer_number
    return last == number


def turn_reaches(goal: Goal, record: TurnRecord) -> bool:
    """Whether this turn's answer is the goal itself (account checks come on top)."""
    kind = goal.kind
    checks: dict[str, Callable[[], bool]] = {
        "payment_link": lambda: bool(PAYMENT_LINK.search(record.text)),
        "bill_shown": lambda: "utter_bill" in record.responses,
        "linked": lambda: "utter_linked" in record.responses,
        "unlinked": lambda: "utter_unlinked" in record.responses,
        "complaint_raised": lambda: (
            "utter_complaint_raised" in record.responses
            and bool(COMPLAINT_NUMBER.search(record.text))
        ),
        "handoff_queued": lambda: _names(record, HANDOFF),
        "reminders_off": lambda: "utter_reminders_off" in record.responses,
        "reminders_on": lambda: "utter_reminders_on" in record.responses,
        "reminder_settings_saved": lambda: "utter_reminder_settings_saved" in record.responses,
        "data_shown": lambda: _names(record, DATA_SHOWN),
        "data_deleted": lambda: "utter_data_deleted" in record.responses,
        "cancelled": lambda: any("cancel" in name for name in record.responses),
        "faq_answered": lambda: any(
            name == f"utter_faq_{goal.faq}" if goal.faq else name.startswith("utter_faq_")
            for name in record.responses
        ),
        "out_of_scope": lambda: any(n.startswith("utter_out_of_scope") for n in record.responses),
        # The link is the PDF's (SMS shows it; the other channels' attachments carry it).
        "bill_copy": lambda: _names(record, BILL_COPY) and "/bills/" in record.text,
    }
    return checks[kind]()


def first_reached(
    goal: Goal, records: Sequence[TurnRecord], resident: ResidentCopy
) -> tuple[int | None, list[str]]:
    """The turn (1-based) after which the goal was reached, or None, and reasons it was not."""
    number = resident.account(goal.account).consumer_number if goal.account else None
    near_misses = []
    for record in records:
        if not turn_reaches(goal, record):
            continue
        if number is not None:
            if goal.kind == "payment_link":
                ok = _about_account_before_link(records, record.index, resident, number)
            else:
                ok = _mentions_account(record.text, number)
            if not ok:
                near_misses.append(f"turn {record.index}: {goal.kind} but not for {goal.account}")
                continue
        return record.index, []
    return None, near_misses or [f"goal {goal.kind} not reached"]


def side_effects(records: Sequence[TurnRecord], kinds: Sequence[str]) -> list[str]:
    """Which of `kinds` happened anywhere in the conversation, as reasons."""
    found = []
    for kind in kinds:
        for record in records:
            if turn_reaches(Goal(kind), record):
                found.append(f"turn {record.index}: {kind} happened")
                break
    return found


def evaluate(
    goal: Goal, forbid: Sequence[str], records: Sequence[TurnRecord], resident: ResidentCopy
) -> tuple[int | None, list[str]]:
    """The turn the goal was reached at (None if never) and every reason the scenario fails
    on its goal: not reached, a forbidden or (for a cancellation) any side effect."""
    reached, reasons = first_reached(goal, records, resident)
    if goal.kind == "cancelled":
        forbid = [*forbid, *SIDE_EFFECTS]
    reasons += side_effects(records, [kind for kind in dict.fromkeys(forbid) if kind != goal.kind])
    return reached, reasons
