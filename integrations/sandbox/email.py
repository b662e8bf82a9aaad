"""The sandbox mail server: messages are kept for GET /sandbox/email instead of sent.

It builds the same MIME message the SMTP adapter sends, and keeps what a person reading the
mail would see: the decoded subject and text, and the attachments' file names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import EmailUnavailable
from bot.model.email import OutgoingEmail, normalise_email
from bot.ports import Clock
from integrations.email.message import mime_message
from integrations.sandbox import tables

SANDBOX_FROM = "Rajasthan bill assistant <bills@sandbox.invalid>"


class SandboxEmailSender:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def send(self, message: OutgoingEmail) -> None:
        # A real server refuses a malformed recipient; so does the sandbox.
        if normalise_email(message.to) is None:
            raise EmailUnavailable("not an email address")
        mime = mime_message(message, SANDBOX_FROM)
        body = mime.get_body(preferencelist=("plain",))
        # set_content ends the body with a newline of its own: not part of what was written.
        text = body.get_content().removesuffix("\n") if body is not None else ""
        files = [part.get_filename() or "" for part in mime.iter_attachments()]
        async with self._engine.begin() as conn:
            await conn.execute(
                tables.email_outbox.insert().values(
                    to_address=message.to.lower(),
                    subject=str(mime["Subject"]),
                    text=text,
                    attachments="\n".join(files),
                    sent_at=self._clock.now(),
                )
            )

    async def outbox(self, to: str) -> list[dict[str, Any]]:
        """Mail sent to `to` (any case), oldest first."""
        mail = tables.email_outbox
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(mail).where(mail.c.to_address == to.strip().lower()).order_by(mail.c.id)
            )
            return [
                {
                    "to": row.to_address,
                    "subject": row.subject,
                    "text": row.text,
                    "attachments": [name for name in row.attachments.split("\n") if name],
                    "sent_at": row.sent_at.isoformat(),
                }
                for row in rows
            ]
