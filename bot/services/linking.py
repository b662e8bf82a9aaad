"""Linking a chat to an SSO ID by an OTP sent to the mobile registered with that SSO ID.

The code goes to the SSO holder's phone, never to whoever is chatting, so knowing
someone's SSO ID is not enough to act as them. We never ask for the SSO password.

Asking for a code says the same for an SSO ID that does not exist: "if it is registered, a
code went to its mobile", with no digits of the mobile. An unknown SSO ID gets a challenge
no code can pass and counts against every limit as a known one does, so neither the answer
nor the limits tell a stranger which SSO IDs exist (bot/services/link_limits.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from bot import messages
from bot.errors import (
    BotError,
    InvalidOtpFormat,
    InvalidSsoId,
    NoPendingLink,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpIncorrect,
    OtpLockedOut,
    SmsUnavailable,
    UnknownSsoId,
)
from bot.model.identifiers import find_otp, find_sso_id
from bot.model.residents import LinkChallenge, Resident
from bot.ports import Clock, RateCounter, SmsSender, SsoRegistry, UnitOfWorkFactory
from bot.services.conversations import get_conversation
from bot.services.link_limits import LinkLimits

OTP_LENGTH = 6
OTP_VALIDITY = timedelta(minutes=5)
OTP_ATTEMPTS = 3
# The longest an unknown SSO ID's answer waits to look like a known one's (a provider slower
# than this is timing out anyway).
MAX_PADDING_S = 3.0
# A message this long is a sentence, not a code being typed ("my code is 123 456" fits).
MAX_CODE_MESSAGE_CHARS = 40


@dataclass(frozen=True)
class LinkStarted:
    """A code is on its way if `sso_id` exists; nothing here says whether it does."""

    sso_id: str
    valid_minutes: int


# What else a message that is only a code may hold ("my code is 123-456", "कोड 123456 है").
_CODE_WORDS = frozenset(
    "my the code otp is was it here this mera meraa hai ye yeh kod kode ka "
    "कोड ओटीपी मेरा है यह ये".split()
)
_NOT_WORDS = re.compile(r"[0-9०-९\s\-.:,;#!/()'\"]+")


def looks_like_a_code(text: str) -> bool:
    """A short message holding six digits: "123456", "१२३ ४५६", "my code is 123-456"."""
    return len(text) <= MAX_CODE_MESSAGE_CHARS and find_otp(text, OTP_LENGTH) is not None


def is_only_a_code(text: str) -> bool:
    """A message that is a code and nothing else ("123456", "code: 123 456"), unlike a
    sentence that happens to hold six digits ("no power in 302001 since noon")."""
    if not looks_like_a_code(text):
        return False
    return all(word in _CODE_WORDS for word in _NOT_WORDS.split(text.lower()) if word)


class LinkingService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sso: SsoRegistry,
        sms: SmsSender,
        clock: Clock,
        otp_key: bytes,
        limits: RateCounter | None = None,
    ) -> None:
        self._limits = LinkLimits(limits, otp_key)
        self._uow = uow
        self._sso = sso
        self._sms = sms
        self._clock = clock
        self._otp_key = otp_key
        self._sms_seconds = 0.0  # a moving average of the SMS provider's answer time

    async def start(self, conversation_id: str, typed_sso_id: str) -> LinkStarted:
        """Send a code for the SSO ID in `typed_sso_id` (a bare id or a sentence holding one).

        Asking again for the same SSO ID is a resend and counts against the limits.
        Raises InvalidSsoId, SsoUnavailable, TooManyOtpRequests, OtpLockedOut, SmsUnavailable;
        never UnknownSsoId (an unknown SSO ID is answered as a known one).
        """
        sso_id = find_sso_id(typed_sso_id)
        if sso_id is None:
            raise InvalidSsoId(typed_sso_id)
        holder = await self._sso.lookup(sso_id)
        now = self._clock.now()
        minutes = int(OTP_VALIDITY.total_seconds() // 60)
        otp = f"{secrets.randbelow(10**OTP_LENGTH):0{OTP_LENGTH}d}"
        mobile = holder.mobile if holder is not None else None
        await self._limits.refuse_if_locked(conversation_id, sso_id)
        async with self._uow() as tx:
            conversation = await get_conversation(tx, conversation_id)
            await self._limits.refuse_by_sends(tx, conversation, sso_id, mobile, now)
        await self._limits.refuse_by_counters(conversation, sso_id, mobile)
        async with self._uow() as tx:
            challenge = LinkChallenge(
                conversation_id=conversation_id,
                sso_id=sso_id,
                # No SSO holder, no SMS: a hash no code has, so every code typed is "wrong".
                otp_hash=self._hash(conversation_id, sso_id, otp)
                if holder is not None
                else secrets.token_hex(32),
                sent_at=now,
                expires_at=now + OTP_VALIDITY,
                attempts_left=OTP_ATTEMPTS,
            )
            earlier = await tx.challenges.get(conversation_id)
            if earlier is not None and earlier.sso_id == sso_id and now <= earlier.expires_at:
                # A resend: the code already on its way stays good until it expires.
                challenge.previous_otp_hash = earlier.otp_hash
                challenge.previous_expires_at = earlier.expires_at
                challenge.attempts_left = earlier.attempts_left
            await tx.challenges.save(challenge)  # replaces any earlier code of this chat
            if holder is None:
                await tx.challenges.record_send(sso_id, now, conversation_id)
            await tx.commit()
        if holder is None:
            # As long as a real SMS takes lately: the answer's time must not tell either.
            await asyncio.sleep(self._sms_seconds)
            return LinkStarted(sso_id=sso_id, valid_minutes=minutes)
        # The code's SMS speaks the conversation's language: one language per conversation.
        sms_language = conversation.language or holder.language
        # Sent after the commit: no transaction may stay open across a call to the outside
        # (on SQLite it would hold the only write lock). A failed send leaves no challenge
        # waiting for a code that never arrived, and does not count against the limit.
        text = messages.render("otp_sms", sms_language, otp=otp, minutes=minutes)
        sending = time.monotonic()
        try:
            await self._sms.send_sms(holder.mobile, text)
            took = time.monotonic() - sending
            self._sms_seconds = min(MAX_PADDING_S, 0.8 * self._sms_seconds + 0.2 * took)
        except SmsUnavailable:
            async with self._uow() as tx:
                current = await tx.challenges.get(conversation_id)
                if current is not None and current.otp_hash == challenge.otp_hash:
                    await tx.challenges.delete(conversation_id)
                    await tx.commit()
            raise
        async with self._uow() as tx:
            await tx.challenges.record_send(sso_id, now, conversation_id)
            await tx.commit()
        return LinkStarted(sso_id=sso_id, valid_minutes=minutes)

    async def verify(self, conversation_id: str, typed_otp: str) -> Resident:
        """Check the code typed in this conversation and link it to the SSO ID on success.

        Raises NoPendingLink, InvalidOtpFormat (no attempt used), OtpIncorrect,
        OtpExpired, OtpAttemptsExceeded, UnknownSsoId.
        """
        otp = find_otp(typed_otp, OTP_LENGTH)
        async with self._uow() as tx:
            challenge = await tx.challenges.get(conversation_id)
            if challenge is None:
                raise NoPendingLink(conversation_id)
            if otp is None:
                raise InvalidOtpFormat(typed_otp)
            if self._clock.now() > challenge.expires_at:
                await tx.challenges.delete(conversation_id)
                await tx.commit()
                raise OtpExpired(conversation_id)
            await self._limits.refuse_if_locked(conversation_id, challenge.sso_id)
            if not self._matches(challenge, otp):
                if await self._limits.count_failure(conversation_id, challenge.sso_id):
                    await tx.challenges.delete(conversation_id)
                    await tx.commit()
                    raise OtpLockedOut(conversation_id)
                challenge.attempts_left -= 1
                if challenge.attempts_left <= 0:
                    await tx.challenges.delete(conversation_id)
                    await tx.commit()
                    raise OtpAttemptsExceeded(conversation_id)
                await tx.challenges.save(challenge)
                await tx.commit()
                raise OtpIncorrect(challenge.attempts_left)
            sso_id = challenge.sso_id

        holder = await self._sso.lookup(sso_id)
        if holder is None:
            raise UnknownSsoId(sso_id)
        async with self._uow() as tx:
            # Re-read under this transaction: a concurrent verify may have consumed the code.
            if await tx.challenges.get(conversation_id) is None:
                raise NoPendingLink(conversation_id)
            conversation = await get_conversation(tx, conversation_id)
            resident = await tx.residents.by_sso_id(sso_id)
            if resident is None:
                resident = Resident(
                    resident_id=secrets.token_hex(12),
                    sso_id=sso_id,
                    name=holder.name,
                    mobile=holder.mobile,
                    language=conversation.language or holder.language,
                    linked_at=self._clock.now(),
                )
                await tx.residents.add(resident)
            # An existing resident keeps their language: this chat's was perhaps only detected.
            conversation.resident_id = resident.resident_id
            await tx.conversations.update(conversation)
            await tx.challenges.delete(conversation_id)
            await tx.commit()
        return resident

    async def resend(self, conversation_id: str) -> LinkStarted:
        """Send a new code for the SSO ID this chat is linking ("the code did not come"),
        within the same limits as the first; the earlier code stays valid until it expires.
        Raises NoPendingLink when no code was asked for, and what `start` raises."""
        pending = await self.pending(conversation_id)
        if pending is None:
            raise NoPendingLink(conversation_id)
        return await self.start(conversation_id, pending.sso_id)

    async def pending(self, conversation_id: str) -> LinkChallenge | None:
        """The code this chat is waiting for, expired or not; None when there is none."""
        async with self._uow() as tx:
            return await tx.challenges.get(conversation_id)

    async def check_typed_code(self, conversation_id: str, text: str) -> str | None:
        """The outcome of a code typed while this chat waits for one, for the gateway to pass
        on instead of the code itself (so no code reaches the dialogue engine's tracker or
        logs): "verified", "wrong:<tries left>", "expired", "attempts_exceeded", "locked",
        "unavailable"; "none" for a message that is only a code when none is pending (one
        used or expired already, or sent to another chat: still a code, kept out too).
        None when `text` is not a code: no six digits, or a sentence whose six digits are
        not the pending code (a PIN code in a complaint)."""
        otp = find_otp(text, OTP_LENGTH)
        if otp is None:
            return None
        pending = await self.pending(conversation_id)
        if pending is None:
            return "none" if is_only_a_code(text) else None
        if not looks_like_a_code(text) and not self._matches(pending, otp):
            return None  # a long message: a code only if it is the right one (no try used)
        try:
            await self.verify(conversation_id, text)
        except OtpIncorrect as wrong:
            return f"wrong:{wrong.attempts_left}"
        except OtpExpired:
            return "expired"
        except OtpLockedOut:  # before its parent, OtpAttemptsExceeded
            return "locked"
        except OtpAttemptsExceeded:
            return "attempts_exceeded"
        except NoPendingLink:  # used by a concurrent turn in the meantime
            return "expired"
        except BotError:
            return "unavailable"
        return "verified"

    async def unlink(self, conversation_id: str) -> bool:
        """Detach this chat from its SSO ID. False when it was not linked."""
        async with self._uow() as tx:
            conversation = await get_conversation(tx, conversation_id)
            if conversation.resident_id is None:
                return False
            conversation.resident_id = None
            await tx.conversations.update(conversation)
            await tx.commit()
            return True

    def _matches(self, challenge: LinkChallenge, otp: str) -> bool:
        expected = self._hash(challenge.conversation_id, challenge.sso_id, otp)
        if hmac.compare_digest(expected, challenge.otp_hash):
            return True
        previous = challenge.previous_otp_hash
        still_valid = (
            challenge.previous_expires_at is not None
            and self._clock.now() <= challenge.previous_expires_at
        )
        return previous is not None and still_valid and hmac.compare_digest(expected, previous)

    def _hash(self, conversation_id: str, sso_id: str, otp: str) -> str:
        # Bound to the conversation and SSO ID so a stored hash cannot be replayed elsewhere.
        message = f"{conversation_id}|{sso_id}|{otp}".encode()
        return hmac.new(self._otp_key, message, hashlib.sha256).hexdigest()
