"""Background jobs (reminder dispatch, bill discovery): on Celery with Redis in production,
in the gateway's own event loop on embedded defaults."""
