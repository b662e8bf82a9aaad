"""The action server's one container, built on first use (never at import time)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from app.bootstrap import Container, bootstrap
from bot.model.residents import Language

log = logging.getLogger(__name__)
_container: Container | None = None


def container() -> Container:
    global _container
    if _container is None:
        _container = bootstrap()
    return _container


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
