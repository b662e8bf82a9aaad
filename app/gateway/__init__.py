"""The gateway: the one process facing the outside (web chat, webhooks, receipts, health)."""
