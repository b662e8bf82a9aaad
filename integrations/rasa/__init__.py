"""Rasa as an internal dialogue engine, reached over its HTTP API from 127.0.0.1."""
