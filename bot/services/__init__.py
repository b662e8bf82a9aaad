"""Use cases. Each service takes the ports it needs in its constructor and holds no other state."""
