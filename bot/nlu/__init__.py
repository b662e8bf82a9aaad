"""Rasa NLU pipeline components of our own (loaded by name from config.yml)."""
