"""Operator commands (`python -m app.cli.<name>`): each reads the settings and hands plain
values to the adapters it drives."""
