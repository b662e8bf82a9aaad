"""SSO registry clients: who holds an SSO ID and which mobile it is registered with."""
