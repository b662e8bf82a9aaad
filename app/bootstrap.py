"""The composition root: the one place that turns settings into adapters and services.

Nothing is built at import time; each process (gateway, action server, scripts) calls
`bootstrap()` once and passes the container down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Environment, Settings, load_settings, warn_about_placeholders
from bot.model.handoff import OfficeHours
from bot.model.keys import purpose_key
from bot.model.residents import Channel, Language
from bot.ports import (
    BillCopyRenderer,
    BillerDirectory,
    ChannelSender,
    ChannelUnitOfWorkFactory,
    Clock,
    ConversationHistory,
    PaymentGateway,
    RateCounter,
    ReceiptRenderer,
    SmsSender,
    SsoRegistry,
    TurnUnitOfWorkFactory,
    UnitOfWorkFactory,
)
from bot.services.agents import AgentService
from bot.services.bill_copies import BillCopyLinks, BillCopyService
from bot.services.billing import BillingService
from bot.services.conversations import ConversationService
from bot.services.effects import TurnEffects
from bot.services.handoff import HandoffService
from bot.services.linking import LinkingService
from bot.services.payments import PaymentService
from bot.services.privacy import PrivacyService
from bot.services.receipt_checks import ReceiptChecks
from bot.services.receipts import ReceiptLinks
from bot.services.support import ComplaintService
from bot.services.turns import TurnService
from bot.services.webchat_sessions import MIN_CLIENT_ID_CHARS, SessionPolicy, WebchatSessions
from integrations.billers.catalog import load_billers
from integrations.db.crypto import keyring_from_settings
from integrations.db.effects import SqlEffectLedger
from integrations.db.engine import make_engine
from integrations.db.support_repositories import SqlSupportUnitOfWorkFactory
from integrations.db.unit_of_work import SqlUnitOfWorkFactory
from integrations.db.webchat_sessions import SqlWebchatSessionStore
from integrations.rasa.client import RasaDialogueEngine
from integrations.receipts.bill_pdf import PdfBillCopyRenderer
from integrations.receipts.pdf import PdfReceiptRenderer
from integrations.sandbox import Sandbox

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class Container:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    # The unit of work that reaches every table (support and privacy too): a turn's.
    turn_uow: TurnUnitOfWorkFactory
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
    channel_uow: ChannelUnitOfWorkFactory
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
    # Receipts anyone can check: the code on each, and GET /verify (issue 16).
    receipt_checks: ReceiptChecks
    # "Bill ki copy bhejo": signed links to the current bill as a PDF (issue 16).
    bill_copies: BillCopyService
    bill_copy_links: BillCopyLinks
    bill_copy_renderer: BillCopyRenderer

    async def close(self) -> None:
        adapters = (self.sso, self.billers, self.payment_gateway, self.sms, self.dialogue)
        for adapter in (*adapters, self.rate_counter, *self.channel_senders.values()):
            closer = getattr(adapter, "aclose", None) or getattr(adapter, "close", None)
            if closer is not None:
                await closer()
        await self.engine.dispose()


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    settings = settings or load_settings()
    warn_about_placeholders(settings, log)
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url, keyring_from_settings(settings))
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
    sms_channel = channel_senders.get(Channel.SMS)
    if settings.sms_backend == "twilio" and sms_channel is not None:
        # One sender per channel: OTPs go out like every other SMS.
        sms = sms_channel  # type: ignore[assignment]
    elif settings.sms_backend == "twilio":
        from integrations.sms.twilio_sms import TwilioSmsSender

        sms = TwilioSmsSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            settings.twilio_sms_from,
            settings.twilio_api_base_url,
        )
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

    receipt_links = ReceiptLinks(settings.public_base_url, secret, clock)
    support_uow = SqlSupportUnitOfWorkFactory(engine)
    hours = OfficeHours.parse(settings.office_days, settings.office_opens, settings.office_closes)
    handoff = HandoffService(support_uow, clock, hours)
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
    effects = TurnEffects(SqlEffectLedger(engine), clock)
    bill_copy_links = BillCopyLinks(
        settings.public_base_url, purpose_key(secret, "bill-copy-links"), clock
    )
    return Container(
        settings=settings,
        clock=clock,
        engine=engine,
        uow=uow,
        turn_uow=support_uow,
        sso=sso,
        billers=biller_directory,
        payment_gateway=gateway,
        sms=sms,
        receipt_renderer=PdfReceiptRenderer(),
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
        ),
        turns=TurnService(
            support_uow,
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
        ),
        dialogue=dialogue,
        sandbox=sandbox,
        channel_uow=uow,
        channel_senders=channel_senders,
        privacy=privacy,
        rate_counter=rate_counter,
        handoff=handoff,
        agents=AgentService(
            support_uow,
            clock,
            timedelta(minutes=settings.agent_session_minutes),
            limits=rate_counter,
        ),
        complaints=ComplaintService(support_uow, clock),
        effects=effects,
        webchat_sessions=webchat_sessions(settings, engine, clock, uow),
        receipt_checks=ReceiptChecks(
            uow, biller_directory, settings.public_base_url, receipt_check_keys(settings)
        ),
        bill_copies=BillCopyService(uow, biller_directory, bill_copy_links, clock),
        bill_copy_links=bill_copy_links,
        bill_copy_renderer=PdfBillCopyRenderer(),
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
    from channels.sms import SmsSender as SmsChannelSender
    from channels.telegram import TelegramSender
    from channels.twilio_api import TwilioMessages
    from channels.whatsapp import WhatsAppSender

    senders: dict[Channel, ChannelSender] = {}
    timeout = settings.channel_send_timeout_s
    base = settings.channel_retry_base_s
    delays = (base, base * 2, base * 4)

    def twilio() -> TwilioMessages:
        return TwilioMessages(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            settings.twilio_api_base_url,
            timeout,
            delays,
        )

    if settings.whatsapp_on:
        templates = {
            (kind, language): getattr(settings, f"twilio_template_{kind}_{language.value}")
            for kind in ("receipt", "notice")
            for language in Language
        }
        senders[Channel.WHATSAPP] = WhatsAppSender(
            twilio(), settings.twilio_whatsapp_from, templates
        )
    if settings.sms_on:
        dlt = {
            (kind, language): getattr(settings, f"sms_dlt_template_{kind}_{language.value}")
            for kind in ("otp", "reply", "receipt", "push")
            for language in Language
        }
        senders[Channel.SMS] = SmsChannelSender(twilio(), settings.twilio_sms_from, dlt)
    if settings.telegram_on:
        senders[Channel.TELEGRAM] = TelegramSender(
            settings.telegram_bot_token.get_secret_value(),
            settings.telegram_api_base_url,
            timeout,
        )
    return senders


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
