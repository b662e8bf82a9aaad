"""Biller latency as a Prometheus histogram, around whichever BillerDirectory is in use.

Bills are fetched by the action server and payments posted by the gateway: each process
records its own calls in prometheus_client's default REGISTRY (the gateway serves it at
/metrics; the action server on ACTION_SERVER_METRICS_PORT when set).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import Histogram

from bot.model.billing import Bill, Biller, Utility
from bot.ports import BillerDirectory

BILLER_SECONDS = Histogram(
    "bot_biller_seconds",
    "Calls to the biller directory (BBPS or the sandbox) by operation and outcome.",
    ["operation", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
)


class MeteredBillerDirectory:
    """A BillerDirectory that times each call to the one it wraps."""

    def __init__(self, inner: BillerDirectory) -> None:
        self._inner = inner

    def billers(self, utility: Utility | None = None) -> Sequence[Biller]:
        return self._inner.billers(utility)

    def get(self, biller_id: str) -> Biller:
        return self._inner.get(biller_id)

    async def fetch_bill(self, biller: Biller, consumer_number: str, mobile: str) -> Bill:
        started, outcome = time.perf_counter(), "error"
        try:
            bill = await self._inner.fetch_bill(biller, consumer_number, mobile)
            outcome = "ok"
            return bill
        finally:
            BILLER_SECONDS.labels("fetch_bill", outcome).observe(time.perf_counter() - started)

    async def post_payment(self, *args: Any, **kwargs: Any) -> Any:
        started, outcome = time.perf_counter(), "error"
        try:
            result = await self._inner.post_payment(*args, **kwargs)
            outcome = "ok"
            return result
        finally:
            BILLER_SECONDS.labels("post_payment", outcome).observe(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:  # aclose() and anything else of the adapter
        return getattr(self._inner, name)
