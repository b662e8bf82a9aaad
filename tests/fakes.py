"""In-memory fakes of every port in `bot/ports.py`, holding the state tests assert on.

Each fake keeps what a test wants to look at in plain attributes (`FakeSmsSender.sent`,
`FakePaymentGateway.links`, `InMemoryDatabase.payments`…) and has an `unavailable`
switch where the real system can fail. No fake talks to the network.

The unit of work snapshots the committed state on entry and writes back only what the
block changed, and only on `commit()`: leaving without commit discards everything, and
every dataclass going in or out is a copy, so a use case that forgets to save is caught.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from bot.errors import (
    BillerUnavailable,
    ConsumerNotFound,
    DialogueUnavailable,
    EmailUnavailable,
    PaymentGatewayUnavailable,
    SignatureInvalid,
    SmsUnavailable,
    SsoUnavailable,
    SupplyDeskUnavailable,
    UnknownBiller,
    UnknownConnection,
)
from bot.model.billing import Bill, Biller, SavedAccount, Utility
from bot.model.channels import ChannelState
from bot.model.email import EmailChallenge, OutgoingEmail
from bot.model.outages import (
    Outage,
    PlannedOutage,
    SupplyComplaint,
    SupplyTicket,
    SupplyTicketStatus,
)
from bot.model.outbound import Button, OutboundMessage, PushedMessage
from bot.model.payments import (
    Payment,
    PaymentEvent,
    PaymentEventKind,
    PaymentLink,
    PaymentStatus,
    Receipt,
)
from bot.model.residents import Channel, Conversation, Language, LinkChallenge, Resident
from bot.ports import (
    AccountRepository,
    BillerDirectory,
    ChallengeRepository,
    ChannelStateRepository,
    Clock,
    ConversationRepository,
    DialogueEngine,
    EmailChallengeRepository,
    EmailSender,
    OutboxRepository,
    PaymentGateway,
    PaymentLinkRequest,
    PaymentRepository,
    PowerSupplyDesk,
    ReceiptRenderer,
    ResidentRepository,
    SmsSender,
    SsoHolder,
    SsoRegistry,
    SupplyComplaintRepository,
    SupplyUnitOfWorkFactory,
    UnitOfWorkFactory,
    WebhookEventRepository,
)

UTC = timezone.utc


# --- time --------------------------------------------------------------------------------
class FakeClock:
    """A clock that moves only when told. Starts at 10:00 IST on 15 January 2025."""

    def __init__(self, start: datetime = datetime(2025, 1, 15, 4, 30, tzinfo=UTC)) -> None:
        self._now = start.astimezone(UTC)
        self.set(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("FakeClock needs a timezone-aware datetime")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


# --- SSO registry ------------------------------------------------------------------------
class FakeSsoRegistry:
    def __init__(self, holders: Iterable[SsoHolder] = ()) -> None:
        self.holders: dict[str, SsoHolder] = {h.sso_id: h for h in holders}
        self.unavailable = False
        self.lookups: list[str] = []

    def add(self, holder: SsoHolder) -> SsoHolder:
        self.holders[holder.sso_id] = holder
        return holder

    async def lookup(self, sso_id: str) -> SsoHolder | None:
        self.lookups.append(sso_id)
        if self.unavailable:
            raise SsoUnavailable("SSO registry is down (fake)")
        return self.holders.get(sso_id)


# --- billers -----------------------------------------------------------------------------
def _biller(
    biller_id: str,
    name: str,
    short_name: str,
    utility: Utility,
    param_name: str,
    length: int,
    fee_paise: int,
    aliases: tuple[str, ...],
) -> Biller:
    return Biller(
        biller_id=biller_id,
        name=name,
        short_name=short_name,
        utility=utility,
        param_name=param_name,
        min_length=length,
        max_length=length,
        pattern=f"[0-9]{{{length}}}",
        convenience_fee_paise=fee_paise,
        aliases=aliases,
    )


# A subset of integrations/billers/catalog.yml, copied so unit tests do not depend on
# configuration that may be corrected without a release.
JVVNL = _biller(
    "JVVNL0000RAJ01",
    "Jaipur Vidyut Vitran Nigam",
    "JVVNL",
    Utility.ELECTRICITY,
    "K Number",
    12,
    0,
    ("jaipur", "dausa", "alwar", "tonk", "jaipur discom", "jaipur vidyut"),
)
AVVNL = _biller(
    "AVVNL0000RAJ01",
    "Ajmer Vidyut Vitran Nigam",
    "AVVNL",
    Utility.ELECTRICITY,
    "K Number",
    12,
    0,
    ("ajmer", "udaipur", "sikar", "ajmer discom"),
)
JDVVNL = _biller(
    "JDVVNL000RAJ01",
    "Jodhpur Vidyut Vitran Nigam",
    "JdVVNL",
    Utility.ELECTRICITY,
    "K Number",
    12,
    0,
    ("jodhpur", "barmer", "jalore", "jodhpur discom"),
)
KEDL = _biller(
    "KEDLOB000RAJ02",
    "Kota Electricity Distribution",
    "KEDL",
    Utility.ELECTRICITY,
    "K Number",
    12,
    0,
    ("kota", "kota bijli"),
)
TPADL = _biller(
    "TPADL0000RAJ01",
    "TP Ajmer Distribution",
    "TPADL",
    Utility.ELECTRICITY,
    "K Number",
    10,
    0,
    ("tata power", "tp ajmer"),
)
PHED = _biller(
    "PHED00000RAJ01",
    "PHED Rajasthan",
    "PHED",
    Utility.WATER,
    "CID",
    12,
    500,
    ("jal", "jal vibhag", "phed", "water department"),
)
RSGL = _biller(
    "RSGL00000RAJ01",
    "Rajasthan State Gas",
    "RSGL",
    Utility.GAS,
    "Customer ID",
    10,
    500,
    ("rajasthan gas", "rajasthan state gas"),
)
RAJASTHAN_BILLERS: tuple[Biller, ...] = (JVVNL, AVVNL, JDVVNL, KEDL, TPADL, PHED, RSGL)


@dataclass(frozen=True)
class PostedPayment:
    """A payment as the biller recorded it (BBPS payment request)."""

    biller_id: str
    consumer_number: str
    bill_number: str
    amount_paise: int
    reference_id: str
    transaction_reference: str


class FakeBillerDirectory:
    """Billers and their bills. Posting a payment lowers the bill's outstanding amount,
    once per reference id, as a biller that dedupes on it would."""

    def __init__(self, billers: Iterable[Biller] = RAJASTHAN_BILLERS) -> None:
        self._billers = tuple(billers)
        self.bills: dict[tuple[str, str], Bill] = {}
        self.unavailable = False
        self.fetches: list[tuple[str, str, str]] = []  # (biller_id, consumer_number, mobile)
        self.posted: dict[str, PostedPayment] = {}  # by reference id
        self.post_attempts = 0

    def add_bill(
        self,
        biller: Biller,
        consumer_number: str,
        *,
        amount_paise: int = 48_250,
        outstanding_paise: int | None = None,
        bill_number: str | None = None,
        customer_name: str = "Ramesh Kumar",
        bill_date: date = date(2025, 1, 2),
        due_on: date = date(2025, 1, 20),
    ) -> Bill:
        bill = Bill(
            biller_id=biller.biller_id,
            consumer_number=consumer_number,
            customer_name=customer_name,
            bill_number=bill_number or f"{biller.short_name}-{consumer_number[-4:]}-2501",
            bill_date=bill_date,
            due_on=due_on,
            amount_paise=amount_paise,
            outstanding_paise=amount_paise if outstanding_paise is None else outstanding_paise,
        )
        self.bills[(biller.biller_id, consumer_number)] = bill
        return bill

    def billers(self, utility: Utility | None = None) -> Sequence[Biller]:
        return [b for b in self._billers if utility is None or b.utility is utility]

    def get(self, biller_id: str) -> Biller:
        for biller in self._billers:
            if biller.biller_id == biller_id:
                return biller
        raise UnknownBiller(biller_id)

    async def fetch_bill(self, biller: Biller, consumer_number: str, mobile: str) -> Bill:
        if self.unavailable:
            raise BillerUnavailable(biller.biller_id)
        self.fetches.append((biller.biller_id, consumer_number, mobile))
        try:
            return self.bills[(biller.biller_id, consumer_number)]
        except KeyError:
            raise ConsumerNotFound(consumer_number) from None

    async def post_payment(
        self,
        biller: Biller,
        consumer_number: str,
        bill_number: str,
        amount_paise: int,
        reference_id: str,
    ) -> str:
        self.post_attempts += 1
        if self.unavailable:
            raise BillerUnavailable(biller.biller_id)
        if reference_id in self.posted:
            return self.posted[reference_id].transaction_reference
        posted = PostedPayment(
            biller_id=biller.biller_id,
            consumer_number=consumer_number,
            bill_number=bill_number,
            amount_paise=amount_paise,
            reference_id=reference_id,
            transaction_reference=f"BBPS{len(self.posted) + 1:08d}",
        )
        self.posted[reference_id] = posted
        key = (biller.biller_id, consumer_number)
        bill = self.bills.get(key)
        if bill is not None and bill.bill_number == bill_number:
            outstanding = max(0, bill.outstanding_paise - amount_paise)
            self.bills[key] = replace(bill, outstanding_paise=outstanding)
        return posted.transaction_reference


# --- payment gateway ---------------------------------------------------------------------
@dataclass(frozen=True)
class CreatedLink:
    request: PaymentLinkRequest
    link: PaymentLink


class FakePaymentGateway:
    """Creates numbered links and parses a small JSON webhook signed like Razorpay's:
    hex HMAC-SHA256 of the raw body with the webhook secret."""

    SIGNATURE_HEADER = "X-Fake-Signature"
    _KINDS: ClassVar[dict[str, PaymentEventKind]] = {
        "payment_link.paid": PaymentEventKind.PAID,
        "payment.failed": PaymentEventKind.FAILED,
        "payment.authorized": PaymentEventKind.PENDING,
        "payment_link.expired": PaymentEventKind.EXPIRED,
    }

    def __init__(self, webhook_secret: bytes = b"fake-webhook-secret") -> None:
        self._secret = webhook_secret
        self.links: list[CreatedLink] = []
        self.unavailable = False
        self._events = 0

    async def create_link(self, request: PaymentLinkRequest) -> PaymentLink:
        if self.unavailable:
            raise PaymentGatewayUnavailable(request.reference_id)
        number = len(self.links) + 1
        link = PaymentLink(
            link_id=f"plink_Fake{number:06d}", short_url=f"https://rzp.io/i/Fake{number:06d}"
        )
        self.links.append(CreatedLink(request=request, link=link))
        return link

    def sign(self, raw_body: bytes) -> str:
        return hmac.new(self._secret, raw_body, hashlib.sha256).hexdigest()

    def webhook(
        self,
        event: str,
        created: CreatedLink,
        *,
        event_id: str | None = None,
        amount_paise: int | None = None,
        reference_id: str | None = None,
        gateway_payment_id: str | None = "pay_GwFake0001",
    ) -> tuple[bytes, dict[str, str]]:
        """A signed delivery of `event` ("payment_link.paid", "payment.failed",
        "payment_link.expired" or anything else) about the link `created`."""
        self._events += 1
        body = json.dumps(
            {
                "event_id": event_id or f"evt_Fake{self._events:06d}",
                "event": event,
                "link_id": created.link.link_id,
                "reference_id": (
                    created.request.reference_id if reference_id is None else reference_id
                ),
                "gateway_payment_id": gateway_payment_id,
                "amount_paise": (
                    created.request.amount_paise if amount_paise is None else amount_paise
                ),
            }
        ).encode()
        return body, {self.SIGNATURE_HEADER: self.sign(body)}

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> PaymentEvent | None:
        lowered = {name.lower(): value for name, value in headers.items()}
        signature = lowered.get(self.SIGNATURE_HEADER.lower(), "")
        if not signature or not hmac.compare_digest(self.sign(raw_body), signature):
            raise SignatureInvalid("bad webhook signature")
        data = json.loads(raw_body)
        kind = self._KINDS.get(data["event"])
        if kind is None:
            return None
        return PaymentEvent(
            event_id=data["event_id"],
            kind=kind,
            link_id=data["link_id"],
            reference_id=data["reference_id"],
            gateway_payment_id=data["gateway_payment_id"],
            amount_paise=int(data["amount_paise"]),
        )


# --- SMS, receipts, dialogue -----------------------------------------------------------------
_SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")


class FakeSmsSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (to, text)
        self.unavailable = False
        self.delay_s = 0.0  # a provider's API takes a while to answer

    async def send_sms(self, to: str, text: str) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.unavailable:
            raise SmsUnavailable(to)
        self.sent.append((to, text))

    def texts_to(self, to: str) -> list[str]:
        return [text for number, text in self.sent if number == to]

    def codes_sent_to(self, to: str) -> list[str]:
        """Every 6-digit code in the SMS sent to `to`, oldest first."""
        return [code for text in self.texts_to(to) for code in _SIX_DIGITS.findall(text)]


class FakeEmailSender:
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.unavailable = False

    async def send(self, message: OutgoingEmail) -> None:
        if self.unavailable:
            raise EmailUnavailable(message.to)
        self.sent.append(message)

    def to(self, address: str) -> list[OutgoingEmail]:
        return [m for m in self.sent if m.to == address]

    def codes_sent_to(self, address: str) -> list[str]:
        """Every 6-digit code in the mail sent to `address`, oldest first."""
        return [code for m in self.to(address) for code in _SIX_DIGITS.findall(m.text)]


class FakeReceiptRenderer:
    def __init__(self) -> None:
        self.rendered: list[tuple[Receipt, Language]] = []

    def render(self, receipt: Receipt, language: Language) -> bytes:
        self.rendered.append((receipt, language))
        return f"%PDF-1.4 fake receipt {receipt.receipt_number} {language.value}".encode()


class FakeDialogueEngine:
    """Records each turn and answers with `replies` (by default one echo of the text)."""

    def __init__(self, replies: Sequence[OutboundMessage] | None = None) -> None:
        self.turns: list[tuple[str, str, Language]] = []  # (conversation_id, text, language)
        self.keys: list[str] = []  # each turn's message key
        self.replies = list(replies) if replies is not None else None
        self.unavailable = False

    async def question_open(self, conversation_id: str) -> bool:
        return False

    async def converse(
        self,
        conversation_id: str,
        text: str,
        language: Language,
        channel: Channel = Channel.WEBCHAT,
        message_key: str = "",
    ) -> list[OutboundMessage]:
        if self.unavailable:
            raise DialogueUnavailable(conversation_id)
        self.turns.append((conversation_id, text, language))
        self.keys.append(message_key)
        if self.replies is not None:
            return list(self.replies)
        return [OutboundMessage(text=f"[{language.value}] {text}")]


# --- storage -----------------------------------------------------------------------------
class FakePowerSupplyDesk:
    """An electricity company's outage and complaint system: the connections it knows,
    outages by connection, tickets by number. `unavailable` makes every call fail."""

    def __init__(self) -> None:
        self.connections: set[tuple[str, str]] = set()  # (biller_id, consumer_number)
        self.outages: dict[tuple[str, str], list[Outage]] = {}
        self.tickets: dict[str, SupplyTicket] = {}
        self.reports: list[tuple[str, str, str, str]] = []  # (biller, number, mobile, text)
        self.unavailable = False
        self._next = 4821390

    def add_connection(self, biller: Biller, consumer_number: str) -> None:
        self.connections.add((biller.biller_id, consumer_number))

    def add_outage(self, consumer_number: str, outage: Outage) -> None:
        self.outages.setdefault((outage.biller_id, consumer_number), []).append(outage)

    def announce(self, outage: Outage, consumer_numbers: Iterable[str]) -> None:
        """Announce a planned outage on those connections, replacing any announcement with
        the same id (a moved cut)."""
        self.call_off(outage.biller_id, outage.outage_id)
        for number in consumer_numbers:
            self.add_outage(number, outage)

    def call_off(self, biller_id: str, outage_id: str) -> None:
        for (biller, _), outages in self.outages.items():
            if biller == biller_id:
                outages[:] = [o for o in outages if o.outage_id != outage_id]

    def move(self, ticket_number: str, status: SupplyTicketStatus, note: str = "") -> None:
        ticket = self.tickets[ticket_number]
        self.tickets[ticket_number] = replace(ticket, status=status, note=note)

    def _check(self, biller: Biller, consumer_number: str) -> None:
        if self.unavailable:
            raise SupplyDeskUnavailable(biller.biller_id)
        if (biller.biller_id, consumer_number) not in self.connections:
            raise UnknownConnection(consumer_number)

    async def outages_for(
        self, biller: Biller, consumer_number: str, now: datetime
    ) -> list[Outage]:
        self._check(biller, consumer_number)
        found = self.outages.get((biller.biller_id, consumer_number), [])
        return sorted((o for o in found if o.ends_at > now), key=lambda o: o.starts_at)

    async def planned_outages(self, biller: Biller, now: datetime) -> list[PlannedOutage]:
        if self.unavailable:
            raise SupplyDeskUnavailable(biller.biller_id)
        by_id: dict[str, tuple[Outage, list[str]]] = {}
        for (biller_id, number), outages in self.outages.items():
            for outage in outages:
                wanted = biller_id == biller.biller_id and outage.kind.value == "planned"
                if wanted and outage.ends_at > now:
                    by_id.setdefault(outage.outage_id, (outage, []))[1].append(number)
        return [PlannedOutage(o, tuple(sorted(n))) for o, n in by_id.values()]

    async def report_no_supply(
        self, biller: Biller, consumer_number: str, mobile: str, description: str
    ) -> SupplyTicket:
        self._check(biller, consumer_number)
        self.reports.append((biller.biller_id, consumer_number, mobile, description))
        for ticket in self.tickets.values():
            same = (ticket.biller_id, ticket.consumer_number) == (biller.biller_id, consumer_number)
            if same and not ticket.status.final:
                return ticket
        self._next += 1
        now = datetime(2026, 12, 15, 5, 30, tzinfo=UTC)
        ticket = SupplyTicket(
            ticket_number=f"{biller.short_name.upper()}-NS-{self._next}",
            biller_id=biller.biller_id,
            consumer_number=consumer_number,
            status=SupplyTicketStatus.REGISTERED,
            registered_at=now,
            updated_at=now,
        )
        self.tickets[ticket.ticket_number] = ticket
        return ticket

    async def ticket(self, biller: Biller, ticket_number: str) -> SupplyTicket | None:
        if self.unavailable:
            raise SupplyDeskUnavailable(biller.biller_id)
        ticket = self.tickets.get(ticket_number)
        return ticket if ticket is not None and ticket.biller_id == biller.biller_id else None


class IntegrityError(Exception):
    """A unique constraint of the real schema would have refused this write."""


@dataclass
class _Tables:
    residents: dict[str, Resident] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    challenges: dict[str, LinkChallenge] = field(default_factory=dict)
    accounts: dict[str, SavedAccount] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    webhook_events: dict[tuple[str, str], datetime] = field(default_factory=dict)
    otp_sends: dict[str, tuple[str, datetime, str]] = field(default_factory=dict)
    email_challenges: dict[str, EmailChallenge] = field(default_factory=dict)
    email_code_sends: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    channel_states: dict[str, ChannelState] = field(default_factory=dict)
    supply_complaints: dict[tuple[str, str], SupplyComplaint] = field(default_factory=dict)


class InMemoryDatabase:
    """The committed state, readable by tests. Treat the dicts as read-only."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self.outbox: list[PushedMessage] = []
        self._last_sequence = 0
        self.commits = 0

    @property
    def residents(self) -> dict[str, Resident]:
        return self._tables.residents

    @property
    def conversations(self) -> dict[str, Conversation]:
        return self._tables.conversations

    @property
    def challenges(self) -> dict[str, LinkChallenge]:
        return self._tables.challenges

    @property
    def accounts(self) -> dict[str, SavedAccount]:
        return self._tables.accounts

    @property
    def email_challenges(self) -> dict[str, EmailChallenge]:
        return self._tables.email_challenges

    @property
    def payments(self) -> dict[str, Payment]:
        return self._tables.payments

    @property
    def webhook_events(self) -> dict[tuple[str, str], datetime]:
        return self._tables.webhook_events

    def pushed(self, conversation_id: str) -> list[OutboundMessage]:
        """Messages pushed to a conversation, oldest first."""
        return [p.message for p in self.outbox if p.conversation_id == conversation_id]

    def _next_sequence(self) -> int:
        # Like a database sequence: handed out at insert, never reused, even on rollback.
        self._last_sequence += 1
        return self._last_sequence


def _unique(rows: Iterable[Any], key: Any, value: Any, what: str) -> None:
    if value is not None and any(key(row) == value for row in rows):
        raise IntegrityError(f"duplicate {what}: {value!r}")


class _Repository:
    _table: str

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _rows(self) -> dict[Any, Any]:
        return getattr(self._uow._view(), self._table)  # type: ignore[no-any-return]

    def _read(self, key: Any) -> Any:
        row = self._rows.get(key)
        return copy.deepcopy(row)

    def _write(self, key: Any, row: Any) -> None:
        self._rows[key] = copy.deepcopy(row)
        self._uow._written.add((self._table, key))

    def _delete(self, key: Any) -> None:
        self._rows.pop(key, None)
        self._uow._written.add((self._table, key))

    def _require(self, key: Any) -> None:
        if key not in self._rows:
            raise KeyError(f"{self._table}: no row {key!r} to update")


class _Residents(_Repository):
    _table = "residents"

    async def get(self, resident_id: str) -> Resident | None:
        return self._read(resident_id)  # type: ignore[no-any-return]

    async def by_sso_id(self, sso_id: str) -> Resident | None:
        return next((copy.deepcopy(r) for r in self._rows.values() if r.sso_id == sso_id), None)

    async def add(self, resident: Resident) -> None:
        _unique(self._rows, lambda k: k, resident.resident_id, "resident_id")
        _unique(self._rows.values(), lambda r: r.sso_id, resident.sso_id, "sso_id")
        self._write(resident.resident_id, resident)

    async def update(self, resident: Resident) -> None:
        self._require(resident.resident_id)
        self._write(resident.resident_id, resident)


class _Conversations(_Repository):
    _table = "conversations"

    async def get(self, conversation_id: str) -> Conversation | None:
        return self._read(conversation_id)  # type: ignore[no-any-return]

    async def find(self, channel: Channel, address: str) -> Conversation | None:
        return next(
            (
                copy.deepcopy(c)
                for c in self._rows.values()
                if c.channel is channel and c.address == address
            ),
            None,
        )

    async def add(self, conversation: Conversation) -> None:
        _unique(self._rows, lambda k: k, conversation.conversation_id, "conversation_id")
        _unique(
            self._rows.values(),
            lambda c: (c.channel, c.address),
            (conversation.channel, conversation.address),
            "(channel, address)",
        )
        self._write(conversation.conversation_id, conversation)

    async def update(self, conversation: Conversation) -> None:
        self._require(conversation.conversation_id)
        self._write(conversation.conversation_id, conversation)


class _Challenges(_Repository):
    _table = "challenges"

    async def get(self, conversation_id: str) -> LinkChallenge | None:
        return self._read(conversation_id)  # type: ignore[no-any-return]

    async def save(self, challenge: LinkChallenge) -> None:
        self._write(challenge.conversation_id, challenge)

    async def delete(self, conversation_id: str) -> None:
        self._delete(conversation_id)

    async def record_send(self, sso_id: str, sent_at: datetime, conversation_id: str) -> None:
        key = uuid.uuid4().hex
        self._uow._view().otp_sends[key] = (sso_id, sent_at, conversation_id)
        self._uow._written.add(("otp_sends", key))

    async def sends_since(
        self, sso_id: str, since: datetime, conversation_id: str | None = None
    ) -> int:
        sends = self._uow._view().otp_sends.values()
        return sum(
            1
            for who, at, chat in sends
            if who == sso_id and at >= since and conversation_id in (None, chat)
        )

    async def other_sso_ids_since(self, conversation_id: str, sso_id: str, since: datetime) -> int:
        sends = self._uow._view().otp_sends.values()
        return len(
            {who for who, at, chat in sends if chat == conversation_id and at >= since} - {sso_id}
        )


class _EmailChallenges(_Repository):
    _table = "email_challenges"

    async def get(self, conversation_id: str) -> EmailChallenge | None:
        return self._read(conversation_id)  # type: ignore[no-any-return]

    async def save(self, challenge: EmailChallenge) -> None:
        self._write(challenge.conversation_id, challenge)

    async def delete(self, conversation_id: str) -> None:
        self._delete(conversation_id)

    async def record_send(self, resident_id: str, address: str, sent_at: datetime) -> None:
        key = uuid.uuid4().hex
        self._uow._view().email_code_sends[key] = (resident_id, address, sent_at)
        self._uow._written.add(("email_code_sends", key))

    async def sends_since(
        self, since: datetime, *, resident_id: str | None = None, address: str | None = None
    ) -> int:
        return sum(
            1
            for who, where, at in self._uow._view().email_code_sends.values()
            if at >= since and resident_id in (None, who) and address in (None, where)
        )


class _ChannelStates(_Repository):
    _table = "channel_states"

    async def get(self, conversation_id: str) -> ChannelState | None:
        return self._read(conversation_id)  # type: ignore[no-any-return]

    async def save(self, state: ChannelState) -> None:
        self._write(state.conversation_id, state)

    async def remember_options(
        self, conversation_ids: Sequence[str], options: tuple[Button, ...]
    ) -> None:
        for conversation_id in conversation_ids:
            state = self._read(conversation_id) or ChannelState(conversation_id)
            state.options = options
            self._write(conversation_id, state)


class _Accounts(_Repository):
    _table = "accounts"

    async def list_for(
        self, resident_id: str, utility: Utility | None = None
    ) -> list[SavedAccount]:
        # Same order as the SQL repository: biller, then number.
        found = [
            a
            for a in self._rows.values()
            if a.resident_id == resident_id and (utility is None or a.utility is utility)
        ]
        found.sort(key=lambda a: (a.biller_id, a.consumer_number))
        return copy.deepcopy(found)

    async def find(
        self, resident_id: str, biller_id: str, consumer_number: str
    ) -> SavedAccount | None:
        key = (resident_id, biller_id, consumer_number)
        return next(
            (
                copy.deepcopy(a)
                for a in self._rows.values()
                if (a.resident_id, a.biller_id, a.consumer_number) == key
            ),
            None,
        )

    async def add(self, account: SavedAccount) -> None:
        _unique(self._rows, lambda k: k, account.account_id, "account_id")
        _unique(
            self._rows.values(),
            lambda a: (a.resident_id, a.biller_id, a.consumer_number),
            (account.resident_id, account.biller_id, account.consumer_number),
            "(resident_id, biller_id, consumer_number)",
        )
        self._write(account.account_id, account)


class _Payments(_Repository):
    _table = "payments"

    async def get(self, payment_id: str) -> Payment | None:
        return self._read(payment_id)  # type: ignore[no-any-return]

    async def by_link_id(self, link_id: str) -> Payment | None:
        return self._first(lambda p: p.link_id == link_id)

    async def by_receipt_number(self, receipt_number: str) -> Payment | None:
        return self._first(lambda p: p.receipt_number == receipt_number)

    async def open_for_bill(
        self, resident_id: str, biller_id: str, bill_number: str
    ) -> Payment | None:
        found = self._newest_first(
            lambda p: (
                (p.resident_id, p.biller_id, p.bill_number) == (resident_id, biller_id, bill_number)
                and p.status in (PaymentStatus.CREATED, PaymentStatus.FAILED)
            )
        )
        return found[0] if found else None

    async def recent_for(self, resident_id: str, limit: int) -> list[Payment]:
        return self._newest_first(lambda p: p.resident_id == resident_id)[:limit]

    async def add(self, payment: Payment) -> None:
        self._check_unique(payment)
        self._write(payment.payment_id, payment)

    async def update(self, payment: Payment, expected_status: PaymentStatus) -> bool:
        # Like `UPDATE … WHERE status = :expected`: the condition sees the latest committed
        # row (or this unit of work's own write), not the snapshot taken at entry.
        if ("payments", payment.payment_id) in self._uow._written:
            current = self._rows.get(payment.payment_id)
        else:
            current = self._uow._db.payments.get(payment.payment_id)
        if current is None or current.status is not expected_status:
            return False
        self._check_unique(payment)
        self._write(payment.payment_id, payment)
        return True

    def _check_unique(self, payment: Payment) -> None:
        others = [p for p in self._rows.values() if p.payment_id != payment.payment_id]
        _unique(others, lambda p: p.link_id, payment.link_id, "link_id")
        _unique(others, lambda p: p.receipt_number, payment.receipt_number, "receipt_number")

    def _first(self, predicate: Any) -> Payment | None:
        return next((copy.deepcopy(p) for p in self._rows.values() if predicate(p)), None)

    def _newest_first(self, predicate: Any) -> list[Payment]:
        found = [p for p in self._rows.values() if predicate(p)]
        found.sort(key=lambda p: (p.created_at, p.payment_id), reverse=True)
        return copy.deepcopy(found)


class _WebhookEvents(_Repository):
    _table = "webhook_events"

    async def record(self, source: str, event_id: str, received_at: datetime) -> bool:
        key = (source, event_id)
        if key in self._rows or key in self._uow._db.webhook_events:
            return False
        self._write(key, received_at)
        return True


class _SupplyComplaints(_Repository):
    _table = "supply_complaints"

    async def get(self, biller_id: str, ticket_number: str) -> SupplyComplaint | None:
        return self._read((biller_id, ticket_number))  # type: ignore[no-any-return]

    async def add(self, complaint: SupplyComplaint) -> None:
        key = (complaint.biller_id, complaint.ticket_number)
        _unique(self._rows, lambda k: k, key, "(biller_id, ticket_number)")
        self._write(key, complaint)

    async def update(self, complaint: SupplyComplaint, expected_status: SupplyTicketStatus) -> bool:
        key = (complaint.biller_id, complaint.ticket_number)
        stored = self._rows.get(key)
        if stored is None or stored.status is not expected_status:
            return False
        self._write(
            key,
            replace(
                stored,
                status=complaint.status,
                note=complaint.note,
                checked_at=complaint.checked_at,
            ),
        )
        return True

    async def for_resident(self, resident_id: str) -> list[SupplyComplaint]:
        found = [c for c in self._rows.values() if c.resident_id == resident_id]
        found.sort(key=lambda c: (-c.registered_at.timestamp(), c.ticket_number))
        return copy.deepcopy(found)

    async def open_checked_before(self, moment: datetime, limit: int) -> list[SupplyComplaint]:
        found = [c for c in self._rows.values() if not c.status.final and c.checked_at < moment]
        found.sort(key=lambda c: c.checked_at)
        return copy.deepcopy(found[:limit])

    async def delete_for_resident(self, resident_id: str) -> int:
        keys = [k for k, c in self._rows.items() if c.resident_id == resident_id]
        for key in keys:
            self._delete(key)
        return len(keys)


class _Outbox:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    async def push(
        self, conversation_id: str, message: OutboundMessage, created_at: datetime
    ) -> int:
        self._uow._view()
        pushed = PushedMessage(
            sequence=self._uow._db._next_sequence(),
            conversation_id=conversation_id,
            message=message,
            created_at=created_at,
        )
        self._uow._pushed.append(pushed)
        return pushed.sequence

    async def after(
        self, conversation_id: str, after_sequence: int, limit: int = 50
    ) -> list[PushedMessage]:
        self._uow._view()
        visible = sorted(self._uow._db.outbox + self._uow._pushed, key=lambda p: p.sequence)
        return [
            p
            for p in visible
            if p.conversation_id == conversation_id and p.sequence > after_sequence
        ][:limit]


class InMemoryUnitOfWork:
    """One transaction on an InMemoryDatabase: a private copy of the committed state on
    entry; `commit()` writes back the rows this unit of work touched."""

    def __init__(self, db: InMemoryDatabase) -> None:
        self._db = db
        self._snapshot: _Tables | None = None
        self._written: set[tuple[str, Any]] = set()
        self._pushed: list[PushedMessage] = []
        self._used = False
        self.residents: ResidentRepository = _Residents(self)
        self.conversations: ConversationRepository = _Conversations(self)
        self.challenges: ChallengeRepository = _Challenges(self)
        self.email_challenges: EmailChallengeRepository = _EmailChallenges(self)
        self.accounts: AccountRepository = _Accounts(self)
        self.payments: PaymentRepository = _Payments(self)
        self.webhook_events: WebhookEventRepository = _WebhookEvents(self)
        self.outbox: OutboxRepository = _Outbox(self)
        self.channel_states: ChannelStateRepository = _ChannelStates(self)
        self.supply_complaints: SupplyComplaintRepository = _SupplyComplaints(self)

    def _view(self) -> _Tables:
        if self._snapshot is None:
            raise RuntimeError("unit of work used outside its `async with` block")
        return self._snapshot

    async def __aenter__(self) -> InMemoryUnitOfWork:
        if self._used:
            raise RuntimeError("a unit of work is entered once; ask the factory for another")
        self._used = True
        self._snapshot = copy.deepcopy(self._db._tables)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._snapshot = None  # whatever was not committed is gone
        self._written.clear()
        self._pushed.clear()

    async def commit(self) -> None:
        view = self._view()
        for table, key in self._written:
            committed = getattr(self._db._tables, table)
            rows = getattr(view, table)
            if key in rows:
                committed[key] = copy.deepcopy(rows[key])
            else:
                committed.pop(key, None)
        self._db.outbox.extend(self._pushed)
        self._db.outbox.sort(key=lambda p: p.sequence)
        self._written.clear()
        self._pushed = []
        self._db.commits += 1


class InMemoryUnitOfWorkFactory:
    def __init__(self, db: InMemoryDatabase | None = None) -> None:
        self.db = db or InMemoryDatabase()
        self.opened = 0

    def __call__(self) -> InMemoryUnitOfWork:
        self.opened += 1
        return InMemoryUnitOfWork(self.db)


if TYPE_CHECKING:
    # mypy checks here that each fake satisfies its port.
    _clock: Clock = FakeClock()
    _sso: SsoRegistry = FakeSsoRegistry()
    _billers: BillerDirectory = FakeBillerDirectory()
    _power: PowerSupplyDesk = FakePowerSupplyDesk()
    _gateway: PaymentGateway = FakePaymentGateway()
    _sms: SmsSender = FakeSmsSender()
    _email: EmailSender = FakeEmailSender()
    _renderer: ReceiptRenderer = FakeReceiptRenderer()
    _dialogue: DialogueEngine = FakeDialogueEngine()
    _uow: UnitOfWorkFactory = InMemoryUnitOfWorkFactory()
    _supply_uow: SupplyUnitOfWorkFactory = InMemoryUnitOfWorkFactory()
    _desk: PowerSupplyDesk = FakePowerSupplyDesk()


# --- messaging channels ------------------------------------------------------------------
class FakeChannelSender:
    """A ChannelSender that records deliveries; `fail_with` raises instead (DeliveryFailed,
    DeliveryUncertain) for the next sends."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.sent: list[Any] = []  # bot.model.channels.Delivery
        self.fail_with: list[Exception] = []

    async def send(self, delivery: Any) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append(delivery)


if TYPE_CHECKING:
    from bot.ports import ChannelSender

    _channel_sender: ChannelSender = FakeChannelSender(Channel.SMS)


class FakeEffectLedger:
    """The EffectLedger port in memory: `claims` maps (message, effect) to its outcome
    (None while under way)."""

    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], str | None] = {}

    async def claim(self, message_key: str, effect: str, at: datetime) -> bool:
        if (message_key, effect) in self.claims:
            return False
        self.claims[(message_key, effect)] = None
        return True

    async def outcome(self, message_key: str, effect: str) -> tuple[bool, str | None]:
        key = (message_key, effect)
        return key in self.claims, self.claims.get(key)

    async def record(self, message_key: str, effect: str, outcome: str) -> None:
        self.claims[(message_key, effect)] = outcome

    async def release(self, message_key: str, effect: str) -> None:
        self.claims.pop((message_key, effect), None)

    async def prune(self, before: datetime) -> int:
        return 0
