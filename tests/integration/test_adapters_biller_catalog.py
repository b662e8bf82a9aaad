"""The biller catalog: every biller a resident can pick, with rules that accept real
consumer numbers and names that resolve to one biller."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from bot.errors import AmbiguousBiller, InvalidConsumerNumber
from bot.model.billing import Utility
from bot.services.billing import BillingService
from integrations.billers.catalog import BillerCatalog, load_billers

BILLERS = load_billers()


def test_the_catalog_lists_rajasthans_billers_in_display_order() -> None:
    assert [b.biller_id for b in BILLERS] == [
        "JVVNL0000RAJ01",
        "AVVNL0000RAJ01",
        "JDVVNL000RAJ01",
        "KEDLOB000RAJ02",
        "BESLOB000RAJ02",
        "BKESL0000RAJ02",
        "TPADL0000RAJ01",
        "PHED00000RAJ01",
        "RSGL00000RAJ01",
        "TGPL00000RAJ01",
    ]
    assert {b.utility for b in BILLERS} == set(Utility)


@pytest.mark.parametrize(
    ("biller_id", "typed", "expected"),
    [
        ("JVVNL0000RAJ01", "2101 4567-8912", "210145678912"),
        ("AVVNL0000RAJ01", "३१०२६७८९४५०१", "310267894501"),
        ("TPADL0000RAJ01", "4100567890", "4100567890"),
        ("PHED00000RAJ01", "120034567890", "120034567890"),
        ("TGPL00000RAJ01", "1000-234-567", "1000234567"),
    ],
)
def test_each_biller_accepts_its_own_number_format(
    biller_id: str, typed: str, expected: str
) -> None:
    biller = next(b for b in BILLERS if b.biller_id == biller_id)

    assert biller.normalise_consumer_number(typed) == expected


@pytest.mark.parametrize("typed", ["21014567891", "2101456789123", "21014567891A"])
def test_a_discom_refuses_a_k_number_of_the_wrong_shape(typed: str) -> None:
    with pytest.raises(InvalidConsumerNumber):
        BILLERS[0].normalise_consumer_number(typed)


def test_no_alias_names_two_billers_of_one_utility() -> None:
    for first, second in combinations(BILLERS, 2):
        if first.utility is second.utility:
            assert not set(first.aliases) & set(second.aliases), (
                first.short_name,
                second.short_name,
            )
    for biller in BILLERS:
        assert all(alias == alias.lower().strip() for alias in biller.aliases)


def test_city_names_point_at_the_biller_that_serves_them() -> None:
    by_alias = {alias: b.short_name for b in BILLERS for alias in b.aliases}

    assert by_alias["jaipur"] == "JVVNL"
    assert by_alias["udaipur"] == "AVVNL"
    assert by_alias["jodhpur"] == "JdVVNL"
    # Franchisee cities belong to the franchisee, not the discom around them.
    assert (by_alias["kota"], by_alias["bharatpur"], by_alias["bikaner"]) == (
        "KEDL",
        "BESL",
        "BkESL",
    )


def test_electricity_bills_carry_no_convenience_fee() -> None:
    assert all(b.convenience_fee_paise == 0 for b in BILLERS if b.utility is Utility.ELECTRICITY)


def test_a_malformed_catalog_is_refused_at_load(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yml"
    bad.write_text("- {biller_id: X, name: X}\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_billers(bad)


def _billing() -> BillingService:
    return BillingService(None, BillerCatalog(BILLERS))  # type: ignore[arg-type]  # names only


@pytest.mark.parametrize("typed", ["Ajmer", "ajmer ka bill", "अजमेर"])
def test_ajmer_alone_asks_between_tp_ajmer_and_avvnl(typed: str) -> None:
    """TP Ajmer serves Ajmer city, AVVNL the rest of the district: guessing AVVNL sent city
    residents' 10-digit numbers to the wrong company, again and again."""
    with pytest.raises(AmbiguousBiller) as asked:
        _billing().resolve_biller(typed, Utility.ELECTRICITY)

    assert [b.short_name for b in asked.value.candidates] == ["TPADL", "AVVNL"]
    assert asked.value.town in ("ajmer", "अजमेर")


def test_two_places_named_are_both_offered() -> None:
    with pytest.raises(AmbiguousBiller) as asked:
        _billing().resolve_biller("jaipur ya ajmer", Utility.ELECTRICITY)

    assert [b.short_name for b in asked.value.candidates] == ["JVVNL", "AVVNL"]
    assert asked.value.town is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("tp ajmer", "TPADL"),
        ("Ajmer city", "TPADL"),
        ("ajmer discom", "AVVNL"),
        ("Udaipur", "AVVNL"),
    ],
)
def test_a_precise_name_still_picks_one_company(typed: str, expected: str) -> None:
    assert _billing().resolve_biller(typed, Utility.ELECTRICITY).short_name == expected


def test_a_number_is_offered_the_companies_whose_numbers_look_like_it() -> None:
    billing = _billing()

    assert [b.short_name for b in billing.billers_fitting("4100567890", Utility.ELECTRICITY)] == [
        "TPADL"
    ]
    assert len(billing.billers_fitting("210145678912", Utility.ELECTRICITY)) == 6
    assert billing.billers_fitting("12345", Utility.ELECTRICITY) == []
