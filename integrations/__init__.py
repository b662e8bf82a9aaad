"""Adapters to the outside world: each implements a port from `bot.ports`."""
