"""Finding a biller, validating a consumer number and fetching the bill; saved accounts."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from bot.errors import AmbiguousBiller, NotLinked, UnknownBiller
from bot.model.billing import Bill, Biller, SavedAccount, Utility
from bot.ports import BillerDirectory, UnitOfWorkFactory
from bot.services.conversations import linked_resident

# Not \\W: it would split Devanagari words at their vowel signs.
_PUNCTUATION = re.compile(r"[?!.,;:()\"'।॥]")


@dataclass(frozen=True)
class FetchedBill:
    biller: Biller
    bill: Bill
    newly_saved: bool


class BillingService:
    def __init__(self, uow: UnitOfWorkFactory, billers: BillerDirectory) -> None:
        self._uow = uow
        self._billers = billers

    def billers_for(self, utility: Utility) -> list[Biller]:
        return list(self._billers.billers(utility))

    def billers_for_all(self) -> list[Biller]:
        return list(self._billers.billers())

    def biller(self, biller_id: str) -> Biller:
        return self._billers.get(biller_id)

    def resolve_biller(self, text: str, utility: Utility | None = None) -> Biller:
        """The biller a resident means by `text`: its id, short name, name or a city it
        serves ("JVVNL", "jaipur discom", "Jaipur"). Raises UnknownBiller when none matches,
        AmbiguousBiller (with the candidates) when several do or a town is shared ("Ajmer")."""
        wanted = " ".join(_PUNCTUATION.sub(" ", text.lower()).split())
        candidates = list(self._billers.billers(utility))
        for biller in candidates:
            if wanted in (biller.biller_id.lower(), biller.short_name.lower(), biller.name.lower()):
                return biller
        # Whole words only ("jal" must not match "jalore"). A longer name beats a shorter one
        # inside it ("tp ajmer" is TPADL, "ajmer discom" AVVNL), but two different places
        # ("jaipur ya ajmer") or a shared town ("ajmer" alone) are for the resident to pick.
        padded = f" {wanted} "
        found = [
            (biller.biller_id, name)
            for biller in candidates
            for name in (biller.short_name.lower(), *biller.aliases)
            if f" {name} " in padded
        ]
        kept = [
            (biller_id, name)
            for biller_id, name in found
            if not any(name != other and name in other for _, other in found)
        ]
        # A shared town next to a company's own name ("टाटा पावर अजमेर", "AVVNL Ajmer") is
        # only where the resident lives: the company named decides.
        named = {b for b, name in kept if not self._is_shared_town(name, candidates)}
        kept = [
            (b, name)
            for b, name in kept
            if not any(name in c.shared_towns and c.biller_id in named for c in candidates)
        ]
        owners = list(dict.fromkeys(biller_id for biller_id, _ in kept))
        if len(owners) > 1:
            raise AmbiguousBiller(text, [self._billers.get(b) for b in owners])
        if not owners:
            raise UnknownBiller(text)
        owner = self._billers.get(owners[0])
        names = {name for _, name in kept}
        sharers = [b for b in candidates if b is not owner and names & set(b.shared_towns)]
        if sharers and not named:  # only the town was given
            town = next(iter(names & set(sharers[0].shared_towns)))
            raise AmbiguousBiller(text, [*sharers, owner], town=town)
        return owner

    @staticmethod
    def _is_shared_town(name: str, billers: list[Biller]) -> bool:
        return any(name in b.shared_towns for b in billers)

    def billers_fitting(self, number: str, utility: Utility) -> list[Biller]:
        """The billers of `utility` whose consumer numbers look like `number` (normalised)."""
        return [b for b in self._billers.billers(utility) if b.accepts(number)]

    def normalise_consumer_number(self, biller_id: str, typed: str) -> str:
        """Check `typed` against the biller's rule; raises InvalidConsumerNumber."""
        return self._billers.get(biller_id).normalise_consumer_number(typed)

    async def saved_accounts(
        self, conversation_id: str, utility: Utility | None = None
    ) -> list[SavedAccount]:
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
            return await tx.accounts.list_for(resident.resident_id, utility)

    async def sole_account(
        self, conversation_id: str, utility: Utility, biller_id: str | None = None
    ) -> SavedAccount | None:
        """The account to pre-fill when a resident names a utility (or a company): their only
        saved account for it. None when they have none, several (ask which), or are not linked."""
        try:
            accounts = await self.saved_accounts(conversation_id, utility)
        except NotLinked:
            return None
        if biller_id is not None:
            accounts = [a for a in accounts if a.biller_id == biller_id]
        return accounts[0] if len(accounts) == 1 else None

    async def fetch(self, conversation_id: str, biller_id: str, typed_number: str) -> FetchedBill:
        """Fetch the current bill, saving the account for next time on the first success.

        Raises NotLinked, UnknownBiller, InvalidConsumerNumber, ConsumerNotFound,
        BillerUnavailable.
        """
        biller = self._billers.get(biller_id)
        consumer_number = biller.normalise_consumer_number(typed_number)
        async with self._uow() as tx:
            _, resident = await linked_resident(tx, conversation_id)
        bill = await self._billers.fetch_bill(biller, consumer_number, resident.mobile)
        async with self._uow() as tx:
            saved = await tx.accounts.find(resident.resident_id, biller.biller_id, consumer_number)
            if saved is None:
                await tx.accounts.add(
                    SavedAccount(
                        account_id=secrets.token_hex(8),
                        resident_id=resident.resident_id,
                        utility=biller.utility,
                        biller_id=biller.biller_id,
                        consumer_number=consumer_number,
                    )
                )
                await tx.commit()
        return FetchedBill(biller=biller, bill=bill, newly_saved=saved is None)
