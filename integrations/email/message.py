"""One OutgoingEmail as a MIME message, built with the standard library.

`EmailMessage` with the default (SMTPUTF8-aware) policy encodes a Hindi subject as an RFC 2047
encoded word and a Hindi body as UTF-8 (base64 or quoted-printable, whichever is shorter),
so every mail client shows the words as written. Attachments go as parts of their own MIME
type with their file name.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.model.email import OutgoingEmail


def mime_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The sender's domain in the id, as mail servers expect of their own messages.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(email.text, charset="utf-8")
    for filename, content, mime in email.attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
        )
    return message
