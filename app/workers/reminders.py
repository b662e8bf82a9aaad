"""The reminder jobs, and the poll of power complaints' status (built by the composition
root, app/bootstrap.py: `reminder_jobs`): the
same code runs under Celery (workers + beat, Redis broker) and in the gateway's event loop on
embedded defaults (no Redis).

Counts go to Prometheus (the default registry): `bot_reminders_total{state}` per dispatched
reminder outcome, `bot_bill_checks_total{outcome}` per discovery check,
`bot_outage_notices_total{outcome}` per planned-outage discovery run (notices scheduled,
moved, cancelled; companies unavailable), `bot_supply_updates_total` per power-complaint
status change pushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from bot.ports import RateLimiter
from bot.services.outage_notices import OutageDiscoveryReport, OutageNotices
from bot.services.reminder_dispatch import DispatchReport, ReminderDispatcher
from bot.services.reminders import DiscoveryReport, ReminderScheduler
from bot.services.supply import SupplyService

log = logging.getLogger(__name__)

REMINDERS = Counter("bot_reminders", "Reminders dispatched, by outcome", ["state"])
BILL_CHECKS = Counter("bot_bill_checks", "Saved accounts re-fetched by discovery", ["outcome"])
OUTAGE_NOTICES = Counter(
    "bot_outage_notices", "Planned-outage notices and companies asked", ["outcome"]
)
SUPPLY_UPDATES = Counter("bot_supply_updates", "Power complaint status changes pushed")


@dataclass
class ReminderJobs:
    scheduler: ReminderScheduler
    dispatcher: ReminderDispatcher
    limiter: RateLimiter
    outage_notices: OutageNotices
    supply: SupplyService | None = None

    async def poll_supply(self) -> int:
        """Ask the electricity companies about open power complaints; push the changes."""
        if self.supply is None:
            return 0
        pushed = await self.supply.poll()
        SUPPLY_UPDATES.inc(pushed)
        if pushed:
            log.info("power complaints: %d status change(s) pushed", pushed)
        return pushed

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

    async def discover_outages(self) -> OutageDiscoveryReport:
        report = await self.outage_notices.discover()
        for outcome in ("scheduled", "moved", "cancelled", "too_late", "unavailable"):
            OUTAGE_NOTICES.labels(outcome=outcome).inc(getattr(report, outcome))
        if report.scheduled or report.moved or report.cancelled:
            log.info("planned outages: %s", report)
        return report

    async def aclose(self) -> None:
        closer: Any = getattr(self.limiter, "aclose", None)
        if closer is not None:
            await closer()


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
                    await self._jobs.discover_outages()
                    next_discovery = loop.time() + self._discover_every_s
                await self._jobs.dispatch()
                # Each complaint is asked about at most every POLL_EVERY (bot/services/
                # supply.py): running the poll on every tick costs one query when none is due.
                await self._jobs.poll_supply()
            except Exception:  # a bad run must not stop reminders for good
                log.exception("reminder jobs failed; trying again later")
            await asyncio.sleep(self._dispatch_every_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._jobs.aclose()
