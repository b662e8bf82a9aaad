"""Email as an opt-in channel (issue 16): a linked resident gives an address in the chat,
proves it with a code sent to it, and can remove it.

The code is handled like a linking code (bot/services/linking.py): 6 digits, only a keyed
hash stored, bound to the conversation and the address, checked by the gateway before the
dialogue engine sees the message (`check_typed_code`), so no code is in Rasa's tracker.
The address becomes the resident's only once its code is typed back: a typo never receives
a receipt. Bad input changes nothing: a wrong code uses one try, the fifth wrong one voids
the code (a new one must be asked for), and the codes sent are logged apart from the
challenge, so voiding or replacing a code never resets the limits on sending them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot import messages
from bot.errors import (
    BotError,
    EmailUnavailable,
    InvalidEmail,
    InvalidOtpFormat,
    NoPendingEmail,
    NotLinked,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpIncorrect,
    TooManyEmailCodes,
)
from bot.model.email import EmailChallenge, OutgoingEmail, find_email, mask_email
from bot.model.identifiers import find_otp
from bot.ports import Clock, EmailSender, UnitOfWorkFactory
from bot.services.conversations import get_conversation, language_of, linked_resident
from bot.services.linking import is_only_a_code

CODE_LENGTH = 6
# Longer than an SMS code's 5 minutes: mail is slower and may sit in a spam folder first.
CODE_VALIDITY = timedelta(minutes=15)
CODE_ATTEMPTS = 5
# Per resident: codes in an hour (a typo, a resend). Per address, whoever asks: codes a day,
# so nobody can make the bot mail a stranger's inbox over and over.
MAX_CODES_PER_RESIDENT = 3
RESIDENT_WINDOW = timedelta(hours=1)
MAX_CODES_PER_ADDRESS = 5
ADDRESS_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class EmailCodeSent:
    masked_address: str
    valid_minutes: int


class EmailOptIn:
    def __init__(
        self, uow: UnitOfWorkFactory, sender: EmailSender, clock: Clock, code_key: bytes
    ) -> None:
        self._uow = uow
        self._sender = sender
        self._clock = clock
        self._key = code_key

    async def start(self, conversation_id: str, typed: str) -> EmailCodeSent:
        """Send a code to the address in `typed` (a bare address or a sentence holding one).

        Raises InvalidEmail, NotLinked, TooManyEmailCodes, EmailUnavailable; in each case
        nothing is stored."""
        address = find_email(typed)
        if address is None:
            raise InvalidEmail(typed)
        now = self._clock.now()
        async with self._uow() as tx:
            conversation, resident = await linked_resident(tx, conversation_id)
            codes = tx.email_challenges
            if (
                await codes.sends_since(now - RESIDENT_WINDOW, resident_id=resident.resident_id)
                >= MAX_CODES_PER_RESIDENT
                or await codes.sends_since(now - ADDRESS_WINDOW, address=address)
                >= MAX_CODES_PER_ADDRESS
            ):
                raise TooManyEmailCodes(conversation_id)
            language = language_of(conversation, resident)
            code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
            challenge = EmailChallenge(
                conversation_id=conversation_id,
                resident_id=resident.resident_id,
                address=address,
                code_hash=self._hash(conversation_id, address, code),
                sent_at=now,
                expires_at=now + CODE_VALIDITY,
                attempts_left=CODE_ATTEMPTS,
            )
            await codes.save(challenge)  # replaces an earlier code of this chat
            await tx.commit()
        minutes = int(CODE_VALIDITY.total_seconds() // 60)
        email = OutgoingEmail(
            to=address,
            subject=messages.render("email_code_subject", language),
            text=messages.render("email_code_text", language, code=code, minutes=minutes),
        )
        # Sent after the commit (no transaction open across a call outside); a failed send
        # leaves no code waiting that never went, and does not count against the limits.
        try:
            await self._sender.send(email)
        except EmailUnavailable:
            async with self._uow() as tx:
                current = await tx.email_challenges.get(conversation_id)
                if current is not None and current.code_hash == challenge.code_hash:
                    await tx.email_challenges.delete(conversation_id)
                    await tx.commit()
            raise
        async with self._uow() as tx:
            await tx.email_challenges.record_send(resident.resident_id, address, now)
            await tx.commit()
        return EmailCodeSent(mask_email(address), minutes)

    async def resend(self, conversation_id: str) -> EmailCodeSent:
        """A new code to the address this chat is confirming, within the same limits.
        Raises NoPendingEmail, and what `start` raises."""
        pending = await self.pending(conversation_id)
        if pending is None:
            raise NoPendingEmail(conversation_id)
        return await self.start(conversation_id, pending.address)

    async def confirm(self, conversation_id: str, typed_code: str) -> str:
        """Check a typed code; on success the address is the resident's (returned masked).

        Raises NoPendingEmail, InvalidOtpFormat (no try used), OtpExpired, OtpIncorrect,
        OtpAttemptsExceeded (the code is void), NotLinked (unlinked meanwhile)."""
        code = find_otp(typed_code, CODE_LENGTH)
        async with self._uow() as tx:
            challenge = await tx.email_challenges.get(conversation_id)
            if challenge is None:
                raise NoPendingEmail(conversation_id)
            if code is None:
                raise InvalidOtpFormat(typed_code)
            if self._clock.now() > challenge.expires_at:
                await tx.email_challenges.delete(conversation_id)
                await tx.commit()
                raise OtpExpired(conversation_id)
            if not self._matches(challenge, code):
                challenge.attempts_left -= 1
                if challenge.attempts_left <= 0:
                    await tx.email_challenges.delete(conversation_id)
                    await tx.commit()
                    raise OtpAttemptsExceeded(conversation_id)
                await tx.email_challenges.save(challenge)
                await tx.commit()
                raise OtpIncorrect(challenge.attempts_left)
            conversation = await get_conversation(tx, conversation_id)
            resident = (
                await tx.residents.get(conversation.resident_id)
                if conversation.resident_id
                else None
            )
            # The code was asked by this resident: a chat unlinked (or linked to someone
            # else) since then must not set an address on anybody.
            if resident is None or resident.resident_id != challenge.resident_id:
                await tx.email_challenges.delete(conversation_id)
                await tx.commit()
                raise NotLinked(conversation_id)
            resident.email = challenge.address
            await tx.residents.update(resident)
            await tx.email_challenges.delete(conversation_id)
            await tx.commit()
        return mask_email(challenge.address)

    async def check_typed_code(self, conversation_id: str, text: str) -> str | None:
        """The outcome of a code typed while this chat waits for an email code, for the
        gateway to pass on instead of the code: "verified", "wrong:<tries left>", "expired",
        "attempts_exceeded", "unavailable". None when no email code is waiting here, or
        when `text` is more than a code and its six digits are not the code (a PIN code in
        a sentence: no try used)."""
        code = find_otp(text, CODE_LENGTH)
        if code is None:
            return None
        pending = await self.pending(conversation_id)
        if pending is None:
            return None
        if not is_only_a_code(text) and not self._matches(pending, code):
            return None
        try:
            await self.confirm(conversation_id, text)
        except OtpIncorrect as wrong:
            return f"wrong:{wrong.attempts_left}"
        except (OtpExpired, NoPendingEmail):
            return "expired"
        except OtpAttemptsExceeded:
            return "attempts_exceeded"
        except BotError:
            return "unavailable"
        return "verified"

    async def pending(self, conversation_id: str) -> EmailChallenge | None:
        """The code this chat is waiting for, expired or not; None when there is none."""
        async with self._uow() as tx:
            return await tx.email_challenges.get(conversation_id)

    async def address(self, conversation_id: str) -> str | None:
        """The confirmed address of this chat's resident, masked; None when there is none
        (or the chat is not linked)."""
        async with self._uow() as tx:
            try:
                _, resident = await linked_resident(tx, conversation_id)
            except NotLinked:
                return None
        return mask_email(resident.email) if resident.email else None

    async def remove(self, conversation_id: str) -> bool:
        """Forget the resident's address and any code on its way. False when there was none."""
        async with self._uow() as tx:
            await tx.email_challenges.delete(conversation_id)
            try:
                _, resident = await linked_resident(tx, conversation_id)
            except NotLinked:
                await tx.commit()
                return False
            had = resident.email is not None
            resident.email = None
            await tx.residents.update(resident)
            await tx.commit()
        return had

    def _matches(self, challenge: EmailChallenge, code: str) -> bool:
        expected = self._hash(challenge.conversation_id, challenge.address, code)
        return hmac.compare_digest(expected, challenge.code_hash)

    def _hash(self, conversation_id: str, address: str, code: str) -> str:
        # Bound to the chat and the address: a stored hash proves nothing anywhere else.
        message = f"email|{conversation_id}|{address}|{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
