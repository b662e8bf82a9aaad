"""A resident's saved accounts as the dialogue shows and remembers them: labels, one-tap
buttons, the fetched bill kept in a slot."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rasa_sdk import Tracker

from actions.runtime import services
from bot.errors import NotLinked
from bot.model.billing import Bill, Biller, SavedAccount, Utility
from bot.model.identifiers import mask, mask_name

UTILITY_ICONS = {Utility.ELECTRICITY: "⚡", Utility.WATER: "💧", Utility.GAS: "🔥"}

BILL_SLOTS = ("utility", "biller", "consumer_number")

# The saved account to leave out of pre-filling and the offered buttons: the one just shown,
# when the resident asked for "another bill".
SKIP_SLOT = "skip_account"

# Saved accounts offered as buttons at most: a list that still fits a phone's screen.
MAX_ACCOUNT_BUTTONS = 4


def account_key(biller_id: str, consumer_number: str) -> str:
    return f"{biller_id}|{consumer_number}"


def account_label(account: SavedAccount) -> str:
    """How a saved account is named to its owner: company and masked consumer number."""
    biller = services().billing.biller(account.biller_id)
    return f"{biller.short_name} {mask(account.consumer_number)}"


def account_payload(account: SavedAccount) -> str:
    """A one-tap choice of a saved account: the payload fills all three form slots."""
    return whole_account_payload(
        "inform", account.utility, account.biller_id, account.consumer_number
    )


def whole_account_payload(
    intent: str, utility: Utility, biller_id: str, consumer_number: str
) -> str:
    """`/intent{…}` naming a whole account: all three of the bill form's slots filled."""
    entities = {"utility": utility.value, "biller": biller_id, "consumer_number": consumer_number}
    return f"/{intent}" + json.dumps(entities)


def account_button(account: SavedAccount) -> dict[str, str]:
    return {
        "title": f"{UTILITY_ICONS[account.utility]} {account_label(account)}",
        "payload": account_payload(account),
    }


def biller_button(biller: Biller, consumer_number: str | None = None) -> dict[str, str]:
    entities = {"biller": biller.biller_id}
    if consumer_number:
        entities["consumer_number"] = consumer_number
    return {"title": biller.short_name, "payload": "/inform" + json.dumps(entities)}


def bill_slot(bill: Bill) -> dict[str, Any]:
    """The fetched bill as the `bill` slot holds it (JSON-safe, name already masked)."""
    return {
        "biller_id": bill.biller_id,
        "consumer_number": bill.consumer_number,
        "customer_name": mask_name(bill.customer_name),
        "bill_number": bill.bill_number,
        "bill_date": bill.bill_date.isoformat(),
        "due_on": bill.due_on.isoformat(),
        "amount_paise": bill.amount_paise,
        "outstanding_paise": bill.outstanding_paise,
    }


def bill_from_slot(value: Any) -> Bill | None:
    if not isinstance(value, dict):
        return None
    return Bill(
        biller_id=value["biller_id"],
        consumer_number=value["consumer_number"],
        customer_name=value["customer_name"],
        bill_number=value["bill_number"],
        bill_date=date.fromisoformat(value["bill_date"]),
        due_on=date.fromisoformat(value["due_on"]),
        amount_paise=int(value["amount_paise"]),
        outstanding_paise=int(value["outstanding_paise"]),
    )


async def saved_accounts(tracker: Tracker, utility: Utility | None = None) -> list[SavedAccount]:
    """The resident's saved accounts, without the one they asked to move away from."""
    if not tracker.get_slot("linked"):
        return []
    try:
        accounts = await services().billing.saved_accounts(tracker.sender_id, utility)
    except NotLinked:
        return []
    skip = tracker.get_slot(SKIP_SLOT)
    return [a for a in accounts if account_key(a.biller_id, a.consumer_number) != skip]


async def all_saved_accounts(tracker: Tracker) -> list[SavedAccount]:
    """Every saved account of the resident, none left out."""
    if not tracker.get_slot("linked"):
        return []
    try:
        return await services().billing.saved_accounts(tracker.sender_id)
    except NotLinked:
        return []


async def sole_account(
    tracker: Tracker, utility: Utility, biller_id: str | None = None
) -> SavedAccount | None:
    """The account to pre-fill when the resident names a utility (or a company): their only
    saved account for it, unless that is the one they asked to move away from."""
    accounts = [
        a
        for a in await saved_accounts(tracker, utility)
        if biller_id is None or a.biller_id == biller_id
    ]
    return accounts[0] if len(accounts) == 1 else None
