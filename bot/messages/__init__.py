"""Texts the bot sends outside a conversation turn (OTP SMS, receipts, payment news),
keyed by (message, language). Texts said inside a turn live in the Rasa domain instead."""

from __future__ import annotations

from bot.messages.channels import CHANNEL_TEXTS
from bot.messages.dialogue import DIALOGUE_TEXTS
from bot.messages.email import EMAIL_TEXTS
from bot.messages.privacy import PRIVACY_TEXTS
from bot.messages.reminders import REMINDER_TEXTS
from bot.messages.supply import SUPPLY_TEXTS
from bot.messages.support import SUPPORT_TEXTS
from bot.messages.verification import VERIFICATION_TEXTS
from bot.model.residents import Language

# Hindi SMS travel as UCS-2 (70 characters a segment), so the Hindi OTP text stays short.
_TURNLESS_TEXTS: dict[str, dict[Language, str]] = {
    "otp_sms": {
        Language.EN: (
            "{otp} is your code to link your SSO ID with the Rajasthan bill assistant. "
            "Valid {minutes} min. Never share it."
        ),
        Language.HI: "{otp} SSO ID जोड़ने का कोड है। {minutes} मिनट मान्य। किसी को न बताएं।",
    },
    "payment_received": {
        Language.EN: (
            "Payment received. {amount} paid to {biller} for consumer number {consumer}. "
            "Receipt no. {receipt_number}, transaction ref {transaction}."
        ),
        Language.HI: (
            "भुगतान मिल गया। {biller} को उपभोक्ता संख्या {consumer} के लिए {amount} जमा हुए। "
            "रसीद संख्या {receipt_number}, लेन-देन संदर्भ {transaction}।"
        ),
    },
    "payment_failed": {
        Language.EN: (
            "Your payment of {amount} to {biller} did not go through. No money was taken for "
            "this bill. You can try again with the same link: {link}"
        ),
        Language.HI: (
            "{biller} को {amount} का भुगतान पूरा नहीं हुआ। इस बिल के लिए कोई पैसा नहीं कटा। "
            "आप इसी लिंक से दोबारा कोशिश कर सकते हैं: {link}"
        ),
    },
    "payment_expired": {
        Language.EN: (
            "The payment link for your {biller} bill ({amount}) has expired. "
            'Type "pay bill" to get a new one.'
        ),
        Language.HI: (
            "आपके {biller} बिल ({amount}) का भुगतान लिंक समाप्त हो गया है। "
            'नया लिंक पाने के लिए "बिल भरना है" लिखें।'
        ),
    },
    "receipt_button": {
        Language.EN: "Payment history",
        Language.HI: "भुगतान इतिहास",
    },
}


CATALOG: dict[str, dict[Language, str]] = {
    **_TURNLESS_TEXTS,
    **CHANNEL_TEXTS,
    **DIALOGUE_TEXTS,
    **PRIVACY_TEXTS,
    **SUPPORT_TEXTS,
    **SUPPLY_TEXTS,
    **REMINDER_TEXTS,
    **VERIFICATION_TEXTS,
    **EMAIL_TEXTS,
}


def render(message: str, language: Language, **values: object) -> str:
    """The catalog text for (message, language) with `values` filled in."""
    return CATALOG[message][language].format(**values)
