"""Settings shared by every test tier."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# CI must be reproducible: the same examples every run, so a red build is never a coin toss.
# Local runs keep exploring new examples and keep Hypothesis' database of past failures.
settings.register_profile(
    "ci", derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("CI"):
    settings.load_profile("ci")
