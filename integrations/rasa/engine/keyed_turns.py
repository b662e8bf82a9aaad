"""Turns safe to repeat, inside the Rasa server: a message Rasa has answered before is
answered with that turn's replies instead of being run again.

The gateway commits a turn's outcome (replies queued, message marked answered) only after
Rasa has answered. A gateway that crashes or gives up waiting (30 s) in between sends the
same message again, and Rasa 3.6 would run that turn a second time: a second code sent, the
privacy notice's turn lost. The gateway names each message (`metadata.message_key` in its
channel's request, gateway_channel.py; actions read it from `tracker.latest_message`), and
its channel lets a turn whose gateway went away run to its end, so the tracker holds it.
`apply()` installs a check in Rasa's MessageProcessor, under the conversation's lock and on
the tracker the turn loads anyway: when the tracker already holds a resident message with
that key, the replies that followed it are sent again and nothing is run.

A turn that crashed with Rasa before its tracker was saved does run again; its actions'
side effects are then kept to once per message by the action server (bot/services/effects.py).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

log = logging.getLogger(__name__)

MESSAGE_KEY = "message_key"
# How far back a repeated message is looked for: a retry comes within minutes, a few turns.
SCAN_EVENTS = 300


def message_key(metadata: Any) -> str:
    """The gateway's key of a message from its metadata; "" when it has none."""
    if isinstance(metadata, dict) and isinstance(metadata.get(MESSAGE_KEY), str):
        return str(metadata[MESSAGE_KEY])
    return ""


def earlier_replies(events: Any, key: str) -> list[dict[str, Any]] | None:
    """The bot's messages after the resident message with `key` (up to the next resident
    message), as the output channel got them; None when no such message is in `events`."""
    recent = list(events)[-SCAN_EVENTS:]
    for index in range(len(recent) - 1, -1, -1):
        event = recent[index]
        if isinstance(event, UserUttered) and message_key(event.metadata) == key:
            replies = []
            for later in recent[index + 1 :]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append(later.message())
            return replies
    return None


class AlreadyAnswered(Exception):
    """The message's turn ran before; carries the replies it gave."""

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        super().__init__("message already answered")
        self.replies = replies


def apply() -> None:
    """Answer a message whose key the tracker already holds with that turn's replies.

    MessageProcessor.handle_message loads the tracker in `log_message` (under the lock the
    agent holds for the conversation); the check goes there, before the message is added."""
    from rasa.core.processor import MessageProcessor

    if getattr(MessageProcessor, "_bot_keyed_turns", False):
        return
    log_message = MessageProcessor.log_message
    handle_message = MessageProcessor.handle_message

    async def keyed_log_message(
        self: MessageProcessor, message: UserMessage, should_save_tracker: bool = True
    ) -> Any:
        key = message_key(message.metadata)
        if not key or should_save_tracker:  # only the turn's own load (handle_message)
            return await log_message(self, message, should_save_tracker)
        tracker = await self.fetch_tracker_and_update_session(
            message.sender_id, message.output_channel, message.metadata
        )
        replies = earlier_replies(tracker.events, key)
        if replies is not None:
            raise AlreadyAnswered(replies)
        await self._handle_message_with_tracker(message, tracker)
        return tracker

    async def keyed_handle_message(self: MessageProcessor, message: UserMessage) -> Any:
        try:
            return await handle_message(self, message)
        except AlreadyAnswered as answered:
            # A warning: the gateway crashed or gave up on this turn before. The key makes each
            # line differ (Rasa's log filter drops a line that repeats the one before).
            log.warning(
                "message %s answered before; sending that turn's %d replies again",
                message_key(message.metadata),
                len(answered.replies),
            )
            for reply in answered.replies:
                await message.output_channel.send_response(message.sender_id, reply)
            if isinstance(message.output_channel, CollectingOutputChannel):
                return message.output_channel.messages
            return None

    MessageProcessor.log_message = keyed_log_message
    MessageProcessor.handle_message = keyed_handle_message
    MessageProcessor._bot_keyed_turns = True
