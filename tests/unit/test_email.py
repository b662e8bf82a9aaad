"""Email as an opt-in channel (issue 16): addresses, the code that proves one, removal, and
receipts and reminders that also go by email, once."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import messages
from bot.errors import (
    EmailUnavailable,
    InvalidEmail,
    InvalidOtpFormat,
    NoPendingEmail,
    NotLinked,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpIncorrect,
    TooManyEmailCodes,
)
from bot.model.email import MAX_ADDRESS_CHARS, find_email, mask_email, normalise_email
from bot.model.outbound import OutboundMessage
from bot.model.reminders import (
    ALL_KINDS,
    Reminder,
    ReminderKind,
    ReminderRecipient,
    ReminderState,
)
from bot.model.residents import Channel, Language
from bot.services.email_delivery import EmailReceipts, EmailReminders
from bot.services.email_opt_in import CODE_ATTEMPTS, EmailOptIn
from bot.services.payments import PaymentService
from bot.services.receipts import receipt_of
from bot.services.turns import TurnService
from tests.fakes import (
    PHED,
    FakeBillerDirectory,
    FakeClock,
    FakeDialogueEngine,
    FakeEmailSender,
    FakePaymentGateway,
    FakeReceiptRenderer,
    InMemoryDatabase,
    InMemoryUnitOfWorkFactory,
)
from tests.unit.conftest import PUBLIC_BASE_URL

ADDRESS = "Ramesh.K@gmail.com"
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def mail() -> FakeEmailSender:
    return FakeEmailSender()


@pytest.fixture
def opt_in(uow: InMemoryUnitOfWorkFactory, mail: FakeEmailSender, clock: FakeClock) -> EmailOptIn:
    return EmailOptIn(uow, mail, clock, b"unit-test-email-key")


def resident_of(db: InMemoryDatabase, chat: str):
    conversation = db.conversations[chat]
    assert conversation.resident_id is not None
    return db.residents[conversation.resident_id]


# --- addresses -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("ramesh@gmail.com", "ramesh@gmail.com"),
        ("  Ramesh.K@GMAIL.Com ", "Ramesh.K@gmail.com"),  # the domain is case-blind, not the rest
        ("<sunita+bills@mail.rajasthan.gov.in>", "sunita+bills@mail.rajasthan.gov.in"),
        ("a_b-c@x-y.co.in", "a_b-c@x-y.co.in"),
    ],
)
def test_an_address_is_accepted_with_its_domain_lower_cased(typed: str, address: str) -> None:
    assert normalise_email(typed) == address


@pytest.mark.parametrize(
    "typed",
    [
        "ramesh",
        "ramesh@",
        "@gmail.com",
        "ramesh@gmail",
        "ramesh@@gmail.com",
        "ram..esh@gmail.com",
        "ramesh@gmail.c0m",
        "ramesh kumar@gmail.com",
        "रमेश@gmail.com",
        "r" * 65 + "@gmail.com",  # a local part is at most 64 characters
        "r@" + "a" * (MAX_ADDRESS_CHARS - 5) + ".com",  # an address at most 254
    ],
)
def test_what_is_not_an_address_is_refused(typed: str) -> None:
    assert normalise_email(typed) is None


def test_an_address_is_found_in_a_sentence_but_two_are_not_guessed_between() -> None:
    assert find_email("my email is Ramesh.K@Gmail.com.") == "Ramesh.K@gmail.com"
    assert find_email("मेरा ईमेल ramesh@gmail.com है") == "ramesh@gmail.com"
    assert find_email("a@gmail.com or b@gmail.com") is None
    assert find_email("no address here") is None


def test_a_masked_address_shows_the_first_letter_and_the_domain_only() -> None:
    assert mask_email("ramesh.kumar@gmail.com") == "r•••@gmail.com"


@given(
    local=st.from_regex(r"[a-z0-9][a-z0-9._+\-]{1,30}[a-z0-9]", fullmatch=True),
    domain=st.sampled_from(["gmail.com", "yahoo.in", "rajasthan.gov.in"]),
)
def test_a_masked_address_never_holds_the_rest_of_its_local_part(local: str, domain: str) -> None:
    masked = mask_email(f"{local}@{domain}")
    assert masked == f"{local[0]}•••@{domain}"
    assert local[1:] not in masked.split("@")[0]


# --- adding an address: the code ---------------------------------------------------------------
async def test_a_code_goes_to_the_address_and_only_its_hash_is_stored(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)

    sent = await opt_in.start(chat, f"my email is {ADDRESS}")

    (email,) = mail.sent
    (code,) = mail.codes_sent_to("Ramesh.K@gmail.com")
    assert sent.masked_address == "R•••@gmail.com" and sent.valid_minutes == 15
    assert email.subject == messages.render("email_code_subject", Language.EN)
    assert email.text == messages.render("email_code_text", Language.EN, code=code, minutes=15)
    challenge = db.email_challenges[chat]
    assert code not in challenge.code_hash and challenge.attempts_left == CODE_ATTEMPTS
    assert resident_of(db, chat).email is None  # not the resident's until the code comes back


async def test_the_code_mail_speaks_hindi_to_a_hindi_resident(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, sunita
) -> None:
    chat = await linked_chat(sunita)

    await opt_in.start(chat, "sunita@yahoo.in")

    (email,) = mail.sent
    assert DEVANAGARI.search(email.subject) and DEVANAGARI.search(email.text)


async def test_the_right_code_makes_the_address_the_residents(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)

    masked = await opt_in.confirm(chat, mail.codes_sent_to("Ramesh.K@gmail.com")[-1])

    assert masked == "R•••@gmail.com"
    assert resident_of(db, chat).email == "Ramesh.K@gmail.com"
    assert chat not in db.email_challenges  # single use
    assert await opt_in.address(chat) == "R•••@gmail.com"


async def test_an_invalid_address_sends_nothing_and_stores_nothing(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)

    with pytest.raises(InvalidEmail):
        await opt_in.start(chat, "ramesh at gmail dot com")

    assert mail.sent == [] and db.email_challenges == {}


async def test_an_unlinked_chat_cannot_add_an_address(
    open_chat, opt_in: EmailOptIn, mail: FakeEmailSender
) -> None:
    with pytest.raises(NotLinked):
        await opt_in.start(await open_chat(), ADDRESS)
    assert mail.sent == []


async def test_wrong_codes_use_tries_and_the_fifth_voids_the_code(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)
    code = mail.codes_sent_to("Ramesh.K@gmail.com")[-1]

    for left in range(CODE_ATTEMPTS - 1, 0, -1):
        with pytest.raises(OtpIncorrect) as wrong_code:
            await opt_in.confirm(chat, wrong(code))
        assert wrong_code.value.attempts_left == left
    with pytest.raises(OtpAttemptsExceeded):
        await opt_in.confirm(chat, wrong(code))

    with pytest.raises(NoPendingEmail):  # even the right code is too late now
        await opt_in.confirm(chat, code)
    assert resident_of(db, chat).email is None


async def test_text_that_is_no_code_uses_no_try(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)

    with pytest.raises(InvalidOtpFormat):
        await opt_in.confirm(chat, "it has not come yet")

    assert db.email_challenges[chat].attempts_left == CODE_ATTEMPTS


async def test_an_expired_code_changes_nothing(
    linked_chat,
    opt_in: EmailOptIn,
    mail: FakeEmailSender,
    db: InMemoryDatabase,
    clock: FakeClock,
    ramesh,
) -> None:
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)
    clock.advance(timedelta(minutes=15, seconds=1))

    with pytest.raises(OtpExpired):
        await opt_in.confirm(chat, mail.codes_sent_to("Ramesh.K@gmail.com")[-1])

    assert resident_of(db, chat).email is None and chat not in db.email_challenges


async def test_too_many_codes_are_refused_and_a_voided_code_does_not_reset_the_count(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, clock: FakeClock, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    for _ in range(3):
        await opt_in.start(chat, ADDRESS)
        await opt_in.remove(chat)  # "remove my email" voids the code, not the count

    with pytest.raises(TooManyEmailCodes):
        await opt_in.start(chat, "other@gmail.com")
    assert len(mail.sent) == 3

    clock.advance(timedelta(hours=1, seconds=1))
    await opt_in.start(chat, "other@gmail.com")  # the hour is over
    assert len(mail.sent) == 4


async def test_one_address_gets_at_most_five_codes_a_day_whoever_asks(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, clock: FakeClock, ramesh, sunita
) -> None:
    chats = [await linked_chat(ramesh), await linked_chat(sunita)]
    for n in range(5):
        await opt_in.start(chats[n % 2], "victim@gmail.com")
        clock.advance(timedelta(minutes=31))

    with pytest.raises(TooManyEmailCodes):
        await opt_in.start(chats[1], "victim@gmail.com")
    assert len(mail.to("victim@gmail.com")) == 5


async def test_a_mail_server_that_is_down_leaves_no_code_waiting_and_counts_nothing(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    mail.unavailable = True

    for _ in range(4):
        with pytest.raises(EmailUnavailable):
            await opt_in.start(chat, ADDRESS)

    assert db.email_challenges == {}
    mail.unavailable = False
    await opt_in.start(chat, ADDRESS)  # nothing counted against the limit
    assert len(mail.sent) == 1


async def test_a_resend_goes_to_the_same_address_and_the_new_code_works(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)

    await opt_in.resend(chat)
    await opt_in.confirm(chat, mail.codes_sent_to("Ramesh.K@gmail.com")[-1])

    assert resident_of(db, chat).email == "Ramesh.K@gmail.com"


async def test_a_code_asked_before_unlinking_sets_no_address(
    linked_chat, linking, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)
    await linking.unlink(chat)

    with pytest.raises(NotLinked):
        await opt_in.confirm(chat, mail.codes_sent_to("Ramesh.K@gmail.com")[-1])
    assert all(r.email is None for r in db.residents.values())


# --- the gateway's check of a typed code ------------------------------------------------------
async def test_a_typed_code_is_checked_and_only_its_outcome_passed_on(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    assert await opt_in.check_typed_code(chat, "123456") is None  # none waiting: not ours
    await opt_in.start(chat, ADDRESS)
    code = mail.codes_sent_to("Ramesh.K@gmail.com")[-1]

    assert await opt_in.check_typed_code(chat, "no power in 302001 since noon") is None
    assert await opt_in.check_typed_code(chat, wrong(code)) == f"wrong:{CODE_ATTEMPTS - 1}"
    assert await opt_in.check_typed_code(chat, f"code {code}") == "verified"


async def test_the_turn_passes_an_email_code_on_as_its_outcome_never_as_the_code(
    linked_chat,
    uow: InMemoryUnitOfWorkFactory,
    clock: FakeClock,
    linking,
    opt_in: EmailOptIn,
    mail: FakeEmailSender,
    db: InMemoryDatabase,
    ramesh,
) -> None:
    dialogue = FakeDialogueEngine()
    turns = TurnService(uow, clock, dialogue, linking=linking, email=opt_in)
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)
    code = mail.codes_sent_to("Ramesh.K@gmail.com")[-1]

    await turns.handle(db.conversations[chat], code)

    (text,) = [text for _, text, _ in dialogue.turns]
    assert code not in text
    assert text == '/inform{"email_code_result": "verified"}'
    assert resident_of(db, chat).email == "Ramesh.K@gmail.com"


# --- removing it ---------------------------------------------------------------------------------
async def test_removing_forgets_the_address_and_a_second_removal_says_there_was_none(
    linked_chat, opt_in: EmailOptIn, mail: FakeEmailSender, db: InMemoryDatabase, ramesh
) -> None:
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)
    await opt_in.confirm(chat, mail.codes_sent_to("Ramesh.K@gmail.com")[-1])

    assert await opt_in.remove(chat) is True
    assert resident_of(db, chat).email is None
    assert await opt_in.remove(chat) is False
    assert await opt_in.address(chat) is None


# --- receipts and reminders by email -------------------------------------------------------------
class _Printable:
    def __init__(self, uow: InMemoryUnitOfWorkFactory, billers: FakeBillerDirectory) -> None:
        self._uow, self._billers = uow, billers

    async def printable(self, receipt_number: str):
        async with self._uow() as tx:
            payment = await tx.payments.by_receipt_number(receipt_number)
        assert payment is not None
        return receipt_of(payment, self._billers.get(payment.biller_id))


async def test_a_paid_receipt_is_emailed_once_with_its_pdf_however_often_the_webhook_comes(
    linked_chat,
    uow: InMemoryUnitOfWorkFactory,
    billers: FakeBillerDirectory,
    gateway: FakePaymentGateway,
    clock: FakeClock,
    receipt_links,
    opt_in: EmailOptIn,
    mail: FakeEmailSender,
    db: InMemoryDatabase,
    sunita,
) -> None:
    renderer = FakeReceiptRenderer()
    payments = PaymentService(
        uow,
        billers,
        gateway,
        clock,
        receipt_links,
        callback_url=f"{PUBLIC_BASE_URL}/payments/return",
        receipt_email=EmailReceipts(uow, mail, _Printable(uow, billers), renderer),
    )
    chat = await linked_chat(sunita)
    await opt_in.start(chat, "sunita@yahoo.in")
    await opt_in.confirm(chat, mail.codes_sent_to("sunita@yahoo.in")[-1])
    billers.add_bill(PHED, "120034567890", amount_paise=48_250)
    payment, _ = await payments.request_link(chat, PHED.biller_id, "120034567890")
    created = next(c for c in gateway.links if c.request.reference_id == payment.payment_id)
    delivery = gateway.webhook("payment_link.paid", created)

    for _ in range(2):  # a replay
        event = gateway.parse_webhook(*delivery)
        assert event is not None
        await payments.handle_event(event)
    other = gateway.webhook("payment_link.paid", created, gateway_payment_id="pay_GwOther")
    event = gateway.parse_webhook(*other)
    assert event is not None
    await payments.handle_event(event)  # another event for the same payment

    receipts = [m for m in mail.to("sunita@yahoo.in") if m.attachments]
    (email,) = receipts
    number = db.payments[payment.payment_id].receipt_number
    ((filename, pdf, mime),) = email.attachments
    assert (filename, mime) == (f"receipt-{number}.pdf", "application/pdf")
    assert pdf.startswith(b"%PDF") and renderer.rendered[-1][1] is Language.HI
    assert DEVANAGARI.search(email.text) and "••••7890" in email.text
    assert len(db.pushed(chat)) == 1  # the chat's receipt, as without email


async def test_a_mail_server_that_is_down_does_not_touch_the_chats_receipt(
    linked_chat,
    uow: InMemoryUnitOfWorkFactory,
    billers: FakeBillerDirectory,
    gateway: FakePaymentGateway,
    clock: FakeClock,
    receipt_links,
    opt_in: EmailOptIn,
    mail: FakeEmailSender,
    db: InMemoryDatabase,
    ramesh,
) -> None:
    payments = PaymentService(
        uow,
        billers,
        gateway,
        clock,
        receipt_links,
        callback_url=f"{PUBLIC_BASE_URL}/payments/return",
        receipt_email=EmailReceipts(uow, mail, _Printable(uow, billers), FakeReceiptRenderer()),
    )
    chat = await linked_chat(ramesh)
    await opt_in.start(chat, ADDRESS)
    await opt_in.confirm(chat, mail.codes_sent_to("Ramesh.K@gmail.com")[-1])
    billers.add_bill(PHED, "120034567890", amount_paise=48_250)
    payment, _ = await payments.request_link(chat, PHED.biller_id, "120034567890")
    created = next(c for c in gateway.links if c.request.reference_id == payment.payment_id)
    mail.unavailable = True

    event = gateway.parse_webhook(*gateway.webhook("payment_link.paid", created))
    assert event is not None
    await payments.handle_event(event)

    assert len(db.pushed(chat)) == 1
    assert db.payments[payment.payment_id].receipt_number is not None


def _reminder() -> Reminder:
    return Reminder(
        reminder_id=7,
        resident_id="r1",
        account_id="a1",
        biller_id="JVVNL0000RAJ01",
        bill_number="B1",
        kind=ReminderKind.DUE_DAY,
        amount_paise=123_400,
        consumer_hint="••••8912",
        due_on=date(2025, 1, 20),
        send_at=FakeClock().now(),
        state=ReminderState.SENDING,
        attempts=0,
    )


def _recipient(email: str | None, language: Language = Language.EN) -> ReminderRecipient:
    return ReminderRecipient(
        resident_id="r1",
        conversation_id="c1",
        channel=Channel.WHATSAPP,
        address="+919812345678",
        language=language,
        enabled=True,
        opted_out=False,
        last_inbound_at=None,
        email=email,
    )


async def test_a_reminder_goes_by_email_in_the_residents_language(mail: FakeEmailSender) -> None:
    reminders = EmailReminders(mail)

    assert await reminders.send(_reminder(), _recipient("s@yahoo.in", Language.HI), "JVVNL")
    assert not await reminders.send(_reminder(), _recipient(None), "JVVNL")

    (email,) = mail.sent
    assert email.to == "s@yahoo.in" and "••••8912" in email.subject
    assert DEVANAGARI.search(email.text) and "₹1,234" in email.text


async def test_a_failed_reminder_email_is_reported_not_raised(mail: FakeEmailSender) -> None:
    mail.unavailable = True
    assert await EmailReminders(mail).send(_reminder(), _recipient("r@gmail.com"), "JVVNL") is False


async def test_a_planned_power_cut_notice_goes_by_email_as_the_chat_had_it(
    mail: FakeEmailSender,
) -> None:
    notice_reminder = replace(_reminder(), kind=ReminderKind.PLANNED_OUTAGE, amount_paise=0)
    notice = OutboundMessage("Planned power cut for JVVNL connection ••••8912: 10:00-14:00.")
    reminders = EmailReminders(mail)

    assert await reminders.send(notice_reminder, _recipient("r@gmail.com"), "JVVNL", notice)
    # Without the notice's text there is nothing to say: no bill email with ₹0 instead.
    assert not await reminders.send(notice_reminder, _recipient("r@gmail.com"), "JVVNL")

    (email,) = mail.sent
    assert email.subject == "Planned power cut: JVVNL connection ••••8912"
    assert email.text.startswith(notice.text) and "remove my email" in email.text
    assert "₹" not in email.text


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_every_reminder_email_says_how_to_stop_it(kind: ReminderKind) -> None:
    for language in Language:
        text = messages.render(
            f"email_reminder_{kind.value}",
            language,
            biller="JVVNL",
            consumer="••••8912",
            amount="₹1",
            due="today",
        )
        assert ("remove my email" if language is Language.EN else "मेरा ईमेल हटाओ") in text
