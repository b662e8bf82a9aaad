"""A form whose validation could not run leaves its slot empty and asks the same question.

Rasa fills a form's requested slot from the message (`action_extract_slots`) before the
form's validation action runs at the action server. When that action cannot run (the action
server is down, fails or hangs), server_tuning answers "something went wrong, nothing was
changed" instead of silence, but Rasa 3.6 then keeps the unchecked value: measured, "thanks"
stayed as the SSO ID and the link form went on to ask for a code that was never sent. Here
the values that came with this message are emptied again when their validation failed, so
the form asks the same question once more, and what the resident was told is true.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class ActionServerFailed(list):  # type: ignore[type-arg]
    """The events Rasa got for an action the action server could not run (an apology)."""


def apply() -> None:
    """Install the fix; idempotent. Needs server_tuning's failure answer (ActionServerFailed)."""
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.events import SlotSet

    if getattr(FormAction, "_bot_empties_unchecked_slots", False):
        return
    validate_slots = FormAction.validate_slots

    async def checked_or_emptied(
        self: FormAction,
        slot_candidates: dict[str, Any],
        tracker: Any,
        domain: Any,
        output_channel: Any,
        nlg: Any,
    ) -> list[Any]:
        events: list[Any] = await validate_slots(
            self, slot_candidates, tracker, domain, output_channel, nlg
        )
        if not isinstance(events, ActionServerFailed) or not slot_candidates:
            return events
        log.warning(
            "%s could not validate %s: emptied, to be asked again",
            self.name(),
            ", ".join(sorted(slot_candidates)),
        )
        return [*events, *(SlotSet(name, None) for name in slot_candidates)]

    FormAction.validate_slots = checked_or_emptied
    FormAction._bot_empties_unchecked_slots = True
