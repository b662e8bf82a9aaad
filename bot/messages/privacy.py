"""Texts about residents' privacy said by the gateway itself (not by Rasa): the warning after
a secret was typed, and abuse-limit answers. Part of the one catalog, `bot.messages.CATALOG`."""

from __future__ import annotations

from bot.model.residents import Language

PRIVACY_TEXTS: dict[str, dict[Language, str]] = {
    "sensitive_warning": {
        Language.EN: (
            "For your safety I removed what looked like a password, card number, CVV or "
            "Aadhaar number from your message; it was not stored. Never share these in a "
            "chat: this assistant never needs them, and you pay only on the secure payment page."
        ),
        Language.HI: (
            "आपकी सुरक्षा के लिए आपके संदेश से पासवर्ड, कार्ड नंबर, CVV या आधार नंबर जैसी जानकारी "
            "हटा दी गई है; उसे सहेजा नहीं गया। इन्हें कभी चैट में न भेजें: इस सहायक को इनकी ज़रूरत "
            "नहीं होती, और भुगतान केवल सुरक्षित भुगतान पेज पर होता है।"
        ),
    },
}
