"""`python -m app.cli.seed [--reset]`: load the sandbox seed into DATABASE_URL.

Safe to run on every start (`make run` does): bills paid in the sandbox stay paid unless
`--reset` is given. SANDBOX_SEED_PATH picks another seed file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence

from app.bootstrap import database_engine
from app.settings import load_settings
from integrations.billers.catalog import load_billers
from integrations.sandbox import apply_seed, load_seed

log = logging.getLogger(__name__)


async def seed(reset: bool) -> None:
    settings = load_settings()
    engine = database_engine(settings)
    try:
        loaded = load_seed(settings.sandbox_seed_path, billers=load_billers())
        await apply_seed(engine, loaded, reset=reset)
    finally:
        await engine.dispose()
    log.info(
        "sandbox seeded: %d residents, %d accounts%s",
        len(loaded.residents),
        sum(1 for _ in loaded.accounts()),
        " (reset)" if reset else "",
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli.seed", description="Load the sandbox seed into DATABASE_URL."
    )
    parser.add_argument("--reset", action="store_true", help="restore seed.yml's bill states")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(seed(args.reset))


if __name__ == "__main__":
    main()
