"""Operator commands (`python -m app.cli.<name>`): `migrate`, `seed`, `rotate_keys`,
`agents`, `reminders`. Each reads the settings and takes what it drives from the
composition root (app/bootstrap.py)."""
