"""Channel adapters: translate between a channel's payloads and the core's messages.

Each adapter verifies, translates and renders; it holds no business logic.
"""
