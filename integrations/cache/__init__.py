"""Short-lived shared state: abuse-limit counters (Redis, or in-process without REDIS_URL)."""
