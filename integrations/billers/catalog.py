"""The billers we know, read from `catalog.yml`, and the lookups every biller directory shares.

Biller metadata is configuration, not code: ids and consumer-number rules for some billers
are unconfirmed (domain reference) and must be correctable without a release.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.errors import UnknownBiller
from bot.model.billing import Biller, Utility

CATALOG_PATH = Path(__file__).with_name("catalog.yml")


def load_billers(path: Path | None = None) -> list[Biller]:
    """Billers from the catalog file, in display order. Raises ValueError on a bad entry."""
    entries = yaml.safe_load((path or CATALOG_PATH).read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError("the biller catalog must be a list of billers")
    billers = [_biller(entry) for entry in entries]
    ids = [biller.biller_id for biller in billers]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate biller id in the catalog")
    return billers


def _biller(entry: dict[str, Any]) -> Biller:
    try:
        return Biller(
            biller_id=str(entry["biller_id"]),
            name=str(entry["name"]),
            short_name=str(entry["short_name"]),
            utility=Utility(entry["utility"]),
            param_name=str(entry["param_name"]),
            min_length=int(entry["min_length"]),
            max_length=int(entry["max_length"]),
            pattern=str(entry["pattern"]),
            convenience_fee_paise=int(entry.get("convenience_fee_paise", 0)),
            aliases=tuple(str(alias).lower() for alias in entry.get("aliases", ())),
            shared_towns=tuple(str(town).lower() for town in entry.get("shared_towns", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"bad biller entry {entry!r}") from exc


class BillerCatalog:
    """`billers()` and `get()` of the BillerDirectory port, shared by the real and the
    sandbox directories so both answer them identically."""

    def __init__(self, billers: Sequence[Biller]) -> None:
        self._billers = tuple(billers)
        self._by_id = {biller.biller_id: biller for biller in self._billers}

    def billers(self, utility: Utility | None = None) -> Sequence[Biller]:
        return [b for b in self._billers if utility is None or b.utility is utility]

    def get(self, biller_id: str) -> Biller:
        try:
            return self._by_id[biller_id]
        except KeyError:
            raise UnknownBiller(biller_id) from None
