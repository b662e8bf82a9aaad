"""One resident message in, the bot's replies out: the path every channel shares."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import messages
from bot.model.channels import ChannelState, resolve_option
from bot.model.identifiers import find_otp
from bot.model.outbound import Button, OutboundMessage
from bot.model.residents import Channel, Conversation, Language
from bot.model.sensitive import Screened, screen
from bot.ports import Clock, ConversationHistory, DialogueEngine, RateCounter, TurnUnitOfWorkFactory
from bot.services.conversations import answer_language, find_or_create
from bot.services.effects import TurnEffects
from bot.services.email_opt_in import EmailOptIn
from bot.services.handoff import HandoffService
from bot.services.linking import OTP_LENGTH, LinkingService
from bot.services.privacy import PrivacyService

# A resident pasting a novel must not cost a classifier run on 100 KB.
MAX_MESSAGE_CHARS = 1000
# A burst (a stuck key, a script) is stopped long before the per-minute limit: a person
# sends at most a few messages in ten seconds, and every answer costs a paid message.
BURST_WINDOW = timedelta(seconds=10)
BURST_MESSAGES = 8  # the default of MESSAGE_BURST_PER_10S
# Marks a checked email code's outcome in the effects ledger, apart from a linking code's.
EMAIL_OUTCOME = "email:"


class TurnService:
    def __init__(
        self,
        uow: TurnUnitOfWorkFactory,
        clock: Clock,
        dialogue: DialogueEngine,
        privacy: PrivacyService | None = None,
        history: ConversationHistory | None = None,
        limits: RateCounter | None = None,
        messages_per_minute: int = 0,
        handoff: HandoffService | None = None,
        linking: LinkingService | None = None,
        notice_url: str = "",
        burst_messages: int = BURST_MESSAGES,
        effects: TurnEffects | None = None,
        email: EmailOptIn | None = None,
    ) -> None:
        self._email = email
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._messages_per_minute = messages_per_minute
        self._burst_messages = burst_messages
        self._dialogue = dialogue
        self._privacy = privacy
        self._history = history
        self._handoff = handoff
        self._linking = linking
        self._effects = effects
        # SMS gets a short privacy notice that links to the whole one (every character is paid).
        self._notice_url = notice_url

    async def handle(
        self,
        conversation: Conversation,
        text: str,
        language_hint: Language | None = None,
        message_key: str = "",
        received_at: datetime | None = None,
    ) -> list[OutboundMessage]:
        """Answer `text` in `conversation` (as its caller just opened it: the channel inbox),
        in the resident's language.

        `message_key` names the message (the channel inbox's, stable across retries; a new
        one per call when empty): its turn's side effects happen once whatever is retried.
        Callers serialise turns per conversation; raises DialogueUnavailable.
        """
        return await self._handle(conversation, text, language_hint, message_key, received_at)

    async def handle_at(self, channel: Channel, address: str, text: str) -> list[OutboundMessage]:
        """As `handle`, in the conversation at this channel address, found or created in
        the turn's first transaction (the web chat route: one transaction fewer per turn)."""
        return await self._handle(_Address(channel, address), text, None, "", None)

    async def _handle(
        self,
        at: Conversation | _Address,
        text: str,
        language_hint: Language | None,
        message_key: str,
        received_at: datetime | None,
    ) -> list[OutboundMessage]:
        channel = at.channel
        key = message_key or f"{channel.value}:{secrets.token_hex(16)}"
        # Secrets are cut out before anything reads or stores the text (Rasa's tracker first).
        screened = screen(text.strip()[:MAX_MESSAGE_CHARS])
        text = screened.without_markers if screened.found else screened.text
        opened = await self._open(at, text, language_hint, key, received_at)
        conversation = opened.conversation
        language = opened.language
        warning = (
            [OutboundMessage(text=messages.render(_warning(screened), language))]
            if screened.found
            else []
        )
        if opened.rate_limited:
            # Said once per window, then silence: a flood must not be echoed back.
            if opened.rate_limited > 1:
                return []
            return [OutboundMessage(text=messages.render("rate_limited", language))]
        if opened.held is not None:
            # An agent has (or is about to have) the conversation: the bot is silent, and the
            # agent's transcript got the screened text, never the secret.
            return [*warning, *opened.held]
        replies = warning
        # The notice goes before the bot's replies: the last message sent holds the options
        # a numbered answer on WhatsApp/SMS refers to.
        if opened.show_notice:
            replies.append(OutboundMessage(text=self._notice(channel, language)))
        if channel is Channel.WEBCHAT:
            text = resolve_option(text, opened.options)  # "1" presses the first button
        if self._linking is not None:
            cid = conversation.conversation_id
            text = await without_code(self._linking, self._effects, key, cid, text, self._email)
        if not screened.found or any(char.isalnum() for char in text):
            replies += await self._dialogue.converse(
                conversation.conversation_id, text, language, channel, message_key=key
            )
        await self._close(conversation, opened, replies)
        return replies

    async def question_open(self, conversation_id: str) -> bool:
        """True while the dialogue is asking this conversation something (a form is open)."""
        return await self._dialogue.question_open(conversation_id)

    async def _close(
        self, conversation: Conversation, opened: _OpenedTurn, replies: list[OutboundMessage]
    ) -> None:
        """Everything after the dialogue, in one transaction: the web chat's buttons, for a
        typed "1" or "2" next turn (the other channels keep theirs when a message is
        delivered; written only when they changed); its privacy notice, delivered in the
        answer to this request; and the dialogue histories waiting for erasure, read now:
        Rasa has saved the tracker an erasure in this turn asked to drop."""
        cid = conversation.conversation_id
        webchat = conversation.channel is Channel.WEBCHAT
        offered = next((r.buttons for r in reversed(replies) if r.buttons), ())
        options_changed = webchat and offered != opened.options
        privacy = self._privacy
        notice_delivered = webchat and opened.show_notice and privacy is not None
        erasing = privacy is not None and self._history is not None
        if not (options_changed or notice_delivered or erasing):
            return
        pending: list[str] = []
        async with self._uow() as tx:
            if options_changed:
                state = await tx.channel_states.get(cid) or ChannelState(cid)
                state.options = offered
                await tx.channel_states.save(state)
            if notice_delivered and privacy is not None:
                await privacy.note_notice_delivered(tx, cid)
            if erasing and privacy is not None:
                pending = await privacy.pending_erasures(tx)
            await tx.commit()
        if pending and privacy is not None and self._history is not None:
            await privacy.erase_histories(self._history, pending)

    def _notice(self, channel: Channel, language: Language) -> str:
        if channel is Channel.SMS and self._notice_url:
            return messages.render("privacy_notice_sms", language, url=self._notice_url)
        return messages.render("privacy_notice", language)

    async def _open(
        self,
        at: Conversation | _Address,
        text: str,
        hint: Language | None,
        key: str,
        received_at: datetime | None,
    ) -> _OpenedTurn:
        """Everything before the dialogue runs, in one transaction (a turn's database work
        is most of the gateway's share of it): the conversation at an address; the language
        to answer in; the flood limit; an agent's handoff; the privacy notice."""
        async with self._uow() as tx:
            if isinstance(at, _Address):
                at, _ = await find_or_create(tx, at.channel, at.address, self._clock.now())
            conversation = at
            language, _ = await answer_language(tx, conversation, text, hint)
            opened = _OpenedTurn(conversation, language)
            cid = conversation.conversation_id
            if conversation.channel is Channel.WEBCHAT:
                state = await tx.channel_states.get(cid)
                opened.options = state.options if state is not None else ()
            if self._limits is not None and self._messages_per_minute > 0:
                count = await self._limits.hit(f"messages:{cid}", timedelta(minutes=1))
                opened.rate_limited = max(0, count - self._messages_per_minute)
                if self._burst_messages > 0 and not opened.rate_limited:
                    burst = await self._limits.hit(f"burst:{cid}", BURST_WINDOW)
                    opened.rate_limited = max(0, burst - self._burst_messages)
            if not opened.rate_limited and self._handoff is not None:
                opened.held = await self._handoff.intercept(tx, conversation, text, language)
            if not opened.rate_limited and opened.held is None and self._privacy is not None:
                opened.show_notice = await self._privacy.note_message(tx, cid, key, received_at)
                # The words go on to the dialogue engine's history: an erasure must find it.
                await self._privacy.note_mentions(tx, cid, text)
            await tx.commit()
        return opened


@dataclass(frozen=True)
class _Address:
    """A conversation not opened yet: the turn's first transaction finds or creates it."""

    channel: Channel
    address: str


@dataclass
class _OpenedTurn:
    conversation: Conversation
    language: Language
    # How many messages over the limit this one is (0: within it).
    rate_limited: int = 0
    # The replies while an agent has the conversation; None when the bot answers.
    held: list[OutboundMessage] | None = None
    show_notice: bool = False
    # The buttons the web chat showed last, which a typed number refers to.
    options: tuple[Button, ...] = ()


async def without_code(
    linking: LinkingService,
    effects: TurnEffects | None,
    message_key: str,
    conversation_id: str,
    text: str,
    email: EmailOptIn | None = None,
) -> str:
    """A typed OTP is checked here and only its outcome goes on to the dialogue engine, so no
    code is ever in Rasa's tracker or logs, and a late code works whatever was said since.
    A bare code with none pending goes on as the outcome "none", never as the code.

    Checked once per message: a turn run again (a crash between Rasa and the commit) gets the
    first check's outcome, not a second check of a code the first already used up.

    A code confirming an email address (bot/services/email_opt_in.py) is checked the same
    way, when no linking code is waiting, and goes on as `email_code_result`."""
    if find_otp(text, OTP_LENGTH) is None:  # most messages: no database read
        return text

    async def check() -> str:
        if email is not None and await linking.pending(conversation_id) is None:
            emailed = await email.check_typed_code(conversation_id, text)
            if emailed is not None:
                return EMAIL_OUTCOME + emailed
        return await linking.check_typed_code(conversation_id, text) or ""

    async def recorded(outcome: str) -> str:
        return outcome

    if effects is None:
        outcome = await check()
    else:
        outcome = await effects.once(message_key, "otp_check", check, str, recorded)
    if outcome.startswith(EMAIL_OUTCOME):
        return "/inform" + json.dumps({"email_code_result": outcome[len(EMAIL_OUTCOME) :]})
    return "/inform" + json.dumps({"otp_result": outcome}) if outcome else text


def _warning(screened: Screened) -> str:
    """ "It was not stored" only when no part of the secret is left in what is stored."""
    return "sensitive_warning" if screened.wholly_removed else "sensitive_warning_partial"
