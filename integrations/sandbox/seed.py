"""`python -m integrations.sandbox.seed [--reset]`: load the sandbox seed into DATABASE_URL.

Safe to run on every start (`make run` does): bills paid in the sandbox stay paid unless
`--reset` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from app.settings import Settings
from integrations.billers.catalog import load_billers
from integrations.db.engine import make_engine
from integrations.sandbox.seeding import apply_seed, load_seed

log = logging.getLogger(__name__)


async def main(reset: bool) -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        seed = load_seed(settings.sandbox_seed_path, billers=load_billers())
        await apply_seed(engine, seed, reset=reset)
    finally:
        await engine.dispose()
    accounts = sum(1 for _ in seed.accounts())
    log.info(
        "sandbox seeded: %d residents, %d accounts%s",
        len(seed.residents),
        accounts,
        " (reset)" if reset else "",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Load the sandbox seed into DATABASE_URL.")
    parser.add_argument("--reset", action="store_true", help="restore seed.yml's bill states")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(main(parser.parse_args().reset))
