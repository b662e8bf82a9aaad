"""Reminder texts, sent outside a turn. Part of the one catalog, `bot.messages.CATALOG`.

Every reminder says the amount, the due date, the biller and the masked consumer number,
and how to pay in one step: reply 1 or PAY on WhatsApp and SMS (the dispatcher remembers
"Pay now" as the option offered), a "Pay now" button on the web chat and Telegram.
"""

from __future__ import annotations

from bot.model.residents import Language

REMINDER_TEXTS: dict[str, dict[Language, str]] = {
    "reminder_new_bill": {
        Language.EN: (
            "New {biller} bill for consumer number {consumer}: {amount}, due {due}. "
            "Reply 1 or PAY to pay it now."
        ),
        Language.HI: (
            "उपभोक्ता संख्या {consumer} का {biller} का नया बिल: {amount}, अंतिम तिथि {due}। "
            "अभी भरने के लिए 1 या PAY लिखें।"
        ),
    },
    "reminder_before_due": {
        Language.EN: (
            "Reminder: your {biller} bill of {amount} for consumer number {consumer} is due "
            "on {due}. Reply PAY to pay it now."
        ),
        Language.HI: (
            "याद दिलाना: उपभोक्ता संख्या {consumer} का {biller} बिल {amount} {due} तक भरना है। "
            "अभी भरने के लिए 1 या PAY लिखें।"
        ),
    },
    "reminder_due_day": {
        Language.EN: (
            "Your {biller} bill of {amount} for consumer number {consumer} is due today "
            "({due}). Reply PAY to pay it now."
        ),
        Language.HI: (
            "उपभोक्ता संख्या {consumer} का {biller} बिल {amount} आज ({due}) भरना है। "
            "अभी भरने के लिए 1 या PAY लिखें।"
        ),
    },
    "reminder_overdue": {
        Language.EN: (
            "Your {biller} bill of {amount} for consumer number {consumer} was due on {due} "
            "and is still unpaid. Reply PAY to pay it now and avoid a late fee."
        ),
        Language.HI: (
            "उपभोक्ता संख्या {consumer} का {biller} बिल {amount} {due} को देय था और अभी बाकी है। "
            "विलंब शुल्क से बचने के लिए अभी भरें: 1 या PAY लिखें।"
        ),
    },
    # Payment news between "authorised" and "captured" (Razorpay payment.authorized).
    "payment_pending": {
        Language.EN: (
            "Your payment of {amount} to {biller} is being processed. "
            "I will tell you here as soon as it is confirmed."
        ),
        Language.HI: ("{biller} को {amount} का आपका भुगतान प्रक्रिया में है। पुष्टि होते ही मैं यहीं बताऊँगा।"),
    },
    "reminder_pay_button": {
        Language.EN: "Pay now",
        Language.HI: "अभी भरें",
    },
}
