"""Each scenario's own resident, and filling a turn's placeholders with their details.

A scenario names a resident of the sandbox seed (integrations/sandbox/seed.yml) and gets a
copy of them: the same name, language, billers and bills (paid stays paid), but an SSO ID,
a mobile and consumer numbers of its own, so scenarios never share a conversation, a saved
account or an OTP send limit. Copies keep each biller's number format (same length, digits
only) and the original's leading digits, so they look like the real thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.model.sensitive import luhn_valid

ROOT = Path(__file__).resolve().parents[2]
SEED_PATH = ROOT / "integrations" / "sandbox" / "seed.yml"
DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([A-Za-z0-9_]+))?(?:\|([a-z]+))?\}")


class PlaceholderError(ValueError):
    """A placeholder that cannot be filled (unknown name, no such account)."""


class NoCodeSent(PlaceholderError):
    """{otp} when the bot never sent the resident a code: they have nothing to type."""


@dataclass(frozen=True)
class Account:
    utility: str
    biller_id: str
    consumer_number: str


@dataclass(frozen=True)
class ResidentCopy:
    sso_id: str
    mobile: str
    accounts: tuple[Account, ...]
    seed_entry: Mapping[str, Any]  # the copy as a seed file entry

    def account(self, key: str) -> Account:
        """The account of biller `key` (its short name, e.g. TPADL or JdVVNL: a biller id
        starts with it) or of utility `key` (electricity, water, gas)."""
        wanted = key.upper()
        found = [a for a in self.accounts if a.biller_id.upper().startswith(wanted)]
        found = found or [a for a in self.accounts if a.utility == key.lower()]
        if len(found) != 1:
            raise PlaceholderError(f"{self.sso_id} has {len(found)} accounts matching {key!r}")
        return found[0]


def load_seed_residents(path: Path = SEED_PATH) -> dict[str, Mapping[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(entry["sso_id"]): entry for entry in data["residents"]}


def copy_resident(original: Mapping[str, Any], index: int) -> ResidentCopy:
    """Copy number `index` (0-999) of a seed resident."""
    if not 0 <= index <= 999:
        raise ValueError("index must be 0..999")
    sso_id = f"{original['sso_id']}{index:03d}"
    mobile = f"+9169{index:08d}"
    accounts, entries = [], []
    for position, account in enumerate(original["accounts"]):
        number = str(account["consumer_number"])
        # Length kept; the middle names the copy, the last four tell its accounts apart.
        new = number[: len(number) - 6] + f"{index:03d}{position}" + number[-2:]
        accounts.append(Account(str(account["utility"]), str(account["biller_id"]), new))
        entries.append({**account, "consumer_number": new})
    entry = {**original, "sso_id": sso_id, "mobile": mobile, "accounts": entries}
    return ResidentCopy(sso_id, mobile, tuple(accounts), entry)


def write_seed(path: Path, residents: Sequence[ResidentCopy]) -> None:
    path.write_text(
        yaml.safe_dump({"residents": [dict(r.seed_entry) for r in residents]}, allow_unicode=True),
        encoding="utf-8",
    )


def _format(value: str, style: str | None) -> str:
    if style is None:
        return value
    if style == "spaced":  # as printed on many bills: groups of four
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    if style == "devanagari":
        return value.translate(DEVANAGARI_DIGITS)
    if style == "upper":  # typed with caps lock on, or as printed on an SSO letter
        return value.upper()
    if style == "extradigit":
        # A slip of the finger: one digit too many. Never one that makes a card number (13 to
        # 19 digits passing the Luhn check), which the gateway cuts out before any form sees it.
        return next(value + d for d in "0123456789" if not luhn_valid(value + d))
    raise PlaceholderError(f"unknown format |{style}")


def fill(text: str, resident: ResidentCopy, otps: Sequence[str] = ()) -> str:
    """`text` with its placeholders filled for `resident`; `otps` are the codes sent to
    their mobile so far, oldest first.

    {sso_id} {mobile} {account:TPADL} {account:water} {otp} (the latest code)
    {otp:first} (the first code: one that "arrives late") {wrong_otp} (six digits that are
    none of the codes sent). Any of them may end in |spaced, |devanagari, |upper or
    |extradigit."""

    def one(match: re.Match[str]) -> str:
        name, argument, style = match.group(1), match.group(2), match.group(3)
        if name == "sso_id":
            value = resident.sso_id
        elif name == "mobile":
            value = resident.mobile
        elif name == "account" and argument:
            value = resident.account(argument).consumer_number
        elif name == "otp":
            if not otps:
                raise NoCodeSent("the resident has no code to type: none was sent to their mobile")
            value = otps[0] if argument == "first" else otps[-1]
        elif name == "wrong_otp":
            value = next(code for code in ("135790", "246801", "864200") if code not in otps)
        else:
            raise PlaceholderError(f"unknown placeholder {match.group(0)}")
        return _format(value, style)

    return PLACEHOLDER.sub(one, text)
