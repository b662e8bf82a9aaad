"""Ports: what the core needs from the outside world, as small Protocols.

Each has a real adapter and a sandbox/fake one under `integrations/` and `tests/fakes.py`.
Async throughout: actions and routes run on event loops, and a blocking call there stalls
every conversation at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, runtime_checkable

from bot.model.bill_copies import BillCopy
from bot.model.billing import Bill, Biller, SavedAccount, Utility
from bot.model.channels import (
    ChannelState,
    Delivery,
    DeliveryKind,
    DeliveryState,
    InboundMessage,
    InboxEntry,
)
from bot.model.complaints import Complaint
from bot.model.email import EmailChallenge, OutgoingEmail
from bot.model.handoff import Agent, AgentSession, Handoff, HandoffStatus, TranscriptLine
from bot.model.outages import (
    Outage,
    PlannedOutage,
    SupplyComplaint,
    SupplyTicket,
    SupplyTicketStatus,
)
from bot.model.outbound import Button, OutboundMessage, PushedMessage
from bot.model.payments import Payment, PaymentEvent, PaymentLink, PaymentStatus, Receipt
from bot.model.privacy import Consent
from bot.model.reminders import (
    AccountPolicy,
    NewReminder,
    Reminder,
    ReminderConsent,
    ReminderRecipient,
    ReminderState,
)
from bot.model.residents import Channel, Conversation, Language, LinkChallenge, Resident


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


# --- outside systems -----------------------------------------------------------------------
@dataclass(frozen=True)
class SsoHolder:
    sso_id: str
    name: str
    mobile: str  # E.164
    language: Language


class SsoRegistry(Protocol):
    async def lookup(self, sso_id: str) -> SsoHolder | None:
        """The holder of `sso_id` (canonical lower case), None if it does not exist.

        Raises SsoUnavailable when the registry cannot answer.
        """
        ...


class BillerDirectory(Protocol):
    def billers(self, utility: Utility | None = None) -> Sequence[Biller]:
        """Billers we can fetch from, optionally of one utility, in display order."""
        ...

    def get(self, biller_id: str) -> Biller:
        """The biller with that BBPS id; raises UnknownBiller."""
        ...

    async def fetch_bill(self, biller: Biller, consumer_number: str, mobile: str) -> Bill:
        """BBPS bill fetch. Raises ConsumerNotFound or BillerUnavailable."""
        ...

    async def post_payment(
        self,
        biller: Biller,
        consumer_number: str,
        bill_number: str,
        amount_paise: int,
        reference_id: str,
    ) -> str:
        """Tell the biller a bill was paid (BBPS payment request). Returns the biller's
        transaction reference. Idempotent on `reference_id`. Raises BillerUnavailable."""
        ...


class PowerSupplyDesk(Protocol):
    """An electricity company's outage and complaint system (README, "Power cuts").

    Adapters raise `SupplyDeskUnavailable` when the company's system times out or fails;
    an unknown consumer number is `UnknownConnection`.
    """

    async def outages_for(
        self, biller: Biller, consumer_number: str, now: datetime
    ) -> list[Outage]:
        """Outages affecting that connection now or later, soonest first (ended ones not)."""
        ...

    async def planned_outages(self, biller: Biller, now: datetime) -> list[PlannedOutage]:
        """The company's announced shutdowns that have not ended, with the connections each
        switches off."""
        ...

    async def report_no_supply(
        self, biller: Biller, consumer_number: str, mobile: str, description: str
    ) -> SupplyTicket:
        """Register a no-supply complaint; the company's ticket. Reporting again while a
        ticket for that connection is open returns the open ticket (companies deduplicate)."""
        ...

    async def ticket(self, biller: Biller, ticket_number: str) -> SupplyTicket | None:
        """A ticket's current status, None when the company does not know the number."""
        ...


@dataclass(frozen=True)
class PaymentLinkRequest:
    reference_id: str
    amount_paise: int
    description: str
    customer_name: str
    customer_mobile: str
    expire_by: datetime
    callback_url: str


class PaymentGateway(Protocol):
    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        """Create a hosted payment link. Raises PaymentGatewayUnavailable."""
        ...

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        """Verify and parse a webhook. Raises SignatureInvalid for a bad or missing
        signature; returns None for a genuine event we do not act on."""
        ...


class SmsSender(Protocol):
    async def send_sms(self, to: str, text: str) -> None:
        """Send one SMS to an E.164 number. Raises SmsUnavailable."""
        ...


class EmailSender(Protocol):
    async def send(self, message: OutgoingEmail) -> None:
        """Hand one email to the mail server. Raises EmailUnavailable when it did not take it."""
        ...


class ReceiptRenderer(Protocol):
    def render(self, receipt: Receipt, language: Language) -> bytes:
        """The receipt as a PDF document."""
        ...


class BillCopyRenderer(Protocol):
    def render(self, copy: BillCopy, language: Language) -> bytes:
        """The bill copy as a PDF document."""
        ...


# --- our own storage -----------------------------------------------------------------------
class ResidentRepository(Protocol):
    async def get(self, resident_id: str) -> Resident | None: ...
    async def by_sso_id(self, sso_id: str) -> Resident | None: ...
    async def add(self, resident: Resident) -> None: ...
    async def update(self, resident: Resident) -> None: ...


class ConversationRepository(Protocol):
    async def get(self, conversation_id: str) -> Conversation | None: ...
    async def find(self, channel: Channel, address: str) -> Conversation | None: ...
    async def add(self, conversation: Conversation) -> None: ...
    async def update(self, conversation: Conversation) -> None: ...


class ChallengeRepository(Protocol):
    async def get(self, conversation_id: str) -> LinkChallenge | None: ...
    async def save(self, challenge: LinkChallenge) -> None:
        """Insert or replace the one challenge of its conversation."""
        ...

    async def delete(self, conversation_id: str) -> None: ...
    async def record_send(self, sso_id: str, sent_at: datetime, conversation_id: str) -> None:
        """Log one OTP sent for `sso_id` to `conversation_id`. The log outlives challenges,
        so voiding, replacing or completing a challenge never resets the limits."""
        ...

    async def sends_since(
        self, sso_id: str, since: datetime, conversation_id: str | None = None
    ) -> int:
        """OTPs sent for `sso_id` at or after `since`: asked in `conversation_id`, or in
        every conversation when it is None."""
        ...

    async def other_sso_ids_since(self, conversation_id: str, sso_id: str, since: datetime) -> int:
        """How many SSO IDs other than `sso_id` this conversation had codes for since `since`."""
        ...


class EmailChallengeRepository(Protocol):
    """Codes proving an email address (bot/services/email_opt_in.py) and the log of codes
    sent, which outlives them so removing or replacing a code never resets the limits."""

    async def get(self, conversation_id: str) -> EmailChallenge | None: ...
    async def save(self, challenge: EmailChallenge) -> None:
        """Insert or replace the one challenge of its conversation."""
        ...

    async def delete(self, conversation_id: str) -> None: ...
    async def record_send(self, resident_id: str, address: str, sent_at: datetime) -> None: ...
    async def sends_since(
        self, since: datetime, *, resident_id: str | None = None, address: str | None = None
    ) -> int:
        """Codes sent at or after `since` for that resident, or to that address."""
        ...


class AccountRepository(Protocol):
    async def list_for(
        self, resident_id: str, utility: Utility | None = None
    ) -> list[SavedAccount]: ...
    async def find(
        self, resident_id: str, biller_id: str, consumer_number: str
    ) -> SavedAccount | None: ...
    async def add(self, account: SavedAccount) -> None: ...


class PaymentRepository(Protocol):
    async def get(self, payment_id: str) -> Payment | None: ...
    async def by_link_id(self, link_id: str) -> Payment | None: ...
    async def by_receipt_number(self, receipt_number: str) -> Payment | None: ...
    async def open_for_bill(
        self, resident_id: str, biller_id: str, bill_number: str
    ) -> Payment | None:
        """The newest CREATED or FAILED payment for that bill, if any: a failed attempt
        leaves its link payable, so asking again must reuse it, not open a second one."""
        ...

    async def recent_for(self, resident_id: str, limit: int) -> list[Payment]:
        """Newest first."""
        ...

    async def add(self, payment: Payment) -> None: ...
    async def update(self, payment: Payment, expected_status: PaymentStatus) -> bool:
        """Save `payment` only if the stored status is still `expected_status`.

        Compare-and-set: of two concurrent webhooks for one payment, exactly one wins.
        """
        ...


class WebhookEventRepository(Protocol):
    async def record(self, source: str, event_id: str, received_at: datetime) -> bool:
        """Remember an event id; False when it was already recorded (a replay)."""
        ...


class OutboxRepository(Protocol):
    async def push(
        self, conversation_id: str, message: OutboundMessage, created_at: datetime
    ) -> int:
        """Queue a message for a conversation outside a turn; returns its sequence."""
        ...

    async def after(
        self, conversation_id: str, after_sequence: int, limit: int = 50
    ) -> list[PushedMessage]:
        """Pushed messages with a sequence greater than `after_sequence`, oldest first."""
        ...


class DialogueEngine(Protocol):
    async def converse(
        self,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel = Channel.WEBCHAT,
        message_key: str = "",
    ) -> list[OutboundMessage]:
        """One resident turn through the dialogue engine (Rasa): the replies to `text`,
        rendered in `language` for `channel` (SMS gets its shorter texts). Raises
        DialogueUnavailable when the engine is down.

        `message_key` identifies the resident's message: the same key again (a retry after a
        crash or a timeout) gets the same turn's replies, and its side effects happen once."""
        ...

    async def question_open(self, conversation_id: str) -> bool:
        """True while the conversation is in the middle of a question (a form); False when
        not, or when the engine cannot tell."""
        ...


class EffectLedger(Protocol):
    """What each resident message's side effects came to, kept so they happen at most once
    (bot/services/effects.py). Each method is its own transaction."""

    async def claim(self, message_key: str, effect: str, at: datetime) -> bool:
        """Record that `effect` of this message starts; False when it was claimed before
        (done, or under way elsewhere). Of two concurrent claims exactly one succeeds."""
        ...

    async def outcome(self, message_key: str, effect: str) -> tuple[bool, str | None]:
        """(claimed, its recorded outcome or None while it has none)."""
        ...

    async def record(self, message_key: str, effect: str, outcome: str) -> None: ...

    async def release(self, message_key: str, effect: str) -> None:
        """Forget a claim whose effect did not happen (it failed): it may be tried again."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget claims made before `before` (no retry comes that late); how many."""
        ...


# --- messaging channels (WhatsApp, SMS, Telegram) --------------------------------------------


class InboxRepository(Protocol):
    """Inbound channel messages, recorded before the provider gets its 2xx."""

    async def record(self, message: InboundMessage) -> int | None:
        """Store `message`; its entry id, or None when (channel, external_id) was recorded
        before (a redelivery). Of two concurrent deliveries exactly one gets an id."""
        ...

    async def pending(self, limit: int = 100) -> list[InboxEntry]:
        """Entries not processed yet, oldest first."""
        ...

    async def pending_for(self, channel: Channel, address: str) -> list[InboxEntry]:
        """One conversation's unprocessed entries, oldest first."""
        ...

    async def mark_processed(self, entry_id: int, processed_at: datetime) -> None: ...
    async def count_attempt(self, entry_id: int) -> int:
        """One more failed attempt at this entry; returns the attempts so far."""
        ...


class ChannelStateRepository(Protocol):
    async def get(self, conversation_id: str) -> ChannelState | None: ...
    async def save(self, state: ChannelState) -> None:
        """Insert or replace the state of its conversation."""
        ...

    async def remember_options(
        self, conversation_ids: Sequence[str], options: tuple[Button, ...]
    ) -> None:
        """The numbered options just offered to each of these conversations (a bulk push),
        leaving the rest of their state as it is."""
        ...


class DeliveryRepository(Protocol):
    """Which outbox messages went to which channel, so each is sent at most once."""

    async def due(
        self,
        now: datetime,
        limit: int = 100,
        *,
        retries_by: datetime | None = None,
        in_order: bool = False,
    ) -> list[Delivery]:
        """Outbox messages of WhatsApp, SMS and Telegram conversations that are not yet
        claimed (or are pending a retry due by `retries_by`, default `now`), oldest first,
        with the conversation's language and channel state applied (`in_session_window`).
        `in_order`: none that an earlier message of its conversation must go before (one
        waiting out a back-off, being sent, or waiting to be reconciled)."""
        ...

    async def to_reconcile(
        self, now: datetime, sending_since: datetime, limit: int = 100
    ) -> list[Delivery]:
        """Deliveries whose fate the provider must tell: SENDING since before
        `sending_since` (their sender died) and UNCERTAIN ones due for a look, oldest first."""
        ...

    async def reclaim(self, delivery: Delivery, now: datetime) -> bool:
        """Take a delivery to reconcile (compare-and-set on its state and `updated_at`):
        False when another worker did."""
        ...

    async def queue(self, sequence: int, kind: DeliveryKind, now: datetime) -> None:
        """Mark an outbox message as a reply (the default for unmarked ones is a push)."""
        ...

    async def claim(self, delivery: Delivery, now: datetime) -> bool:
        """Move `delivery` to SENDING if nobody else did; False when someone did."""
        ...

    async def settle(
        self,
        sequence: int,
        state: DeliveryState,
        now: datetime,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Record how a claimed delivery ended (PENDING with `next_attempt_at` to retry)."""
        ...


class ChannelSender(Protocol):
    """Sends outbound messages on one channel (WhatsApp, SMS or Telegram)."""

    channel: Channel

    async def send(self, delivery: Delivery) -> None:
        """Render and send one message. Raises DeliveryFailed when the provider surely did
        not take it, DeliveryUncertain when it may have (a timeout)."""
        ...


@runtime_checkable
class SentMessageLookup(Protocol):
    """A sender whose provider can tell whether it has a message (Twilio lists the messages
    sent to a number); Telegram cannot."""

    # How long one `send` can take at most (every retry and timeout included): a delivery
    # SENDING for longer than this lost its sender.
    longest_send_s: float

    async def find_sent(self, delivery: Delivery, since: datetime) -> bool | None:
        """True when the provider has this message (created since `since`), False when it
        surely has not, None when it could not be asked."""
        ...


# --- privacy (notice, consent, access, erasure) ----------------------------------------------
class PrivacyRepository(Protocol):
    async def consent(self, conversation_id: str) -> Consent | None: ...
    async def save_consent(self, consent: Consent) -> None: ...

    async def notice_queued(self, conversation_id: str, notice_key: str, sequence: int) -> None:
        """The turn of message `notice_key` showed the notice and its last reply is outbox
        `sequence` (no-op for any other message's turn)."""
        ...

    async def notice_delivered(
        self, conversation_id: str, at: datetime, sent_sequence: int | None = None
    ) -> None:
        """The notice reached the resident at `at`: with `sent_sequence`, only if that outbox
        message (just sent) comes at or after the notice turn's last reply."""
        ...

    async def conversations_of(self, resident_id: str) -> list[Conversation]: ...
    async def count_payments(self, resident_id: str) -> int: ...
    async def erase_conversation(self, conversation: Conversation, *, keep_row: bool) -> None:
        """Delete a conversation's inbox, outbox, channel state, challenge and consent; the
        conversation row too unless `keep_row` (then only unlinked and its language cleared)."""
        ...

    async def erase_resident(self, resident: Resident) -> tuple[int, int]:
        """Delete the resident, their saved accounts and OTP send log; de-identify their
        payments. Returns (accounts deleted, payments de-identified)."""
        ...

    async def request_history_erasure(self, conversation_id: str, requested_at: datetime) -> None:
        """Remember that the dialogue engine's history of this conversation must go."""
        ...

    async def pending_history_erasures(self) -> list[str]: ...
    async def history_erased(self, conversation_id: str) -> None: ...

    async def record_mentions(
        self, conversation_id: str, identifiers: Collection[str], at: datetime
    ) -> None:
        """This conversation's messages named these identifiers (bot/model/mentions.py);
        stored as keyed hashes only."""
        ...

    async def conversations_mentioning(self, identifiers: Collection[str]) -> list[str]:
        """Every conversation whose messages named one of `identifiers`."""
        ...

    async def forget_mentions(
        self, identifiers: Collection[str], conversation_ids: Collection[str]
    ) -> None:
        """Drop the mentions of `identifiers`, and every mention made in those conversations."""
        ...


class ConversationHistory(Protocol):
    async def erase_history(self, conversation_id: str) -> None:
        """Remove every event the dialogue engine holds for this conversation (Rasa's
        tracker). Raises DialogueUnavailable when it cannot be reached."""
        ...


# --- abuse limits --------------------------------------------------------------------------
class RateCounter(Protocol):
    """Fixed-window counters for abuse limits. Keys hold no personal data (ids or hashes)."""

    async def hit(self, key: str, window: timedelta) -> int:
        """Count one event under `key`; the count in the current window, this one included.
        A window starts at its first event and lasts `window`."""
        ...

    async def peek(self, key: str) -> int:
        """The count in the current window without adding to it (0 when none is open)."""
        ...


# --- support: human handoff, agents, complaints ---------------------------------------------
class HandoffRepository(Protocol):
    async def get(self, handoff_id: str) -> Handoff | None: ...
    async def active_for(self, conversation_id: str) -> Handoff | None:
        """The conversation's handoff that is waiting or held, if any."""
        ...

    async def active(self) -> list[Handoff]:
        """Every waiting or held handoff, oldest request first."""
        ...

    async def add(self, handoff: Handoff) -> None: ...
    async def update(self, handoff: Handoff, expected_status: HandoffStatus) -> bool:
        """Compare-and-set on the status: of two agents taking one conversation, one wins."""
        ...

    async def append(self, line: TranscriptLine) -> None: ...
    async def transcript(self, handoff_id: str) -> list[TranscriptLine]:
        """Oldest first."""
        ...


class AgentRepository(Protocol):
    async def get(self, agent_id: str) -> Agent | None: ...
    async def by_username(self, username: str) -> Agent | None: ...
    async def add(self, agent: Agent) -> None: ...
    async def update(self, agent: Agent) -> None: ...
    async def add_session(self, session: AgentSession) -> None: ...
    async def session(self, token_hash: str) -> AgentSession | None: ...
    async def delete_session(self, token_hash: str) -> None: ...
    async def delete_sessions_before(self, moment: datetime) -> None: ...


class ComplaintRepository(Protocol):
    async def get(self, complaint_id: str) -> Complaint | None: ...
    async def add(self, complaint: Complaint) -> None: ...
    async def update(self, complaint: Complaint) -> None: ...
    async def recent(self, limit: int) -> list[Complaint]:
        """Newest first, every resident's (for the agent console)."""
        ...


class SupplyComplaintRepository(Protocol):
    """Our records of the no-supply tickets residents registered with their company."""

    async def get(self, biller_id: str, ticket_number: str) -> SupplyComplaint | None: ...
    async def add(self, complaint: SupplyComplaint) -> None: ...
    async def update(self, complaint: SupplyComplaint, expected_status: SupplyTicketStatus) -> bool:
        """Save `complaint` only if the stored status is still `expected_status`: of two
        pollers seeing one change, one records (and tells) it."""
        ...

    async def for_resident(self, resident_id: str) -> list[SupplyComplaint]:
        """Newest first."""
        ...

    async def open_checked_before(self, moment: datetime, limit: int) -> list[SupplyComplaint]:
        """Complaints not resolved or closed, last checked before `moment`, least recently
        checked first."""
        ...

    async def delete_for_resident(self, resident_id: str) -> int: ...


# --- reminders -------------------------------------------------------------------------------
class ReminderRepository(Protocol):
    """The durable reminder schedule. Each (account, bill, kind) exists at most once, and a row
    moves SCHEDULED → CLAIMED → SENDING → a final state; SENDING is never sent again."""

    async def schedule(self, planned: Sequence[NewReminder], now: datetime) -> int:
        """Store reminders, ignoring any (account, bill, kind) already stored; returns how
        many were new."""
        ...

    async def claim(
        self, now: datetime, limit: int, token: str, lease_until: datetime
    ) -> list[Reminder]:
        """Take up to `limit` reminders due by `now` (or CLAIMED under an expired lease) for
        the claim `token`, atomically: two workers never hold the same row."""
        ...

    async def start_sending(
        self, ids: Sequence[int], token: str, now: datetime, lease_until: datetime
    ) -> set[int]:
        """Move those of `ids` still held by `token` to SENDING (the at-most-once point);
        returns the ids moved. Renews the lease of the token's rows to `lease_until`."""
        ...

    async def settle(self, outcomes: Mapping[int, ReminderState], now: datetime) -> None:
        """Record final states (or SKIPPED for claimed rows not sent)."""
        ...

    async def retry(self, retry_at: Mapping[int, datetime], now: datetime) -> None:
        """Put rows back to SCHEDULED at a later time, one attempt more."""
        ...

    async def release(self, token: str) -> int:
        """Give back the CLAIMED rows of `token` (a worker stopping cleanly)."""
        ...

    async def expire_in_flight(self, now: datetime) -> int:
        """SENDING rows whose lease ran out (their worker died mid-send) become UNCERTAIN."""
        ...

    async def paid(self, reminders: Sequence[Reminder]) -> set[int]:
        """Ids of those reminders whose bill has been paid through us."""
        ...

    async def recipients(self, resident_ids: Sequence[str]) -> dict[str, ReminderRecipient]:
        """Where each resident's reminders go; residents without consent are absent."""
        ...

    async def cancel_bill(self, account_id: str, bill_number: str, now: datetime) -> int:
        """Cancel the not-yet-sent reminders of a bill (paid elsewhere)."""
        ...

    async def pending(self, account_ids: Sequence[str]) -> list[Reminder]:
        """The not-yet-sent reminders (SCHEDULED, CLAIMED, TURNED_OFF) of those accounts."""
        ...

    async def reschedule(
        self, changes: Mapping[int, tuple[ReminderState, datetime]], now: datetime
    ) -> int:
        """Set (state, send_at) of reminders still pending (a claim is dropped); returns
        how many changed. Rows already SENDING or final are left alone."""
        ...

    async def counts(self) -> dict[ReminderState, int]: ...
    async def upcoming(self, limit: int) -> list[Reminder]:
        """Scheduled reminders, soonest first."""
        ...


class ConsentRepository(Protocol):
    async def get(self, resident_id: str) -> ReminderConsent | None: ...
    async def save(self, consent: ReminderConsent) -> None:
        """Insert or replace the resident's consent."""
        ...

    async def account_policies(self, account_ids: Sequence[str]) -> dict[str, AccountPolicy]:
        """The accounts among `account_ids` that have their own policy."""
        ...

    async def save_account_policy(self, policy: AccountPolicy, now: datetime) -> None: ...


class BillCheckRepository(Protocol):
    """Bill discovery's bookkeeping: when each saved account is looked at again."""

    async def due(self, now: datetime, limit: int) -> list[tuple[SavedAccount, str | None]]:
        """Saved accounts of residents who consented, whose next check is due (or never
        checked), with the bill number seen last time."""
        ...

    async def record(
        self, account_id: str, bill_number: str | None, checked_at: datetime, next_at: datetime
    ) -> None: ...


class OutageNoticeRepository(Protocol):
    """Planned power cuts as announced (no personal data), the saved accounts each switches
    off, and the notices (reminders of kind PLANNED_OUTAGE, "bill number" = outage id)."""

    async def announced(self, biller_id: str) -> dict[str, Outage]:
        """The biller's stored outages not cancelled, by outage id."""
        ...

    async def save(self, outages: Sequence[Outage], now: datetime) -> None:
        """Insert or update outages as the company announces them now (a cancelled one
        announced again is no longer cancelled)."""
        ...

    async def cancel(self, biller_id: str, outage_ids: Sequence[str], now: datetime) -> int:
        """Mark outages cancelled and cancel their notices not yet sent; returns how many
        notices were cancelled."""
        ...

    async def get(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Outage]:
        """Outages by (biller_id, outage_id); cancelled or unknown ones are absent."""
        ...

    async def accounts_on(
        self, biller_id: str, consumer_numbers: Sequence[str]
    ) -> list[SavedAccount]:
        """Saved accounts of that biller among `consumer_numbers` whose resident consented
        to reminders, matched in bulk by the consumer numbers' blind index."""
        ...

    async def replan(
        self, biller_id: str, outage_id: str, send_at: datetime | None, now: datetime
    ) -> int:
        """An outage's times changed (or it was announced again after a cancellation): its
        notices not yet sent (pending or cancelled) go out at `send_at`, or are SKIPPED
        when None (too late to be useful). Sent ones are left alone: each notice once."""
        ...


class RateLimiter(Protocol):
    """A token bucket per key shared by every worker (Redis), or by one process."""

    async def acquire(self, key: str, wanted: int, rate_per_s: float, burst: int) -> int:
        """Take up to `wanted` tokens of `key`'s bucket now; returns how many were granted
        (0 when empty: wait about 1/rate_per_s and ask again)."""
        ...


class WebchatSessionStore(Protocol):
    """Web chat sessions by the hash of their id (bot/services/webchat_sessions.py)."""

    async def add(self, token_hash: str, created_at: datetime) -> None:
        """Records a new session (last used now); nothing when the hash is already there."""

    async def get(self, token_hash: str) -> tuple[datetime, datetime] | None:
        """(created_at, last_seen_at), or None for a hash never recorded."""

    async def touch(self, token_hash: str, seen_at: datetime) -> None: ...


# --- units of work -----------------------------------------------------------------------------
# One database transaction each: `async with uow() as tx:` ... `await tx.commit()`; leaving the
# block without `commit()` rolls back. Four kinds, by who opens them; each names the
# repositories its callers use. The SQL adapter has one unit of work that is all four
# (integrations/db/unit_of_work.py); a fake implements the kind its tests need.


class UnitOfWork(Protocol):
    """A resident's records and conversations. For a use case that needs nothing more:
    conversations, linking, billing, payments, web chat sessions."""

    residents: ResidentRepository
    conversations: ConversationRepository
    challenges: ChallengeRepository
    email_challenges: EmailChallengeRepository
    accounts: AccountRepository
    payments: PaymentRepository
    webhook_events: WebhookEventRepository
    outbox: OutboxRepository
    channel_states: ChannelStateRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class TurnUnitOfWork(UnitOfWork, Protocol):
    """Plus what a resident's turn can lead to: the privacy notice, access and erasure, an
    agent's handoff, complaints. For the turn and the services it reaches: turns, privacy,
    handoff, agents, complaints."""

    privacy: PrivacyRepository
    handoffs: HandoffRepository
    agents: AgentRepository
    complaints: ComplaintRepository
    supply_complaints: SupplyComplaintRepository

    async def __aenter__(self) -> TurnUnitOfWork: ...


class ChannelUnitOfWork(UnitOfWork, Protocol):
    """Plus the channel inbox and deliveries (and the privacy notice, shown once its
    delivery went out). For the WhatsApp, SMS and Telegram loops: inbox, delivery."""

    inbox: InboxRepository
    deliveries: DeliveryRepository
    privacy: PrivacyRepository

    async def __aenter__(self) -> ChannelUnitOfWork: ...


class ReminderUnitOfWork(UnitOfWork, Protocol):
    """Plus the reminder schedule, consents and bill checks. For the reminder services:
    consents, settings, scheduling and discovery, dispatch."""

    reminders: ReminderRepository
    consents: ConsentRepository
    bill_checks: BillCheckRepository
    outages: OutageNoticeRepository

    async def __aenter__(self) -> ReminderUnitOfWork: ...


class SupplyUnitOfWork(UnitOfWork, Protocol):
    """Plus the records of power complaints. For the supply service (and, through the turn's
    unit of work, privacy)."""

    supply_complaints: SupplyComplaintRepository

    async def __aenter__(self) -> SupplyUnitOfWork: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
TurnUnitOfWorkFactory = Callable[[], TurnUnitOfWork]
ChannelUnitOfWorkFactory = Callable[[], ChannelUnitOfWork]
ReminderUnitOfWorkFactory = Callable[[], ReminderUnitOfWork]
SupplyUnitOfWorkFactory = Callable[[], SupplyUnitOfWork]
