"""The core's exceptions. Adapters translate vendor errors into these (`raise ... from exc`);
actions map them to localised responses and routes to status codes, so a resident never
sees a stack trace or a vendor's error text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.model.billing import Biller


class BotError(Exception):
    """Base of every error the core raises on purpose."""


# --- linking an SSO ID -------------------------------------------------------------------
class InvalidSsoId(BotError):
    """The text cannot be an SSO ID (letters, digits, dots, 4-30 characters)."""


class UnknownSsoId(BotError):
    """No SSO ID by that name in the registry."""


class SsoUnavailable(BotError):
    """The SSO registry did not answer in time or failed."""


class NoPendingLink(BotError):
    """An OTP arrived but no code was sent to this conversation (or it was already used)."""


class InvalidOtpFormat(BotError):
    """The reply holds no 6-digit code; no attempt is used up."""


class OtpIncorrect(BotError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"incorrect code, {attempts_left} attempts left")
        self.attempts_left = attempts_left


class OtpExpired(BotError):
    """The code is older than its validity (5 minutes)."""


class OtpAttemptsExceeded(BotError):
    """Too many wrong codes: the challenge is void and a new code is needed."""


class TooManyOtpRequests(BotError):
    """Resend limit reached for this SSO ID in the current window."""


class NotLinked(BotError):
    """The use case needs a linked SSO ID and this conversation has none."""


class SmsUnavailable(BotError):
    """The SMS provider refused or failed to send."""


# --- bills ---------------------------------------------------------------------------------
class UnknownBiller(BotError):
    """No biller with that id (or name) for that utility."""


class AmbiguousBiller(UnknownBiller):
    """What was typed names more than one biller ("Ajmer": TP Ajmer serves the city, AVVNL
    the rest of the district): the resident must pick."""

    def __init__(self, typed: str, candidates: list[Biller], town: str | None = None) -> None:
        super().__init__(typed)
        self.typed = typed
        self.candidates = candidates
        self.town = town  # the shared town named, when that is what made it ambiguous


class InvalidConsumerNumber(BotError):
    """The number breaks the biller's rule (length, characters)."""

    def __init__(self, biller: Biller, typed: str) -> None:
        super().__init__(f"invalid consumer number for {biller.biller_id}")
        self.biller = biller
        self.typed = typed


class ConsumerNotFound(BotError):
    """The biller has no account with that consumer number."""


class BillerUnavailable(BotError):
    """The biller (or BBPS) timed out or failed: try again in a few minutes."""


class NothingDue(BotError):
    """The account has no outstanding amount, so there is nothing to pay."""


# --- payments ------------------------------------------------------------------------------
class SupplyDeskUnavailable(BotError):
    """The electricity company's outage and complaint system timed out or failed."""


class UnknownConnection(BotError):
    """The electricity company knows no connection by that consumer number."""


class SupplyComplaintNotFound(BotError):
    """No power complaint of this resident by that number (or none at all)."""


class PaymentGatewayUnavailable(BotError):
    """The payment gateway failed to create a link."""


class SignatureInvalid(BotError):
    """A webhook's signature does not match its body: forged or corrupted."""


class UnknownPaymentLink(BotError):
    """A payment event names a link we never created."""


class ReceiptNotFound(BotError):
    """No receipt with that number for this resident."""


# --- conversation ----------------------------------------------------------------------------
class DialogueUnavailable(BotError):
    """The dialogue engine (Rasa) or its action server did not answer."""


# --- channels ----------------------------------------------------------------------------------
class DeliveryFailed(BotError):
    """The provider surely did not take the message (refused, 429/5xx after retries): it is
    safe to try again later. `permanent` when trying again cannot help (blocked the bot,
    invalid number, no template for this message)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class DeliveryUncertain(BotError):
    """The provider did not answer in time: the message may or may not have gone out."""


# --- abuse limits --------------------------------------------------------------------------
class OtpLockedOut(OtpAttemptsExceeded):
    """Too many wrong codes for this SSO ID within an hour: linking it is locked for a while."""


# --- support: handoff, agents, complaints ---------------------------------------------------
class HandoffNotHeld(BotError):
    """The conversation is not held by this agent (released, or taken by someone else)."""


class AgentExists(BotError):
    """An agent with that username already exists."""


class InvalidAgentCredentials(BotError):
    """A username or password the console refuses (unknown, wrong, or too weak)."""


class ComplaintNotFound(BotError):
    """No complaint with that id belongs to this resident."""


class InvalidComplaint(BotError):
    """A complaint the resident cannot raise: an unknown payment, no payment for a
    transaction complaint, or an empty description."""


class EffectUncertain(BotError):
    """A side effect of this message was started before and never finished (its process
    died mid-way): it may have happened, so it is not done again."""


# --- email (issue 16) --------------------------------------------------------------------------
class InvalidEmail(BotError):
    """The text holds no usable email address."""


class NoPendingEmail(BotError):
    """No email confirmation code is waiting in this conversation."""


class TooManyEmailCodes(BotError):
    """Enough codes went out lately (to this resident or this address): try again later."""


class EmailUnavailable(BotError):
    """The mail server did not take the message."""
