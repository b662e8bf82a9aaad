"""Side effects of actions at most once per resident message (bot/services/effects.py).

The gateway names each message it sends to Rasa (`metadata.message_key`, stable across its
retries); the same message run again after a crash finds what its first run did and says
the same, instead of sending a second code or filing a second complaint.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker

from actions.runtime import services
from bot.model.complaints import Complaint, Disposition
from bot.model.identifiers import find_sso_id
from bot.services.linking import LinkStarted


def message_key(tracker: Tracker) -> str:
    """The gateway's key of the message this turn answers ("" for a message without one)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    key = metadata.get("message_key") if isinstance(metadata, dict) else None
    return str(key) if isinstance(key, str) else ""


async def send_code_once(tracker: Tracker, typed: str) -> LinkStarted:
    """LinkingService.start: one code per message, however often its turn runs."""

    async def load(outcome: str) -> LinkStarted:
        sent: dict[str, Any] = json.loads(outcome)
        # The SSO ID is not kept: it is read again from what was typed.
        return LinkStarted(find_sso_id(typed) or typed, int(sent["minutes"]))

    return await services().effects.once(
        message_key(tracker),
        "otp_send",
        lambda: services().linking.start(tracker.sender_id, typed),
        _code_sent,
        load,
    )


async def resend_code_once(tracker: Tracker) -> LinkStarted:
    """LinkingService.resend ("the code did not come"): one new code per message."""

    async def load(outcome: str) -> LinkStarted:
        sent: dict[str, Any] = json.loads(outcome)
        return LinkStarted("", int(sent["minutes"]))

    return await services().effects.once(
        message_key(tracker),
        "otp_resend",
        lambda: services().linking.resend(tracker.sender_id),
        _code_sent,
        load,
    )


def _code_sent(started: LinkStarted) -> str:
    return json.dumps({"minutes": started.valid_minutes})


async def raise_complaint_once(
    tracker: Tracker, disposition: Disposition, description: str, payment_id: str | None
) -> Complaint:
    """ComplaintService.raise_complaint: one complaint per message."""
    complaints = services().complaints

    async def load(complaint_id: str) -> Complaint:
        return await complaints.status(tracker.sender_id, complaint_id)

    return await services().effects.once(
        message_key(tracker),
        "complaint",
        lambda: complaints.raise_complaint(tracker.sender_id, disposition, description, payment_id),
        lambda complaint: complaint.complaint_id,
        load,
    )
