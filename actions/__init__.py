"""Thin rasa-sdk actions: read slots, call one use case, map the result or the core's error
to a response name. Business rules live in `bot.services`, texts in the Rasa domain."""
