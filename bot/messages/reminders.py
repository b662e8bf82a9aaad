"""Reminder texts, sent outside a turn. Part of the one catalog, `bot.messages.CATALOG`.

Every reminder says the amount, the due date, the biller and the masked consumer number,
and how to pay in one step: reply 1 or PAY on WhatsApp and SMS (the dispatcher remembers
"Pay now" as the option offered), a "Pay now" button on the web chat and Telegram.
"""

from __future__ import annotations

from bot.model.residents import Language

# Every reminder ends with what we never ask for (issue 16): fake "your power will be cut
# tonight" messages imitate reminders. Short, because reminders go out by SMS: each fits one
# GSM-7 segment in English and two UCS-2 segments in Hindi (tests/unit/test_reminder_texts.py).
REMINDER_SAFETY: dict[Language, str] = {
    Language.EN: "We never ask for card details.",
    Language.HI: "हम कार्ड नंबर नहीं माँगते।",
}


def _with_safety(texts: dict[Language, str]) -> dict[Language, str]:
    return {language: f"{text} {REMINDER_SAFETY[language]}" for language, text in texts.items()}


REMINDER_TEXTS: dict[str, dict[Language, str]] = {
    "reminder_new_bill": _with_safety(
        {
            Language.EN: (
                "New {biller} bill for consumer number {consumer}: {amount}, due {due}. "
                "Reply 1 or PAY to pay it now."
            ),
            Language.HI: (
                "{biller} का नया बिल, खाता {consumer}: {amount}, अंतिम तिथि {due}। "
                "भरने के लिए 1 या PAY लिखें।"
            ),
        }
    ),
    "reminder_before_due": _with_safety(
        {
            Language.EN: (
                "Reminder: your {biller} bill of {amount} for consumer number {consumer} is "
                "due on {due}. Reply PAY to pay it now."
            ),
            Language.HI: "याद दिलाना: {biller} खाता {consumer} का बिल {amount} {due} तक भरें। 1 या PAY लिखें।",
        }
    ),
    "reminder_due_day": _with_safety(
        {
            Language.EN: (
                "Your {biller} bill of {amount} for consumer number {consumer} is due today "
                "({due}). Reply PAY to pay it now."
            ),
            Language.HI: "{biller} खाता {consumer} का बिल {amount} आज ({due}) भरना है। 1 या PAY लिखें।",
        }
    ),
    "reminder_overdue": _with_safety(
        {
            Language.EN: (
                "Your {biller} bill of {amount} for consumer number {consumer} was due on "
                "{due}. Reply PAY now to avoid a late fee."
            ),
            Language.HI: (
                "{biller} खाता {consumer} का बिल {amount}, {due} से बकाया। "
                "विलंब शुल्क से बचें: 1 या PAY लिखें।"
            ),
        }
    ),
    # A planned power cut (bot/services/outage_notices.py), before it starts. {period} is
    # one of the two below, {area} "Area: …" or nothing; the reason is the company's own
    # words (clipped on SMS so that a notice stays within 2 GSM-7 / 3 UCS-2 segments).
    "reminder_planned_outage": _with_safety(
        {
            Language.EN: (
                "Planned power cut for {biller} consumer number {consumer}: {period}. "
                "{area}Reason: {reason}."
            ),
            Language.HI: (
                "{biller} खाता {consumer}: नियोजित बिजली कटौती {period}। {area}कारण: {reason}।"
            ),
        }
    ),
    "outage_period_same_day": {
        Language.EN: "{day}, {start} to {end} IST",
        Language.HI: "{day} को {start} से {end} IST तक",
    },
    "outage_period": {
        Language.EN: "{start_day} {start} to {end_day} {end} IST",
        Language.HI: "{start_day} {start} से {end_day} {end} IST तक",
    },
    "outage_area": {
        Language.EN: "Area: {area}. ",
        Language.HI: "क्षेत्र: {area}। ",
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
