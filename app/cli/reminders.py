"""Operators' view of the reminder engine.

    python -m app.cli.reminders counts      # reminders by state (sent, failed, skipped…)
    python -m app.cli.reminders schedule -n 20   # the next scheduled reminders
    python -m app.cli.reminders dispatch    # send what is due, now
    python -m app.cli.reminders discover    # re-fetch the saved accounts due a check
    python -m app.cli.reminders discover-outages   # schedule notices of planned power cuts

Output is JSON, one object; identifiers are shown masked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from typing import Any

from app.bootstrap import bootstrap, reminder_jobs


async def run(command: str, limit: int) -> dict[str, Any]:
    container = bootstrap()
    jobs = reminder_jobs(container)
    try:
        if command == "dispatch":
            return asdict(await jobs.dispatch())
        if command == "discover":
            return asdict(await jobs.discover())
        if command == "discover-outages":
            return asdict(await jobs.discover_outages())
        async with container.uow() as tx:
            if command == "counts":
                return {state.value: n for state, n in (await tx.reminders.counts()).items()}
            upcoming = await tx.reminders.upcoming(limit)
        return {
            "scheduled": [
                {
                    "reminder_id": r.reminder_id,
                    "kind": r.kind.value,
                    "send_at": r.send_at.isoformat(),
                    "biller_id": r.biller_id,
                    "consumer": r.consumer_hint,
                    "amount_paise": r.amount_paise,
                    "due_on": r.due_on.isoformat(),
                }
                for r in upcoming
            ]
        }
    finally:
        await jobs.aclose()
        await container.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.cli.reminders")
    parser.add_argument(
        "command", choices=["counts", "schedule", "dispatch", "discover", "discover-outages"]
    )
    parser.add_argument("-n", "--limit", type=int, default=20)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args.command, args.limit)), ensure_ascii=False))


if __name__ == "__main__":
    main()
