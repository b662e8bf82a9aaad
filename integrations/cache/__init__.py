"""Redis adapters: conversation locks across gateway processes."""
