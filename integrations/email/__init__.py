"""Email adapters: the MIME message both share, SMTP (aiosmtplib), and the sandbox outbox
(integrations/sandbox/email.py)."""
