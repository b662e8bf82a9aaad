"""Planned-outage notices: each electricity company's announced shutdowns, pushed before
they start to the residents whose saved accounts they switch off, once each.

They ride on the reminder engine rather than beside it: a notice is a reminder of kind
PLANNED_OUTAGE whose "bill number" is the company's outage id, so the schedule's unique
(account, bill number, kind) makes each (account, outage) exist once, and the dispatcher's
claims, SENDING point, rate limits, quiet hours, consent and STOP opt-out apply unchanged
(bot/services/reminder_dispatch.py). What is the outage's own (times, reason, area) is
stored once per outage and rendered at send time.

A change is never a second notice. Moved before its notice went out: the notice moves
(and says the new times). Called off before: the notice is cancelled; announced again:
it comes back. After the notice went out, neither a change nor a cancellation is sent
again (each account hears of an outage once; "is my power cut?" answers the rest).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timezone

from bot.errors import SupplyDeskUnavailable
from bot.messages import render
from bot.model.billing import Biller, Utility
from bot.model.calendar import IST, format_date
from bot.model.identifiers import mask
from bot.model.outage_notices import notice_time
from bot.model.outages import MAX_REASON_CHARS, Outage, OutageKind, PlannedOutage
from bot.model.outbound import OutboundMessage
from bot.model.reminders import NewReminder, QuietHours, ReminderKind
from bot.model.residents import Language
from bot.ports import BillerDirectory, Clock, PowerSupplyDesk, ReminderUnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_AREA_CHARS = 100
MAX_OUTAGE_ID_CHARS = 64  # reminders.bill_number
# On SMS the company's words are clipped so that a notice costs at most 2 GSM-7 segments
# in English and 3 UCS-2 segments in Hindi (tests/unit/test_outage_notice_schedule.py).
SMS_REASON_CHARS = 40
SMS_AREA_CHARS = 24


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def outage_period(outage: Outage, language: Language) -> str:
    """ "7 Dec 2026, 10:00 to 14:00 IST", or with both dates when it runs past midnight."""
    start, end = outage.starts_at.astimezone(IST), outage.ends_at.astimezone(IST)
    if start.date() == end.date():
        return render(
            "outage_period_same_day",
            language,
            day=format_date(start.date(), language),
            start=f"{start:%H:%M}",
            end=f"{end:%H:%M}",
        )
    return render(
        "outage_period",
        language,
        start_day=format_date(start.date(), language),
        start=f"{start:%H:%M}",
        end_day=format_date(end.date(), language),
        end=f"{end:%H:%M}",
    )


def outage_notice(
    outage: Outage, consumer_hint: str, language: Language, biller_name: str, short: bool
) -> OutboundMessage:
    """The notice of `outage` for one account (`short`: for SMS). No button: there is
    nothing to do but prepare."""
    reason = _clip(outage.reason, SMS_REASON_CHARS if short else MAX_REASON_CHARS)
    area = _clip(outage.area, SMS_AREA_CHARS if short else MAX_AREA_CHARS)
    return OutboundMessage(
        text=render(
            "reminder_planned_outage",
            language,
            biller=biller_name,
            consumer=consumer_hint,
            period=outage_period(outage, language),
            area=render("outage_area", language, area=area) if area else "",
            reason=reason,
        )
    )


@dataclass
class OutageDiscoveryReport:
    billers: int = 0  # electricity companies asked
    unavailable: int = 0  # of them, those whose system did not answer
    outages: int = 0  # planned outages still ahead
    scheduled: int = 0  # notices added
    moved: int = 0  # notices moved, revived or skipped because their outage changed
    cancelled: int = 0  # notices cancelled because their outage was called off
    too_late: int = 0  # outages announced too late for a notice before they start


class OutageNotices:
    """Finds planned outages and schedules their notices. Idempotent: run it as often as
    the company's list may change; concurrent runs schedule each notice once."""

    def __init__(
        self,
        uow: ReminderUnitOfWorkFactory,
        clock: Clock,
        billers: BillerDirectory,
        desk: PowerSupplyDesk,
        *,
        quiet: QuietHours | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._billers = billers
        self._desk = desk
        self._quiet = quiet or QuietHours()

    async def discover(self) -> OutageDiscoveryReport:
        report = OutageDiscoveryReport()
        for biller in self._billers.billers(Utility.ELECTRICITY):
            report.billers += 1
            now = self._clock.now()
            try:
                announced = await self._desk.planned_outages(biller, now)
            except SupplyDeskUnavailable:
                # Nothing is cancelled on silence: only an answer without an outage is.
                report.unavailable += 1
                log.warning("planned outages of %s: no answer", biller.biller_id)
                continue
            except Exception:  # a broken adapter must not keep the other companies' cuts back
                report.unavailable += 1
                log.exception("planned outages of %s: the desk broke", biller.biller_id)
                continue
            await self._biller(biller, announced, report)
        return report

    async def _biller(
        self, biller: Biller, announced: list[PlannedOutage], report: OutageDiscoveryReport
    ) -> None:
        now = self._clock.now()
        async with self._uow() as tx:
            known = await tx.outages.announced(biller.biller_id)
        current = {}
        for planned in announced:
            outage = planned.outage
            if len(outage.outage_id) > MAX_OUTAGE_ID_CHARS:  # it is the notice's key
                log.warning("planned outage of %s: id too long, ignored", biller.biller_id)
            elif outage.kind is OutageKind.PLANNED and outage.biller_id == biller.biller_id:
                current[outage.outage_id] = planned
        gone = [i for i, o in known.items() if i not in current and o.ahead(now)]
        if gone:
            async with self._uow() as tx:
                report.cancelled += await tx.outages.cancel(biller.biller_id, gone, now)
                await tx.commit()
        for outage_id, planned in current.items():
            if planned.outage.ahead(now):
                report.outages += 1
                await self._outage(planned, known.get(outage_id), report)

    async def _outage(
        self, planned: PlannedOutage, before: Outage | None, report: OutageDiscoveryReport
    ) -> None:
        now = self._clock.now()
        outage = planned.outage
        outage = Outage(
            outage.outage_id,
            outage.biller_id,
            outage.kind,
            outage.starts_at.astimezone(timezone.utc),
            outage.ends_at.astimezone(timezone.utc),
            _clip(outage.reason, MAX_REASON_CHARS),
            _clip(outage.area, MAX_AREA_CHARS),
        )
        send_at = notice_time(outage, now, self._quiet)
        async with self._uow() as tx:
            await tx.outages.save([outage], now)
            if before is None or before.starts_at != outage.starts_at:
                # New, moved, or announced again after a cancellation (`before` is None then).
                report.moved += await tx.outages.replan(
                    outage.biller_id, outage.outage_id, send_at, now
                )
            if send_at is None:
                report.too_late += 1
            else:
                accounts = await tx.outages.accounts_on(outage.biller_id, planned.consumer_numbers)
                report.scheduled += await tx.reminders.schedule(
                    [
                        NewReminder(
                            resident_id=account.resident_id,
                            account_id=account.account_id,
                            biller_id=outage.biller_id,
                            bill_number=outage.outage_id,
                            kind=ReminderKind.PLANNED_OUTAGE,
                            amount_paise=0,
                            consumer_hint=mask(account.consumer_number),
                            due_on=outage.starts_at.astimezone(IST).date(),
                            send_at=send_at,
                        )
                        for account in accounts
                    ],
                    now,
                )
            await tx.commit()
