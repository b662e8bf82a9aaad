"""Settings shared by every test tier, in both runtimes (README, "Runtimes").

tests/engine/ runs in the engine runtime (Python 3.10 with Rasa: `.venv-engine`), everything
else in the app runtime (`.venv`, no Rasa): each runtime collects only its own tests, so a bare
`python -m pytest` does the right thing in either. `make test` runs both.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

ENGINE_RUNTIME = importlib.util.find_spec("rasa") is not None
_TIERS = sorted(p.name for p in Path(__file__).parent.iterdir() if p.is_dir())
collect_ignore = [tier for tier in _TIERS if (tier == "engine") != ENGINE_RUNTIME]

if not ENGINE_RUNTIME:  # the engine runtime has no Hypothesis (nor a test that needs it)
    from hypothesis import HealthCheck, settings

    # CI must be reproducible: the same examples every run, so a red build is never a coin
    # toss. Local runs keep exploring new examples and keep Hypothesis' database of failures.
    settings.register_profile(
        "ci", derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    if os.environ.get("CI"):
        settings.load_profile("ci")
