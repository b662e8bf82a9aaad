"""What the actions run on: the services the action server's entry installs, and the base
actions that never leave a resident in silence.

The actions import nothing of the shell. The action server's entry (`python -m app.stack
actions`, app/stack.py) installs how to build the services (from the composition root,
app/bootstrap.py); they are built on the first action, inside the server's event loop,
never at import time. Tests install their own.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.model.residents import Language
from bot.services.bill_copies import BillCopyService
from bot.services.billing import BillingService
from bot.services.conversations import ConversationService
from bot.services.effects import TurnEffects
from bot.services.email_opt_in import EmailOptIn
from bot.services.handoff import HandoffService
from bot.services.linking import LinkingService
from bot.services.payments import PaymentService
from bot.services.privacy import PrivacyService
from bot.services.reminders import ReminderConsents, ReminderSettings
from bot.services.supply import SupplyService
from bot.services.support import ComplaintService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionServices:
    """The use cases the actions call, and the one setting they need."""

    conversations: ConversationService
    billing: BillingService
    linking: LinkingService
    payments: PaymentService
    privacy: PrivacyService
    complaints: ComplaintService
    handoff: HandoffService
    reminder_consents: ReminderConsents
    reminder_settings: ReminderSettings
    # A turn's side effects once per resident message (bot/services/effects.py).
    effects: TurnEffects
    # "Bill ki copy bhejo": a signed link to the current bill as a PDF (issue 16).
    bill_copies: BillCopyService
    # Email receipts and reminders: adding an address with a code, removing it (issue 16).
    email: EmailOptIn
    # "Bijli nahi hai": power complaints with the electricity company (issue 16).
    supply: SupplyService
    # Where the gateway's pages are (sample bills shown with an explanation).
    public_base_url: str


_provide: Callable[[], ActionServices] | None = None
_services: ActionServices | None = None


def install(provide: Callable[[], ActionServices] | None) -> None:
    """How to build the services, called once on the first action (None: none, in tests)."""
    global _provide, _services
    _provide, _services = provide, None


def services() -> ActionServices:
    global _services
    if _services is None:
        if _provide is None:
            raise RuntimeError("no services installed: the action server's entry installs them")
        _services = _provide()
    return _services


def language(tracker: Tracker) -> Language:
    return Language.HI if tracker.get_slot("language") == "hi" else Language.EN


async def _guarded(
    name: str,
    dispatcher: CollectingDispatcher,
    run: Callable[[], Awaitable[list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    # An exception escaping an action leaves the resident with no answer at all.
    try:
        return await run()
    except Exception:
        log.exception("action %s failed", name)
        dispatcher.utter_message(response="utter_service_unavailable")
        return []


class ResidentAction(Action, ABC):
    """An action that always answers: unexpected errors become a polite apology.

    Abstract, so rasa-sdk (which registers every Action subclass) skips it."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return await _guarded(
            self.name(), dispatcher, lambda: self.act(dispatcher, tracker, domain)
        )

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]: ...


class ResidentFormValidation(FormValidationAction, ABC):
    """Form validation with the same guarantee as ResidentAction."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        parent = super().run
        return await _guarded(self.name(), dispatcher, lambda: parent(dispatcher, tracker, domain))
