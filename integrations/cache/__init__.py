"""Short-lived shared state in Redis (or in-process without REDIS_URL): abuse-limit counters
and conversation locks across gateway processes."""
