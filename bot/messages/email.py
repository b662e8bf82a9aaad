"""Email texts (issue 16): the confirmation code, receipts and reminders. Part of the one
catalog, `bot.messages.CATALOG`. Plain text, UTF-8: Hindi is sent as Hindi.

Every email says why it came and how to stop it (in the chat, "remove my email"), and that we
never ask for card details or passwords: a mail that imitates ours is how fraud begins.
"""

from __future__ import annotations

from bot.model.residents import Language

_FOOTER: dict[Language, str] = {
    Language.EN: (
        "\n\nYou get this because this address was added in the Rajasthan bill assistant "
        'chat. To stop, write "remove my email" in the chat. We never ask for card details, '
        "passwords or codes by email."
    ),
    Language.HI: (
        "\n\nयह ईमेल आपको इसलिए मिला क्योंकि यह पता राजस्थान बिल सहायक की चैट में जोड़ा गया था। "
        'बंद करने के लिए चैट में "मेरा ईमेल हटाओ" लिखें। हम ईमेल पर कभी कार्ड की जानकारी, '
        "पासवर्ड या कोड नहीं माँगते।"
    ),
}


def _with_footer(texts: dict[Language, str]) -> dict[Language, str]:
    return {language: text + _FOOTER[language] for language, text in texts.items()}


def _reminder(en: str, hi: str) -> dict[Language, str]:
    return _with_footer(
        {
            Language.EN: en + '\n\nTo pay, write "pay bill" in the chat.',
            Language.HI: hi + '\n\nभरने के लिए चैट में "बिल भरना है" लिखें।',
        }
    )


EMAIL_TEXTS: dict[str, dict[Language, str]] = {
    "email_code_subject": {
        Language.EN: "Your code for the Rajasthan bill assistant",
        Language.HI: "राजस्थान बिल सहायक के लिए आपका कोड",
    },
    # No footer: the address is not added yet. Someone who did not ask can simply ignore it.
    "email_code_text": {
        Language.EN: (
            "{code} is your code to get receipts and reminders at this address. "
            "Type it in the chat within {minutes} minutes. Never share it.\n\n"
            "If you did not ask for it, ignore this email: nothing changes without the code."
        ),
        Language.HI: (
            "{code} इस पते पर रसीदें और रिमाइंडर पाने का आपका कोड है। "
            "इसे {minutes} मिनट के अंदर चैट में लिखें। किसी को न बताएं।\n\n"
            "अगर आपने यह नहीं माँगा, तो इस ईमेल को अनदेखा करें: कोड के बिना कुछ नहीं बदलेगा।"
        ),
    },
    "email_receipt_subject": {
        Language.EN: "Receipt {receipt_number}: {amount} paid to {biller}",
        Language.HI: "रसीद {receipt_number}: {biller} को {amount} का भुगतान",
    },
    "email_receipt_text": _with_footer(
        {
            Language.EN: (
                "Payment received. {amount} paid to {biller} for consumer number {consumer}. "
                "Receipt no. {receipt_number}, transaction ref {transaction}. "
                "The receipt is attached as a PDF."
            ),
            Language.HI: (
                "भुगतान मिल गया। {biller} को उपभोक्ता संख्या {consumer} के लिए {amount} जमा हुए। "
                "रसीद संख्या {receipt_number}, लेन-देन संदर्भ {transaction}। "
                "रसीद PDF के रूप में साथ लगी है।"
            ),
        }
    ),
    # A planned power cut's notice goes as the chat's text, with this subject and the footer.
    "email_outage_subject": {
        Language.EN: "Planned power cut: {biller} connection {consumer}",
        Language.HI: "बिजली की तय कटौती: {biller} कनेक्शन {consumer}",
    },
    "email_footer": _FOOTER,
    "email_reminder_subject": {
        Language.EN: "{biller} bill {consumer}: {amount} due {due}",
        Language.HI: "{biller} बिल {consumer}: {amount}, अंतिम तिथि {due}",
    },
    "email_reminder_new_bill": _reminder(
        "New {biller} bill for consumer number {consumer}: {amount}, due {due}.",
        "{biller} का नया बिल, खाता {consumer}: {amount}, अंतिम तिथि {due}।",
    ),
    "email_reminder_before_due": _reminder(
        "Reminder: your {biller} bill for consumer number {consumer}, {amount}, is due {due}.",
        "याद दिला दें: खाता {consumer} का {biller} बिल, {amount}, {due} तक भरना है।",
    ),
    "email_reminder_due_day": _reminder(
        "Your {biller} bill for consumer number {consumer}, {amount}, is due today ({due}).",
        "खाता {consumer} का {biller} बिल, {amount}, आज ({due}) भरना है।",
    ),
    "email_reminder_overdue": _reminder(
        "Your {biller} bill for consumer number {consumer}, {amount}, was due {due} and is "
        "still unpaid.",
        "खाता {consumer} का {biller} बिल, {amount}, {due} को देय था और अभी बाकी है।",
    ),
}
