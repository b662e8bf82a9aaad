"""The reminder jobs, built from a container: the same code runs under Celery (workers + beat,
Redis broker) and in the gateway's event loop on embedded defaults (no Redis).

Counts go to Prometheus (the default registry): `bot_reminders_total{state}` per dispatched
reminder outcome, `bot_bill_checks_total{outcome}` per discovery check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from app.bootstrap import Container
from bot.errors import DeliveryFailed
from bot.model.channels import Delivery
from bot.model.residents import Channel
from bot.ports import Clock, RateLimiter
from bot.services.reminder_dispatch import DispatchReport, ReminderDispatcher, SenderLane
from bot.services.reminders import (
    DiscoveryReport,
    ReminderConsents,
    ReminderScheduler,
    ReminderSettings,
)
from integrations.billers.catalog import BillerCatalog, load_billers
from integrations.cache.rate_limit import InProcessRateLimiter, RedisRateLimiter
from integrations.db.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)

REMINDERS = Counter("bot_reminders", "Reminders dispatched, by outcome", ["state"])
BILL_CHECKS = Counter("bot_bill_checks", "Saved accounts re-fetched by discovery", ["outcome"])


class OutboxSender:
    """The web chat has no provider: its reminders land in the conversation's outbox, which
    the page polls (`GET /webchat/messages`)."""

    channel = Channel.WEBCHAT

    def __init__(self, uow: SqlUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def send(self, delivery: Delivery) -> None:
        try:
            async with self._uow() as tx:
                await tx.outbox.push(delivery.conversation_id, delivery.message, self._clock.now())
                await tx.commit()
        except Exception as exc:  # nothing was stored: safe to try again
            raise DeliveryFailed(f"outbox write failed: {type(exc).__name__}") from exc


@dataclass
class ReminderJobs:
    consents: ReminderConsents
    scheduler: ReminderScheduler
    dispatcher: ReminderDispatcher
    limiter: RateLimiter

    async def dispatch(self) -> DispatchReport:
        report = await self.dispatcher.run_until_idle()
        for state, n in report.by_state.items():
            REMINDERS.labels(state=state).inc(n)
        if report.claimed:
            log.info("reminders: %s", report.by_state)
        return report

    async def discover(self) -> DiscoveryReport:
        report = await self.scheduler.discover()
        BILL_CHECKS.labels(outcome="checked").inc(report.checked)
        BILL_CHECKS.labels(outcome="new_bill").inc(report.new_bills)
        BILL_CHECKS.labels(outcome="paid_elsewhere").inc(report.paid_elsewhere)
        BILL_CHECKS.labels(outcome="unavailable").inc(report.unavailable)
        return report

    async def aclose(self) -> None:
        closer: Any = getattr(self.limiter, "aclose", None)
        if closer is not None:
            await closer()


def build_reminder_jobs(container: Container) -> ReminderJobs:
    settings = container.settings
    uow = SqlUnitOfWorkFactory(container.engine)
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
        Channel.WEBCHAT: [
            SenderLane(
                "webchat",
                OutboxSender(SqlUnitOfWorkFactory(container.engine), container.clock),
                None,
            )
        ]
    }
    for channel, sender in container.channel_senders.items():
        rate = rates[channel]
        lanes[channel] = [SenderLane(f"{channel.value}:0", sender, rate, max(1, int(rate)))]
    return ReminderJobs(
        consents=ReminderConsents(uow, container.clock),
        scheduler=ReminderScheduler(
            uow,
            container.clock,
            container.billers,
            limiter,
            biller_rate_per_s=settings.reminder_biller_rate_per_s,
        ),
        dispatcher=ReminderDispatcher(
            uow, container.clock, BillerCatalog(load_billers()), lanes, limiter
        ),
        limiter=limiter,
    )


class InProcessReminderLoop:
    """Embedded defaults (no REDIS_URL): the gateway runs the jobs itself, one at a time."""

    def __init__(
        self, jobs: ReminderJobs, dispatch_every_s: float, discover_every_s: float
    ) -> None:
        self._jobs = jobs
        self._dispatch_every_s = dispatch_every_s
        self._discover_every_s = discover_every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reminders")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_discovery = loop.time()
        while True:
            try:
                if loop.time() >= next_discovery:
                    await self._jobs.discover()
                    next_discovery = loop.time() + self._discover_every_s
                await self._jobs.dispatch()
            except Exception:  # a bad run must not stop reminders for good
                log.exception("reminder jobs failed; trying again later")
            await asyncio.sleep(self._dispatch_every_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._jobs.aclose()


def reminder_consents(container: Container) -> ReminderConsents:
    """Consent alone, for the action server (which sends nothing itself)."""
    return ReminderConsents(SqlUnitOfWorkFactory(container.engine), container.clock)


def reminder_settings(container: Container) -> ReminderSettings:
    """The reminder policy screen, for the action server."""
    return ReminderSettings(SqlUnitOfWorkFactory(container.engine), container.clock)
