"""A stand-in Twilio Messages API for `make bench-reminders`: real HTTP on 127.0.0.1, in its
own process, counting every message it accepts by its identity (recipient + text).

    python -m scripts.bench.provider --port 0      # prints "listening <port>" when ready
    GET  /stats  -> {"received", "distinct", "duplicates", "first_at", "last_at"}
    POST /reset  -> forget everything
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter

from aiohttp import web

ACCOUNT_SID = "ACbenchreminders"


def make_app() -> web.Application:
    seen: Counter[str] = Counter()
    times: list[float] = []

    async def messages(request: web.Request) -> web.Response:
        form = await request.post()
        body = form.get("Body") or form.get("ContentVariables") or ""
        key = f"{form.get('To', '')!s}|{body!s}"
        seen[key] += 1
        now = time.time()
        if not times:
            times.append(now)
        if len(times) == 1:
            times.append(now)
        else:
            times[1] = now
        sid = f"SM{sum(seen.values()):032d}"
        return web.json_response(
            {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued"}, status=201
        )

    async def stats(_: web.Request) -> web.Response:
        received = sum(seen.values())
        return web.json_response(
            {
                "received": received,
                "distinct": len(seen),
                "duplicates": received - len(seen),
                "first_at": times[0] if times else None,
                "last_at": times[-1] if times else None,
            }
        )

    async def reset(_: web.Request) -> web.Response:
        seen.clear()
        times.clear()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", messages)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    return app


async def serve(port: int) -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"listening {bound}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
