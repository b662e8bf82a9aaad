"""Email through an SMTP server (EMAIL_BACKEND=smtp), with aiosmtplib: asyncio-native, so a
slow mail server never blocks the event loop every conversation shares.

One connection per message: receipts and reminders are a few a minute per resident, not a
stream, and a kept-open connection would need its own health checks and reconnects. Port 465
is implicit TLS; any other port upgrades with STARTTLS when SMTP_STARTTLS is on (587, the
submission port, expects it). The server's refusal or silence becomes EmailUnavailable: a
resident never sees a vendor's error text.
"""

from __future__ import annotations

import aiosmtplib

from bot.errors import EmailUnavailable
from bot.model.email import OutgoingEmail
from integrations.email.message import mime_message

IMPLICIT_TLS_PORT = 465


class SmtpEmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout_s: float = 10.0,
    ) -> None:
        if not host or not sender:
            # Fail at start, not at the first receipt: a misconfigured mailer is a silent one.
            raise ValueError("SMTP_HOST and EMAIL_FROM must be set for EMAIL_BACKEND=smtp")
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username or None
        self._password = password or None
        self._implicit_tls = port == IMPLICIT_TLS_PORT
        self._starttls = starttls and not self._implicit_tls
        self._timeout_s = timeout_s

    async def send(self, message: OutgoingEmail) -> None:
        try:
            await aiosmtplib.send(
                mime_message(message, self._sender),
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._implicit_tls,
                # False, not None: None would upgrade whenever offered, and a server that
                # offers STARTTLS with a certificate we cannot check would then fail.
                start_tls=self._starttls,
                timeout=self._timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise EmailUnavailable(type(exc).__name__) from exc
