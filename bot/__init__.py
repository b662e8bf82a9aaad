"""Core of the Rajasthan utility-bill bot: model, use cases, ports, settings and composition root.

Nothing under `bot.model`, `bot.services`, `bot.ports` or `bot.errors` may import a framework
(rasa_sdk, fastapi, twilio, telegram, sqlalchemy, redis); import-linter enforces it.
"""
