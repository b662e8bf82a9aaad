"""The limits on asking for and typing linking codes (README, "Linking codes: abuse limits").

What they must stop: flooding a holder's phone with codes, guessing a code, and learning
which SSO IDs exist. What they must never do: let a stranger lock a resident out of linking
from their own chat. So every lock is keyed by the chat that earned it, and the caps shared
by every chat of one SSO ID (codes per day, codes per mobile per hour) stop only chats that
are not on the holder's own phone.

Unknown SSO IDs count exactly as known ones (a code is "sent" to them too, to nobody), so
no limit answers differently for an SSO ID that exists.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from bot.errors import OtpLockedOut, TooManyOtpRequests
from bot.model.residents import Channel, Conversation
from bot.ports import RateCounter, UnitOfWork

# Per chat and SSO ID: codes asked (a resend counts) in a window.
MAX_SENDS = 3
SEND_WINDOW = timedelta(minutes=30)
# Per chat: different SSO IDs asked for in an hour (a typo or two, not a list of guesses).
MAX_SSO_IDS_PER_CHAT = 3
SSO_ID_WINDOW = timedelta(hours=1)
# Per SSO ID, from every chat not on the holder's own phone: codes a day. Bounds the SMS a
# stranger can make the holder's phone receive, and online guessing: 10 codes x 3 tries =
# 30 guesses a day at a 6-digit code, 3 in 100,000.
MAX_SENDS_PER_SSO_ID_PER_DAY = 10
DAY = timedelta(hours=24)
# Per mobile number, whichever SSO IDs point at it (families share one), same exemption.
MAX_SENDS_PER_MOBILE = 5
LIMIT_WINDOW = timedelta(hours=1)
# Wrong codes per chat and SSO ID, across its codes, before that chat rests an hour.
MAX_FAILURES = 5
LOCKOUT = timedelta(hours=1)
# Channels whose address is a phone number that can be the holder's own.
PHONE_CHANNELS = frozenset({Channel.WHATSAPP, Channel.SMS})


def on_holders_phone(conversation: Conversation, holder_mobile: str | None) -> bool:
    """True when this chat comes from the mobile registered with the SSO ID: its codes go to
    the very phone that asks, so no stranger is flooding anyone."""
    return (
        holder_mobile is not None
        and conversation.channel in PHONE_CHANNELS
        and conversation.address == holder_mobile
    )


class LinkLimits:
    def __init__(self, counter: RateCounter | None, key: bytes) -> None:
        self._counter = counter
        self._key_bytes = key

    async def refuse_by_sends(
        self,
        tx: UnitOfWork,
        conversation: Conversation,
        sso_id: str,
        holder_mobile: str | None,
        now: datetime,
    ) -> None:
        """Raise TooManyOtpRequests when the codes already sent (the database's log) leave
        this chat none for `sso_id` now. `holder_mobile` is None for an unknown SSO ID."""
        chat = conversation.conversation_id
        sends = tx.challenges
        if await sends.sends_since(sso_id, now - SEND_WINDOW, conversation_id=chat) >= MAX_SENDS:
            raise TooManyOtpRequests(sso_id)
        if await sends.other_sso_ids_since(chat, sso_id, now - SSO_ID_WINDOW) >= (
            MAX_SSO_IDS_PER_CHAT
        ):
            raise TooManyOtpRequests(sso_id)
        if on_holders_phone(conversation, holder_mobile):
            return
        if await sends.sends_since(sso_id, now - DAY) >= MAX_SENDS_PER_SSO_ID_PER_DAY:
            raise TooManyOtpRequests(sso_id)

    async def refuse_by_counters(
        self, conversation: Conversation, sso_id: str, holder_mobile: str | None
    ) -> None:
        """Raise TooManyOtpRequests when the mobile's hourly cap is reached, counting this
        code. Outside any transaction: the counters may be in Redis."""
        if self._counter is None or on_holders_phone(conversation, holder_mobile):
            return
        # An unknown SSO ID counts as if it had a mobile of its own, so this cap too answers
        # alike whether the SSO ID exists.
        mobile = holder_mobile or f"none|{sso_id}"
        if await self._counter.hit(self._key("mobile", mobile), LIMIT_WINDOW) > (
            MAX_SENDS_PER_MOBILE
        ):
            raise TooManyOtpRequests(sso_id)

    async def refuse_if_locked(self, conversation_id: str, sso_id: str) -> None:
        lock = self._key("lock", f"{conversation_id}|{sso_id}")
        if self._counter is not None and await self._counter.peek(lock):
            raise OtpLockedOut(sso_id)

    async def count_failure(self, conversation_id: str, sso_id: str) -> bool:
        """Count a wrong code typed in this chat for `sso_id`; True when that locks it."""
        if self._counter is None:
            return False
        pair = f"{conversation_id}|{sso_id}"
        failures = await self._counter.hit(self._key("failures", pair), LIMIT_WINDOW)
        if failures < MAX_FAILURES:
            return False
        await self._counter.hit(self._key("lock", pair), LOCKOUT)
        return True

    def _key(self, kind: str, value: str) -> str:
        # Counter keys live in Redis: keyed hashes, never the SSO ID or mobile themselves.
        digest = hmac.new(self._key_bytes, f"{kind}|{value}".encode(), hashlib.sha256)
        return f"otp-{kind}:{digest.hexdigest()[:32]}"
