"""SQLAlchemy (1.4, 2.0-style, asyncio) persistence and Alembic migrations."""
