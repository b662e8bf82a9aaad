"""The composition root: the one place that turns settings into adapters and services, for
every process.

Nothing is built at import time. Each process calls `bootstrap()` once and takes what it
runs from the container, through the builders below:
- the gateway (app/gateway/app.py): the container for its routes, `shared_turn_locks`,
  `channel_runtime` (the WhatsApp/SMS/Telegram loops) and `in_process_reminders`;
- the action server (app/stack.py): `action_services`, installed into `actions.runtime`;
- the reminder workers and beat (app/workers/celery_app.py) and the operator commands
  (app/cli/): `reminder_jobs`, the container's services, `database_engine`, `keyring`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Environment, Settings, load_settings, warn_about_placeholders
from bot.model.handoff import OfficeHours
from bot.model.keys import purpose_key
from bot.model.residents import Channel, Language
from bot.ports import (
    BillCopyRenderer,
    BillerDirectory,
    ChannelSender,
    Clock,
    ConversationHistory,
    EmailSender,
    PaymentGateway,
    PowerSupplyDesk,
    RateCounter,
    RateLimiter,
    ReceiptRenderer,
    SmsSender,
    SsoRegistry,
    UnitOfWorkFactory,
)
from bot.services.agents import AgentService
from bot.services.bill_copies import BillCopyLinks, BillCopyService
from bot.services.billing import BillingService
from bot.services.conversations import ConversationService
from bot.services.effects import TurnEffects
from bot.services.email_delivery import EmailReceipts
from bot.services.email_opt_in import EmailOptIn
from bot.services.handoff import HandoffService
from bot.services.linking import LinkingService
from bot.services.payments import PaymentService
from bot.services.privacy import PrivacyService
from bot.services.receipt_checks import ReceiptChecks
from bot.services.receipts import ReceiptLinks
from bot.services.reminders import ReminderConsents, ReminderSettings
from bot.services.supply import SupplyService
from bot.services.support import ComplaintService
from bot.services.turns import TurnService
from bot.services.webchat_sessions import MIN_CLIENT_ID_CHARS, SessionPolicy, WebchatSessions
from integrations.billers.catalog import load_billers
from integrations.db.crypto import KeyRing, keyring_from_values
from integrations.db.effects import SqlEffectLedger
from integrations.db.engine import make_engine
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from integrations.db.webchat_sessions import SqlWebchatSessionStore
from integrations.rasa.client import RasaDialogueEngine
from integrations.receipts.bill_pdf import PdfBillCopyRenderer
from integrations.receipts.pdf import PdfReceiptRenderer
from integrations.sandbox import Sandbox

if TYPE_CHECKING:
    from actions.runtime import ActionServices
    from app.gateway.delivery import ChannelRuntime
    from app.gateway.turn_locks import TurnLocks
    from app.workers.reminders import InProcessReminderLoop, ReminderJobs
    from channels.sms import SmsSender as SmsChannelSender
    from channels.twilio_api import TwilioMessages
    from integrations.cache.turn_locks import RedisConversationLocks

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class Container:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    # The one SQL unit of work: every kind the services take (bot/ports.py).
    uow: SqlUnitOfWorkFactory
    sso: SsoRegistry
    billers: BillerDirectory
    payment_gateway: PaymentGateway
    sms: SmsSender
    receipt_renderer: ReceiptRenderer
    receipt_links: ReceiptLinks
    conversations: ConversationService
    linking: LinkingService
    billing: BillingService
    payments: PaymentService
    turns: TurnService
    dialogue: RasaDialogueEngine
    sandbox: Sandbox
    # WhatsApp, SMS and Telegram senders; a channel without credentials has none (it is off).
    channel_senders: dict[Channel, ChannelSender]
    privacy: PrivacyService
    rate_counter: RateCounter
    handoff: HandoffService
    agents: AgentService
    complaints: ComplaintService
    # A turn's side effects once per resident message (actions use it; bot/services/effects.py).
    effects: TurnEffects
    # Web chat session ids: issued, checked and expired (bot/services/webchat_sessions.py).
    webchat_sessions: WebchatSessions
    # A resident's yes/no to reminders and their settings screen (bot/services/reminders.py).
    reminder_consents: ReminderConsents
    reminder_settings: ReminderSettings
    # Receipts anyone can check: the code on each, and GET /verify (issue 16).
    receipt_checks: ReceiptChecks
    # "Bill ki copy bhejo": signed links to the current bill as a PDF (issue 16).
    bill_copies: BillCopyService
    bill_copy_links: BillCopyLinks
    bill_copy_renderer: BillCopyRenderer
    # Email receipts and reminders (issue 16): the mail server, and the address's opt-in.
    email: EmailSender
    email_opt_in: EmailOptIn
    # "Bijli nahi hai": the electricity companies' outage and complaint system (issue 16);
    # planned-outage notices ask it too (bot/services/outage_notices.py).
    power_desk: PowerSupplyDesk
    supply: SupplyService

    async def close(self) -> None:
        adapters = (
            self.sso,
            self.billers,
            self.payment_gateway,
            self.sms,
            self.dialogue,
            self.power_desk,
        )
        for adapter in (*adapters, self.rate_counter, *self.channel_senders.values()):
            closer = getattr(adapter, "aclose", None) or getattr(adapter, "close", None)
            if closer is not None:
                await closer()
        await self.engine.dispose()


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    settings = settings or load_settings()
    warn_about_placeholders(settings, log)
    clock = clock or SystemClock()
    engine = database_engine(settings)
    uow = SqlUnitOfWorkFactory(engine)
    billers = load_billers()
    secret = settings.app_secret_key.get_secret_value().encode()
    sandbox = Sandbox(
        engine=engine,
        billers=billers,
        public_base_url=settings.public_base_url,
        webhook_url=f"{settings.gateway_url}/webhooks/payments",
        webhook_secret=settings.razorpay_webhook_secret.get_secret_value(),
        clock=clock,
        seed_path=settings.sandbox_seed_path,
    )
    timeout = settings.integration_timeout_s

    sso: SsoRegistry = sandbox.sso
    if settings.sso_backend == "http":
        from integrations.sso.http import HttpSsoRegistry

        sso = HttpSsoRegistry(
            settings.sso_api_base_url, settings.sso_api_key.get_secret_value(), timeout
        )
    biller_directory: BillerDirectory = sandbox.billers
    if settings.biller_backend == "bbps":
        from integrations.billers.bbps import BbpsBillerDirectory

        biller_directory = BbpsBillerDirectory(
            settings.bbps_api_base_url, settings.bbps_api_key.get_secret_value(), billers, timeout
        )
    from integrations.billers.metered import MeteredBillerDirectory

    biller_directory = MeteredBillerDirectory(biller_directory)
    channel_senders = build_channel_senders(settings)
    sms: SmsSender = sandbox.sms
    if settings.sms_backend == "twilio":
        # One Twilio adapter: OTPs go out like every other SMS, through the SMS channel's
        # sender (built for them alone when the SMS channel is off).
        from channels.sms import SmsSender as SmsChannelSender

        on = channel_senders.get(Channel.SMS)
        sms = on if isinstance(on, SmsChannelSender) else sms_channel_sender(settings)
    gateway: PaymentGateway = sandbox.payments
    if settings.payment_gateway == "razorpay":
        from integrations.payments.razorpay import RazorpayGateway

        gateway = RazorpayGateway(
            settings.razorpay_key_id,
            settings.razorpay_key_secret.get_secret_value(),
            settings.razorpay_webhook_secret.get_secret_value(),
            settings.razorpay_api_base_url,
            timeout,
        )

    email: EmailSender = sandbox.email
    if settings.email_backend == "smtp":
        from integrations.email.smtp import SmtpEmailSender

        email = SmtpEmailSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            starttls=settings.smtp_starttls,
            timeout_s=timeout,
        )

    power_desk: PowerSupplyDesk = sandbox.power
    if settings.power_desk_backend == "http":
        from integrations.power.http import HttpPowerSupplyDesk

        power_desk = HttpPowerSupplyDesk(
            settings.power_desk_url, settings.power_desk_api_key.get_secret_value(), timeout
        )

    receipt_links = ReceiptLinks(settings.public_base_url, secret, clock)
    uow = SqlUnitOfWorkFactory(engine)
    hours = OfficeHours.parse(settings.office_days, settings.office_opens, settings.office_closes)
    handoff = HandoffService(uow, clock, hours)
    conversations = ConversationService(uow, clock)
    privacy = PrivacyService(uow, clock)
    rate_counter = build_rate_counter(settings, clock)
    dialogue = RasaDialogueEngine(
        settings.rasa_server_urls,
        settings.rasa_api_token.get_secret_value(),
        timeout_s=30.0,
        internal_token=settings.internal_token_value,
    )
    linking = LinkingService(uow, sso, sms, clock, otp_key=secret, limits=rate_counter)
    email_opt_in = EmailOptIn(uow, email, clock, purpose_key(secret, "email-codes"))
    receipt_checks = ReceiptChecks(
        uow, biller_directory, settings.public_base_url, receipt_check_keys(settings)
    )
    receipt_renderer = PdfReceiptRenderer()
    effects = TurnEffects(SqlEffectLedger(engine), clock)
    bill_copy_links = BillCopyLinks(
        settings.public_base_url, purpose_key(secret, "bill-copy-links"), clock
    )
    return Container(
        settings=settings,
        clock=clock,
        engine=engine,
        uow=uow,
        sso=sso,
        billers=biller_directory,
        payment_gateway=gateway,
        sms=sms,
        receipt_renderer=receipt_renderer,
        receipt_links=receipt_links,
        conversations=conversations,
        linking=linking,
        billing=BillingService(uow, biller_directory),
        payments=PaymentService(
            uow,
            biller_directory,
            gateway,
            clock,
            receipt_links,
            callback_url=f"{settings.public_base_url}/payments/return",
            receipt_email=EmailReceipts(uow, email, receipt_checks, receipt_renderer),
        ),
        turns=TurnService(
            uow,
            clock,
            dialogue,
            privacy,
            conversation_history(settings, dialogue),
            limits=rate_counter,
            messages_per_minute=settings.message_rate_per_minute,
            burst_messages=settings.message_burst_per_10s,
            handoff=handoff,
            linking=linking,
            notice_url=f"{settings.public_base_url}/privacy",
            effects=effects,
            email=email_opt_in,
        ),
        dialogue=dialogue,
        sandbox=sandbox,
        channel_senders=channel_senders,
        privacy=privacy,
        rate_counter=rate_counter,
        handoff=handoff,
        agents=AgentService(
            uow,
            clock,
            timedelta(minutes=settings.agent_session_minutes),
            limits=rate_counter,
        ),
        complaints=ComplaintService(uow, clock),
        effects=effects,
        webchat_sessions=webchat_sessions(settings, engine, clock, uow),
        reminder_consents=ReminderConsents(uow, clock),
        reminder_settings=ReminderSettings(uow, clock),
        receipt_checks=receipt_checks,
        bill_copies=BillCopyService(uow, biller_directory, bill_copy_links, clock),
        bill_copy_links=bill_copy_links,
        bill_copy_renderer=PdfBillCopyRenderer(),
        email=email,
        email_opt_in=email_opt_in,
        power_desk=power_desk,
        supply=SupplyService(
            uow,
            biller_directory,
            power_desk,
            clock,
            poll_every=timedelta(seconds=settings.supply_poll_after_s),
        ),
    )


def database_engine(settings: Settings) -> AsyncEngine:
    """DATABASE_URL's engine, with the keys of its personal data."""
    return make_engine(settings.database_url, keyring(settings))


def keyring(settings: Settings) -> KeyRing:
    """The keys of personal data at rest: DATA_ENCRYPTION_KEYS and DATA_HASH_KEY, else the
    development keys derived from APP_SECRET_KEY (production refuses those)."""
    return keyring_from_values(
        settings.data_encryption_keys.get_secret_value(),
        settings.data_hash_key.get_secret_value(),
        settings.app_secret_key.get_secret_value(),
    )


def receipt_check_keys(settings: Settings) -> list[bytes]:
    """RECEIPT_CHECK_KEYS, newest first; else one key derived from APP_SECRET_KEY."""
    given = settings.receipt_check_keys.get_secret_value()
    keys = [key.strip().encode() for key in given.split(",") if key.strip()]
    secret = settings.app_secret_key.get_secret_value().encode()
    return keys or [purpose_key(secret, "receipt-check")]


def conversation_history(settings: Settings, dialogue: RasaDialogueEngine) -> ConversationHistory:
    """Where an erasure removes Rasa's history: through Rasa's API, and from the SQL tracker
    store's rows too when Rasa keeps trackers there (it would otherwise keep them)."""
    tracker_store_url = settings.rasa_tracker_store_url.get_secret_value()
    if not tracker_store_url:
        return dialogue
    from integrations.rasa.tracker_history import SqlTrackerHistory

    return SqlTrackerHistory.from_url(dialogue, tracker_store_url)


def build_rate_counter(settings: Settings, clock: Clock) -> RateCounter:
    """Redis counters when REDIS_URL is set (shared by every process), else in-process."""
    from integrations.cache.rate_counters import InProcessRateCounter, RedisRateCounter

    if settings.redis_url:
        return RedisRateCounter(settings.redis_url)
    return InProcessRateCounter(clock)


def build_channel_senders(settings: Settings) -> dict[Channel, ChannelSender]:
    """A sender for each channel whose credentials are set."""
    from channels.telegram import TelegramSender
    from channels.whatsapp import WhatsAppSender

    senders: dict[Channel, ChannelSender] = {}

    if settings.whatsapp_on:
        templates = {
            (kind, language): getattr(settings, f"twilio_template_{kind}_{language.value}")
            for kind in ("receipt", "notice")
            for language in Language
        }
        senders[Channel.WHATSAPP] = WhatsAppSender(
            twilio_messages(settings), settings.twilio_whatsapp_from, templates
        )
    if settings.sms_on:
        senders[Channel.SMS] = sms_channel_sender(settings)
    if settings.telegram_on:
        senders[Channel.TELEGRAM] = TelegramSender(
            settings.telegram_bot_token.get_secret_value(),
            settings.telegram_api_base_url,
            settings.channel_send_timeout_s,
        )
    return senders


def twilio_messages(settings: Settings) -> TwilioMessages:
    """Twilio's REST API, for one sender (each keeps its own HTTP session)."""
    from channels.twilio_api import TwilioMessages

    base = settings.channel_retry_base_s
    return TwilioMessages(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        settings.twilio_api_base_url,
        settings.channel_send_timeout_s,
        (base, base * 2, base * 4),
    )


def sms_channel_sender(settings: Settings) -> SmsChannelSender:
    """SMS through Twilio: the SMS channel's sender, which sends OTP codes too."""
    from channels.sms import SmsSender as SmsChannelSender

    dlt = {
        (kind, language): getattr(settings, f"sms_dlt_template_{kind}_{language.value}")
        for kind in ("otp", "reply", "receipt", "push")
        for language in Language
    }
    return SmsChannelSender(twilio_messages(settings), settings.twilio_sms_from, dlt)


def client_id_min_chars(settings: Settings) -> int:
    if settings.webchat_client_id_min_chars is not None:
        return settings.webchat_client_id_min_chars
    production = settings.environment is Environment.PRODUCTION
    return MIN_CLIENT_ID_CHARS if production else 1


def webchat_sessions(
    settings: Settings, engine: AsyncEngine, clock: Clock, uow: UnitOfWorkFactory
) -> WebchatSessions:
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.webchat_session_idle_minutes),
        max_age=timedelta(hours=settings.webchat_session_max_hours),
        accept_client_ids=settings.webchat_accept_client_ids,
        min_client_id_chars=client_id_min_chars(settings),
    )
    return WebchatSessions(SqlWebchatSessionStore(engine), clock, policy, uow)


# --- what each process runs, from the container -------------------------------------------------
# Built when the process starts (the gateway's lifespan, the first action), from the container
# as it is then: a test may have replaced a service in it.


def action_services(container: Container) -> ActionServices:
    """What the actions call (actions/runtime.py); the action server installs it."""
    from actions.runtime import ActionServices

    return ActionServices(
        conversations=container.conversations,
        billing=container.billing,
        linking=container.linking,
        payments=container.payments,
        privacy=container.privacy,
        complaints=container.complaints,
        handoff=container.handoff,
        reminder_consents=container.reminder_consents,
        reminder_settings=container.reminder_settings,
        effects=container.effects,
        bill_copies=container.bill_copies,
        email=container.email_opt_in,
        supply=container.supply,
        public_base_url=container.settings.public_base_url,
    )


def shared_turn_locks(settings: Settings) -> RedisConversationLocks | None:
    """Turn locks shared through Redis when REDIS_URL is set (several gateway processes
    answer one conversation's messages one at a time); None: the gateway's own."""
    if not settings.redis_url:
        return None
    from integrations.cache.turn_locks import RedisConversationLocks

    return RedisConversationLocks.from_url(settings.redis_url)


def channel_runtime(container: Container, locks: TurnLocks) -> ChannelRuntime:
    """The gateway's WhatsApp, SMS and Telegram work: the inbox answered, the outbox
    delivered, the webhooks' verifiers (app/gateway/delivery.py)."""
    from app.gateway.delivery import ChannelRuntime
    from bot.services.delivery import DeliveryService
    from bot.services.inbox import ChannelInboxService
    from channels.twilio_api import TwilioWebhook

    settings = container.settings
    twilio_webhook = None
    if settings.whatsapp_on or settings.sms_on:
        twilio_webhook = TwilioWebhook(
            settings.twilio_auth_token.get_secret_value(),
            settings.public_base_url,
            settings.twilio_webhook_overrides,
        )
    return ChannelRuntime(
        ChannelInboxService(
            container.uow,
            container.conversations,
            container.turns,
            container.clock,
            max_wait=timedelta(seconds=settings.channel_max_wait_s),
        ),
        DeliveryService(container.uow, container.clock, container.channel_senders),
        container.effects,
        container.channel_senders,
        locks,
        container.clock,
        twilio_webhook=twilio_webhook,
        telegram_secret=(
            settings.telegram_webhook_secret.get_secret_value() if settings.telegram_on else ""
        ),
        poll_interval_s=settings.channel_poll_interval_s,
    )


def reminder_jobs(container: Container) -> ReminderJobs:
    """Reminder discovery and dispatch (app/workers/reminders.py): Celery's tasks, the
    operators' command, or the gateway's own loop."""
    from app.workers.reminders import ReminderJobs
    from bot.services.email_delivery import EmailReminders
    from bot.services.outage_notices import OutageNotices
    from bot.services.reminder_dispatch import ReminderDispatcher, SenderLane
    from bot.services.reminders import ReminderScheduler
    from channels.webchat import OutboxSender
    from integrations.billers.catalog import BillerCatalog
    from integrations.cache.rate_limit import InProcessRateLimiter, RedisRateLimiter

    settings = container.settings
    quiet = settings.reminder_quiet
    limiter: RateLimiter = (
        RedisRateLimiter.from_url(settings.redis_url)
        if settings.redis_url
        else InProcessRateLimiter()
    )
    rates = {
        Channel.WHATSAPP: settings.reminder_rate_whatsapp_per_s,
        Channel.SMS: settings.reminder_rate_sms_per_s,
        Channel.TELEGRAM: settings.reminder_rate_telegram_per_s,
    }
    lanes: dict[Channel, list[SenderLane]] = {
        Channel.WEBCHAT: [SenderLane("webchat", OutboxSender(container.uow, container.clock), None)]
    }
    for channel, sender in container.channel_senders.items():
        rate = rates[channel]
        lanes[channel] = [SenderLane(f"{channel.value}:0", sender, rate, max(1, int(rate)))]
    return ReminderJobs(
        scheduler=ReminderScheduler(
            container.uow,
            container.clock,
            container.billers,
            limiter,
            biller_rate_per_s=settings.reminder_biller_rate_per_s,
        ),
        dispatcher=ReminderDispatcher(
            container.uow,
            container.clock,
            BillerCatalog(load_billers()),
            lanes,
            limiter,
            email=EmailReminders(container.email),
            quiet=quiet,
        ),
        limiter=limiter,
        supply=container.supply,
        # Planned power cuts ride on the same schedule and dispatcher, same quiet hours.
        outage_notices=OutageNotices(
            container.uow, container.clock, container.billers, container.power_desk, quiet=quiet
        ),
    )


def in_process_reminders(container: Container) -> InProcessReminderLoop | None:
    """Embedded defaults (no REDIS_URL): the gateway runs the reminder jobs itself. With
    Redis, Celery workers and beat run them (README); None."""
    if container.settings.redis_url:
        return None
    from app.workers.reminders import InProcessReminderLoop

    return InProcessReminderLoop(
        reminder_jobs(container),
        container.settings.reminder_dispatch_interval_s,
        container.settings.reminder_discovery_interval_s,
    )
