"""Finding the biller a resident means, checking consumer numbers and fetching bills."""

from __future__ import annotations

import pytest

from bot.errors import (
    BillerUnavailable,
    ConsumerNotFound,
    InvalidConsumerNumber,
    NotLinked,
    UnknownBiller,
)
from bot.model.billing import Biller, Utility
from bot.ports import SsoHolder
from bot.services.billing import BillingService
from tests.fakes import (
    AVVNL,
    JDVVNL,
    JVVNL,
    KEDL,
    PHED,
    TPADL,
    FakeBillerDirectory,
    InMemoryDatabase,
)

pytestmark = pytest.mark.asyncio

K_NUMBER = "210145678912"


# --- which biller ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("JVVNL0000RAJ01", JVVNL),
        ("jvvnl", JVVNL),
        ("JdVVNL", JDVVNL),
        ("Ajmer Vidyut Vitran Nigam", AVVNL),
        ("Jaipur ki bijli", JVVNL),
        ("  UDAIPUR  ", AVVNL),
        ("tata power", TPADL),
        ("kota", KEDL),
        ("mera bill avvnl ka hai", AVVNL),
    ],
)
async def test_resolve_biller_by_id_short_name_name_or_city(
    billing: BillingService, typed: str, expected: Biller
) -> None:
    assert billing.resolve_biller(typed, Utility.ELECTRICITY) == expected


@pytest.mark.parametrize("typed", ["jvvnl ya avvnl", "udaipur ya jodhpur", "bijli", "mumbai"])
async def test_resolve_biller_refuses_to_guess_between_several_or_none(
    billing: BillingService, typed: str
) -> None:
    with pytest.raises(UnknownBiller):
        billing.resolve_biller(typed, Utility.ELECTRICITY)


async def test_resolve_biller_only_looks_at_the_utility_asked_for(billing: BillingService) -> None:
    assert billing.resolve_biller("phed", Utility.WATER) == PHED
    with pytest.raises(UnknownBiller):
        billing.resolve_biller("phed", Utility.ELECTRICITY)


async def test_resolve_biller_matches_aliases_as_whole_words(billing: BillingService) -> None:
    # PHED's "jal" must not be found inside the city of Jalore, nor in "jaldi" (quickly).
    assert billing.resolve_biller("Jalore") == JDVVNL
    assert billing.resolve_biller("jaipur ka bill jaldi batao") == JVVNL


async def test_resolve_biller_prefers_the_longer_name_that_contains_a_shorter_one(
    billing: BillingService,
) -> None:
    assert billing.resolve_biller("tp ajmer", Utility.ELECTRICITY) == TPADL


@pytest.mark.parametrize(("typed", "expected"), [("Jaipur?", JVVNL), ("JVVNL.", JVVNL)])
async def test_resolve_biller_ignores_punctuation_after_a_name(
    billing: BillingService, typed: str, expected: Biller
) -> None:
    assert billing.resolve_biller(typed, Utility.ELECTRICITY) == expected


@pytest.mark.parametrize("typed", ["jaipur ya ajmer", "kota ya jaipur"])
async def test_resolve_biller_refuses_to_choose_between_two_places_named(
    billing: BillingService, typed: str
) -> None:
    with pytest.raises(UnknownBiller):
        billing.resolve_biller(typed, Utility.ELECTRICITY)


async def test_billers_for_lists_one_utility_in_display_order(billing: BillingService) -> None:
    assert billing.billers_for(Utility.ELECTRICITY)[:2] == [JVVNL, AVVNL]
    assert billing.billers_for(Utility.WATER) == [PHED]


# --- consumer numbers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    [
        "210145678912",
        "2101 4567 8912",
        "2101-4567-8912",
        " 2101 - 4567 - 8912 ",
        "२१०१४५६७८९१२",
        "२१०१ ४५६७-८९१२",
    ],
)
async def test_consumer_number_accepts_spaces_hyphens_and_devanagari_digits(
    billing: BillingService, typed: str
) -> None:
    assert billing.normalise_consumer_number(JVVNL.biller_id, typed) == K_NUMBER


@pytest.mark.parametrize("typed", ["21014567891", "2101456789123", "21014567891A", "K Number", ""])
async def test_consumer_number_of_wrong_length_or_with_letters_is_refused(
    billing: BillingService, typed: str
) -> None:
    with pytest.raises(InvalidConsumerNumber) as refused:
        billing.normalise_consumer_number(JVVNL.biller_id, typed)

    assert refused.value.biller == JVVNL
    assert refused.value.typed == typed


async def test_consumer_number_rule_is_per_biller(billing: BillingService) -> None:
    ten_digits = "2101456789"

    assert billing.normalise_consumer_number(TPADL.biller_id, ten_digits) == ten_digits
    with pytest.raises(InvalidConsumerNumber):
        billing.normalise_consumer_number(JVVNL.biller_id, ten_digits)


async def test_biller_with_alphanumeric_ids_accepts_letters_in_any_case() -> None:
    biller = Biller(
        biller_id="GASCO0000RAJ01",
        name="Gas Co",
        short_name="GASCO",
        utility=Utility.GAS,
        param_name="Customer ID",
        min_length=8,
        max_length=10,
        pattern="[A-Z0-9]+",
    )

    assert biller.normalise_consumer_number("ab12-34 cd") == "AB1234CD"


async def test_unknown_biller_id_is_refused(billing: BillingService) -> None:
    with pytest.raises(UnknownBiller):
        billing.normalise_consumer_number("NOPE0000RAJ01", K_NUMBER)


# --- fetching ----------------------------------------------------------------------------------
async def test_fetch_before_linking_raises_not_linked_and_asks_no_biller(
    open_chat, billing: BillingService, billers: FakeBillerDirectory
) -> None:
    billers.add_bill(JVVNL, K_NUMBER)

    with pytest.raises(NotLinked):
        await billing.fetch(await open_chat(), JVVNL.biller_id, K_NUMBER)

    assert billers.fetches == []


async def test_fetch_returns_the_bill_using_the_residents_registered_mobile(
    linked_chat, billing: BillingService, billers: FakeBillerDirectory, ramesh: SsoHolder
) -> None:
    bill = billers.add_bill(JVVNL, K_NUMBER, amount_paise=123_450)
    chat = await linked_chat(ramesh)

    fetched = await billing.fetch(chat, JVVNL.biller_id, "2101 4567 8912")

    assert fetched.bill == bill
    assert fetched.biller == JVVNL
    assert billers.fetches == [(JVVNL.biller_id, K_NUMBER, ramesh.mobile)]


async def test_fetch_saves_the_account_once_however_the_number_is_typed(
    linked_chat,
    billing: BillingService,
    billers: FakeBillerDirectory,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    billers.add_bill(JVVNL, K_NUMBER)
    chat = await linked_chat(ramesh)

    first = await billing.fetch(chat, JVVNL.biller_id, K_NUMBER)
    again = await billing.fetch(chat, JVVNL.biller_id, "२१०१-४५६७-८९१२")

    assert (first.newly_saved, again.newly_saved) == (True, False)
    (account,) = await billing.saved_accounts(chat)
    assert (account.biller_id, account.consumer_number, account.utility) == (
        JVVNL.biller_id,
        K_NUMBER,
        Utility.ELECTRICITY,
    )
    assert len(db.accounts) == 1


async def test_saved_accounts_follow_the_resident_to_another_chat_and_filter_by_utility(
    linked_chat, billing: BillingService, billers: FakeBillerDirectory, ramesh: SsoHolder
) -> None:
    billers.add_bill(JVVNL, K_NUMBER)
    billers.add_bill(PHED, "120034567890")
    first_chat = await linked_chat(ramesh)
    await billing.fetch(first_chat, JVVNL.biller_id, K_NUMBER)
    await billing.fetch(first_chat, PHED.biller_id, "120034567890")

    second_chat = await linked_chat(ramesh)

    water = await billing.saved_accounts(second_chat, Utility.WATER)
    assert [a.consumer_number for a in water] == ["120034567890"]
    assert len(await billing.saved_accounts(second_chat)) == 2


async def test_saved_accounts_of_one_resident_are_not_shown_to_another(
    linked_chat,
    billing: BillingService,
    billers: FakeBillerDirectory,
    ramesh: SsoHolder,
    sunita: SsoHolder,
) -> None:
    billers.add_bill(JVVNL, K_NUMBER)
    await billing.fetch(await linked_chat(ramesh), JVVNL.biller_id, K_NUMBER)

    assert await billing.saved_accounts(await linked_chat(sunita)) == []


async def test_unknown_consumer_number_saves_nothing(
    linked_chat, billing: BillingService, db: InMemoryDatabase, ramesh: SsoHolder
) -> None:
    chat = await linked_chat(ramesh)

    with pytest.raises(ConsumerNotFound):
        await billing.fetch(chat, JVVNL.biller_id, K_NUMBER)

    assert db.accounts == {}


async def test_biller_down_is_reported_and_saves_nothing(
    linked_chat,
    billing: BillingService,
    billers: FakeBillerDirectory,
    db: InMemoryDatabase,
    ramesh: SsoHolder,
) -> None:
    billers.add_bill(JVVNL, K_NUMBER)
    billers.unavailable = True
    chat = await linked_chat(ramesh)

    with pytest.raises(BillerUnavailable):
        await billing.fetch(chat, JVVNL.biller_id, K_NUMBER)

    assert db.accounts == {}


async def test_malformed_number_is_refused_before_asking_the_biller(
    linked_chat, billing: BillingService, billers: FakeBillerDirectory, ramesh: SsoHolder
) -> None:
    chat = await linked_chat(ramesh)

    with pytest.raises(InvalidConsumerNumber):
        await billing.fetch(chat, JVVNL.biller_id, "12345")

    assert billers.fetches == []


async def test_the_only_saved_account_of_a_utility_is_offered_for_pre_filling(
    linked_chat, billing: BillingService, billers: FakeBillerDirectory, ramesh: SsoHolder
) -> None:
    billers.add_bill(JVVNL, K_NUMBER)
    chat = await linked_chat(ramesh)
    assert await billing.sole_account(chat, Utility.ELECTRICITY) is None  # nothing saved yet

    await billing.fetch(chat, JVVNL.biller_id, K_NUMBER)

    only = await billing.sole_account(chat, Utility.ELECTRICITY)
    assert only is not None and (only.biller_id, only.consumer_number) == (
        JVVNL.biller_id,
        K_NUMBER,
    )
    assert await billing.sole_account(chat, Utility.WATER) is None
    assert await billing.sole_account(chat, Utility.ELECTRICITY, "AVVNL0000RAJ01") is None


async def test_with_two_saved_accounts_nothing_is_pre_filled_and_the_resident_is_asked(
    linked_chat, billing: BillingService, billers: FakeBillerDirectory, ramesh: SsoHolder
) -> None:
    second = "210145670001"
    billers.add_bill(JVVNL, K_NUMBER)
    billers.add_bill(JVVNL, second)
    chat = await linked_chat(ramesh)
    await billing.fetch(chat, JVVNL.biller_id, K_NUMBER)
    await billing.fetch(chat, JVVNL.biller_id, second)

    assert await billing.sole_account(chat, Utility.ELECTRICITY) is None
    assert await billing.sole_account(chat, Utility.ELECTRICITY, JVVNL.biller_id) is None


async def test_an_unlinked_chat_has_no_account_to_pre_fill(
    open_chat, billing: BillingService
) -> None:
    assert await billing.sole_account(await open_chat(), Utility.ELECTRICITY) is None
