"""Fixtures of the channel tests; the harness itself lives in `harness.py`."""

from tests.channels.harness import gateway, make_container, providers, seeded_template

__all__ = ["gateway", "make_container", "providers", "seeded_template"]
