"""The shell: the composition root, the gateway, the process supervisor, workers and
operator commands. Everything here may import anything; nothing imports it (README, Code layout)."""
