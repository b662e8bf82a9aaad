"""Bill copies: "bill ki copy bhejo" sends the current bill as a PDF.

The chat gets a signed, expiring link (WhatsApp and Telegram fetch media by URL; SMS shows
the link). The link names the resident's saved account by its ids, never by the consumer
number, and the bill is fetched again when the link is opened: the copy is the bill as it
stands then, and a link to an account since removed (unlinked, erased) opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import quote

from bot.errors import ConsumerNotFound
from bot.model.bill_copies import BillCopy, bill_copy_of
from bot.model.residents import Language
from bot.ports import BillerDirectory, Clock, UnitOfWorkFactory
from bot.services.conversations import linked_resident
from bot.services.signed_links import SignedLinks

BILL_COPY_LINK_VALIDITY = timedelta(hours=24)


class BillCopyLinks(SignedLinks):
    """Download links of one saved account's current bill."""

    validity = BILL_COPY_LINK_VALIDITY

    def url_for(self, resident_id: str, account_id: str, language: Language) -> str:
        path = f"bills/{quote(resident_id, safe='')}/{quote(account_id, safe='')}.pdf"
        return self._url(path, (resident_id, account_id), language)

    def _sign(self, parts: Sequence[str], language: str, expires: int) -> str:
        # JSON, so that no id can run into the next field whatever characters it holds.
        message = json.dumps(["bill-copy", *parts, language, expires]).encode()
        # 128 bits are plenty for a link that dies in a day, and keep an SMS shorter.
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]


class BillCopyService:
    def __init__(
        self, uow: UnitOfWorkFactory, billers: BillerDirectory, links: BillCopyLinks, clock: Clock
    ) -> None:
        self._uow = uow
        self._billers = billers
        self._links = links
        self._clock = clock

    async def link_for(
        self, conversation_id: str, biller_id: str, consumer_number: str, language: Language
    ) -> str:
        """A download link of the current bill of one of this resident's saved accounts
        (the bill form saves an account on its first fetch). Raises NotLinked, and
        ConsumerNotFound when the account is not saved."""
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            account = await tx.accounts.find(resident.resident_id, biller_id, consumer_number)
        if account is None:
            raise ConsumerNotFound(consumer_number)
        return self._links.url_for(resident.resident_id, account.account_id, language)

    async def current(self, resident_id: str, account_id: str) -> BillCopy | None:
        """The account's bill as its biller reports it now; None when the resident or the
        account is gone. Raises BillerUnavailable, ConsumerNotFound (from the biller)."""
        async with self._uow() as tx:
            resident = await tx.residents.get(resident_id)
            accounts = await tx.accounts.list_for(resident_id) if resident else []
        account = next((a for a in accounts if a.account_id == account_id), None)
        if resident is None or account is None:
            return None
        biller = self._billers.get(account.biller_id)
        bill = await self._billers.fetch_bill(biller, account.consumer_number, resident.mobile)
        return bill_copy_of(bill, biller, self._clock.now())
