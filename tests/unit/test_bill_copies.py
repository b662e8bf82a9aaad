"""Bill copies: a signed link to a saved account's current bill, which nobody can bend to
another account, and the bill fetched again when the link is opened."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.errors import BillerUnavailable, ConsumerNotFound, NotLinked
from bot.model.residents import Language
from bot.ports import SsoHolder
from bot.services.bill_copies import BILL_COPY_LINK_VALIDITY, BillCopyLinks, BillCopyService
from bot.services.billing import BillingService
from tests.fakes import (
    JVVNL,
    PHED,
    FakeBillerDirectory,
    FakeClock,
    InMemoryDatabase,
    InMemoryUnitOfWorkFactory,
)
from tests.unit.conftest import PUBLIC_BASE_URL

KEY = b"unit-test-bill-copy-link-key-001"
K_NUMBER = "210145678912"

ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)


def verified(links: BillCopyLinks, resident_id: str, account_id: str, *rest: object) -> bool:
    language, expires, signature = rest
    return links.verify((resident_id, account_id), str(language), int(str(expires)), str(signature))


def link_parts(url: str) -> tuple[str, str, str, int, str]:
    """(resident id, account id, language, expires, signature) as the route reads them."""
    parts = urlsplit(url)
    resident_id, account_file = parts.path.removeprefix("/bills/").split("/")
    query = parse_qs(parts.query)
    return (
        unquote(resident_id),
        unquote(account_file.removesuffix(".pdf")),
        query["lang"][0],
        int(query["expires"][0]),
        query["sig"][0],
    )


@pytest.fixture
def links(clock: FakeClock) -> BillCopyLinks:
    return BillCopyLinks(PUBLIC_BASE_URL, KEY, clock)


@pytest.fixture
def copies(
    uow: InMemoryUnitOfWorkFactory,
    billers: FakeBillerDirectory,
    links: BillCopyLinks,
    clock: FakeClock,
) -> BillCopyService:
    return BillCopyService(uow, billers, links, clock)


# --- the link --------------------------------------------------------------------------------
@given(ids, ids, st.sampled_from(list(Language)))
def test_a_link_verifies_as_issued_and_its_ids_read_back(
    resident_id: str, account_id: str, language: Language
) -> None:
    links = BillCopyLinks(PUBLIC_BASE_URL, KEY, FakeClock())
    url = links.url_for(resident_id, account_id, language)

    parts = link_parts(url)

    assert url.startswith(f"{PUBLIC_BASE_URL}/bills/")
    assert parts[:3] == (resident_id, account_id, language.value)
    assert verified(links, *parts)


@given(ids, ids, ids, ids)
def test_a_link_for_one_account_opens_no_other(
    resident_id: str, account_id: str, other_resident: str, other_account: str
) -> None:
    assume((resident_id, account_id) != (other_resident, other_account))
    links = BillCopyLinks(PUBLIC_BASE_URL, KEY, FakeClock())
    _, _, language, expires, sig = link_parts(links.url_for(resident_id, account_id, Language.EN))

    assert not verified(links, other_resident, other_account, language, expires, sig)


def test_a_changed_language_expiry_or_signature_fails(links: BillCopyLinks) -> None:
    resident, account, language, expires, sig = link_parts(links.url_for("r1", "a1", Language.EN))

    assert verified(links, resident, account, language, expires, sig)
    assert not verified(links, resident, account, "hi", expires, sig)
    assert not verified(links, resident, account, language, expires + 3600, sig)
    assert not verified(links, resident, account, language, expires, "0" * len(sig))
    assert not verified(links, resident, account, language, expires, "é" * len(sig))
    other_key = BillCopyLinks(PUBLIC_BASE_URL, b"another-key", FakeClock())
    assert not verified(other_key, resident, account, language, expires, sig)


def test_a_link_dies_after_a_day(links: BillCopyLinks, clock: FakeClock) -> None:
    parts = link_parts(links.url_for("r1", "a1", Language.HI))

    clock.advance(BILL_COPY_LINK_VALIDITY)
    assert verified(links, *parts)
    clock.advance(timedelta(seconds=1))
    assert not verified(links, *parts)


def test_the_link_carries_no_consumer_number(links: BillCopyLinks) -> None:
    url = links.url_for("resident0001", "account0001", Language.EN)

    assert len(url) < 140  # an SMS line, with "Bill: " before it
    assert K_NUMBER not in url


# --- the use case ----------------------------------------------------------------------------
@pytest.fixture
async def saved(
    linked_chat, billing: BillingService, billers: FakeBillerDirectory, ramesh: SsoHolder
) -> str:
    """A chat of Ramesh, who has looked at his JVVNL bill (so the account is saved)."""
    billers.add_bill(
        JVVNL, K_NUMBER, amount_paise=1_23_456, outstanding_paise=1_30_000, bill_number="JV-1"
    )
    chat = await linked_chat(ramesh)
    await billing.fetch(chat, JVVNL.biller_id, K_NUMBER)
    return str(chat)


@pytest.mark.asyncio
async def test_the_link_opens_the_current_bill_fetched_again(
    copies: BillCopyService,
    links: BillCopyLinks,
    saved: str,
    billers: FakeBillerDirectory,
    ramesh: SsoHolder,
) -> None:
    url = await copies.link_for(saved, JVVNL.biller_id, K_NUMBER, Language.HI)
    resident_id, account_id, language, *_ = link_parts(url)
    assert language == "hi" and verified(links, *link_parts(url))
    billers.add_bill(JVVNL, K_NUMBER, amount_paise=2_000, bill_number="JV-2")  # a new bill
    fetched_before = len(billers.fetches)

    copy = await copies.current(resident_id, account_id)

    assert copy is not None
    assert len(billers.fetches) == fetched_before + 1
    assert billers.fetches[-1] == (JVVNL.biller_id, K_NUMBER, ramesh.mobile)
    assert (copy.bill_number, copy.amount_paise, copy.outstanding_paise) == ("JV-2", 2_000, 2_000)
    assert (copy.biller_name, copy.param_name) == (JVVNL.name, JVVNL.param_name)
    assert (copy.consumer_number_masked, copy.customer_name_masked) == ("••••8912", "Ra*** Ku***")
    assert copy.filename == "bill-JVVNL-8912.pdf"


@pytest.mark.asyncio
async def test_no_link_for_an_account_never_saved_or_an_unlinked_chat(
    copies: BillCopyService, saved: str, open_chat
) -> None:
    with pytest.raises(ConsumerNotFound):
        await copies.link_for(saved, PHED.biller_id, "120034567890", Language.EN)
    with pytest.raises(NotLinked):
        await copies.link_for(await open_chat(), JVVNL.biller_id, K_NUMBER, Language.EN)


@pytest.mark.asyncio
async def test_a_link_to_an_account_or_resident_that_is_gone_opens_nothing(
    copies: BillCopyService, saved: str, db: InMemoryDatabase
) -> None:
    url = await copies.link_for(saved, JVVNL.biller_id, K_NUMBER, Language.EN)
    resident_id, account_id, *_ = link_parts(url)

    assert await copies.current(resident_id, "another-account") is None
    assert await copies.current("another-resident", account_id) is None


@pytest.mark.asyncio
async def test_a_biller_that_is_down_says_so_and_changes_nothing(
    copies: BillCopyService,
    saved: str,
    billers: FakeBillerDirectory,
    uow: InMemoryUnitOfWorkFactory,
    db: InMemoryDatabase,
) -> None:
    url = await copies.link_for(saved, JVVNL.biller_id, K_NUMBER, Language.EN)
    resident_id, account_id, *_ = link_parts(url)
    billers.unavailable = True
    commits = db.commits

    with pytest.raises(BillerUnavailable):
        await copies.current(resident_id, account_id)
    assert db.commits == commits
